//! The wiring behind the `mamoru` command, as a library so that tests and benchmarks drive exactly what users run.
//!
//! Every source follows one path: events are decoded, the state engine is updated (syscall events), the source's
//! compiled ruleset evaluates the event, and matching rules become alerts rendered in Falco's schema. The live
//! sensor (`run`), capture files (`replay`) and JSON records (`replay --source`) differ only in where events come
//! from, so replaying a capture yields the alerts the live run gave.

pub mod agent_metrics;
pub mod config;
pub mod containers;
pub mod filter;
pub mod live;
pub mod live_sources;
pub mod pipeline;
pub mod response;
pub mod rulesets;
pub mod synth;
