//! Arbitrary bytes as a scap capture: read in both modes, written back with both compatibility settings, re-read.
//! Run with `cargo +nightly fuzz run read_scap` from `crates/mamoru-scap/fuzz` (seed the corpus with
//! `mkdir -p corpus/read_scap && cp /work/shared/corpus/scap/*.scap corpus/read_scap/`). On stable, the same
//! function runs over mutated samples: `cargo test -p mamoru-scap --test fuzz_stable -- --ignored`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamoru_scap::fuzzing::read_everything(data);
});
