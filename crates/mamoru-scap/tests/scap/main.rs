//! The mamoru-scap integration tests, one binary (each file below was its own test binary; one link is much
//! cheaper on 2 cores).

#[path = "../common/mod.rs"]
mod common;

mod corrupt;
mod roundtrip;
mod samples;
mod sysdig_write;
