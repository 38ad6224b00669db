//! The mamoru-records integration tests, one binary (each file below was its own test binary; one link is much
//! cheaper on 2 cores).

mod containers;
mod fields;
mod framing;
