//! Response: what mamoru does about an alert, and drift control that stops new executables in containers.
//!
//! [`Responder`] runs the actions the `response:` configuration section ([`ResponseConfig`]) selects for an alert
//! by rule name, tag or priority — SIGKILL of the process through a pidfd checked against the process start time
//! (so a reused pid is never hit), SIGKILL of its process group, pause or stop of its container through the
//! runtime ([`ContainerRuntime`]) — and reports each action as an alert of its own (source `mamoru`, rule
//! `mamoru response: <action>`). [`drift::DriftControl`] detects executables that were not in a container's image
//! (Falco's "Drop and execute new binary in container") and memfd execs, and blocks them with the strongest
//! mechanism a startup probe finds: a BPF LSM program, fanotify exec permission events, or a BPF program that
//! kills the task before the new image runs.

mod alert;
pub mod config;
pub mod drift;
mod error;
pub mod process;
mod responder;
pub mod runtime;

mod skel {
    include!(concat!(env!("OUT_DIR"), "/drift.skel.rs"));
}

pub use alert::{mamoru_alert, SOURCE};
pub use config::{ActionKind, ActionRule, AlertSelector, DriftConfig, ResponseConfig};
pub use error::ResponseError;
pub use responder::{outcome_alert, ActionOutcome, Responder, ResponseWorker};
pub use runtime::{runtime_from_config, ContainerRuntime, CtrCli, RuncCli};
