//! The mamoru-inputs integration tests, one binary (each file below was its own test binary; one link is much
//! cheaper on 2 cores).

#[path = "../common/mod.rs"]
mod common;

mod cloudtrail;
mod cloudtrail_sqs;
mod docs_config;
mod gcp;
mod github;
mod k8s_audit;
mod okta;
