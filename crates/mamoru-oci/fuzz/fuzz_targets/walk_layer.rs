//! Arbitrary bytes as an image layer (tar, gzip or zstd), plus references and manifests.
//! Run with `cargo +nightly fuzz run walk_layer` from `crates/mamoru-oci/fuzz`. On stable, the same function runs
//! over mutated archives: `MAMORU_FUZZ_SECS=300 cargo test -p mamoru-oci --release --test fuzz_stable -- --ignored`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamoru_oci::fuzzing::walk_everything(data);
});
