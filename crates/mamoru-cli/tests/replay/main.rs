//! The mamoru-cli integration tests, one binary (each file below was its own test binary; one link is much
//! cheaper on 2 cores).

#[path = "../common/mod.rs"]
mod common;

mod config_file;
mod replay_cloud_rules;
mod replay_saas_rules;
mod replay_stable_rules;
mod sysdig_differential;
