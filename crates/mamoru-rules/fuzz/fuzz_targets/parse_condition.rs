#![no_main]

include!("../common.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    parse_condition(data);
});
