//! The mamoru-engine integration tests, one binary (each file below was its own test binary; one link is much
//! cheaper on 2 cores).

#[path = "../common/mod.rs"]
mod common;

mod compile_errors;
mod loader;
mod operators;
mod output;
mod ruleset;
