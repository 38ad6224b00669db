//! Arbitrary bytes as audit/cloud records of every source (NDJSON, EventList, CloudTrail Records, gzip, ...).
//! Run with `cargo +nightly fuzz run read_records` from `crates/mamoru-records/fuzz`, seeding the corpus with
//! `mkdir -p corpus/read_records && cp ../tests/data/* corpus/read_records/`. On stable, the same function runs over
//! mutated fixtures: `MAMORU_FUZZ_SECS=300 cargo test -p mamoru-records --release --test fuzz_stable -- --ignored`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamoru_records::fuzzing::read_everything(data);
});
