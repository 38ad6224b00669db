//! Errors of response actions and drift control.

use std::io;
use std::path::PathBuf;

/// Why a response action or an enforcement mechanism failed.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// A configuration value is invalid; `key` is its dotted path (`response.actions[0].match.min_priority`).
    #[error("invalid configuration at `{key}`: {reason}")]
    Config { key: String, reason: String },
    /// The alert names no process (or no container) to act on.
    #[error("the alert has no subject to act on: {0}")]
    NoSubject(&'static str),
    /// The pid now belongs to another process than the one the alert is about (or the start time is unknown).
    #[error(
        "pid {pid} is not the alerted process: it started at {actual_ns} ns, the alert's process at {expected_ns} ns"
    )]
    PidReused { pid: i64, expected_ns: u64, actual_ns: u64 },
    /// The process is gone.
    #[error("process {0} no longer exists")]
    NoSuchProcess(i64),
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    /// Reading a file failed.
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file had unexpected content.
    #[error("{path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    /// The container runtime refused or failed.
    #[error("container runtime: {0}")]
    Runtime(String),
    /// A BPF step (open, load, attach, map update) failed.
    #[error("BPF {step}: {source}")]
    Bpf {
        step: &'static str,
        #[source]
        source: libbpf_rs::Error,
    },
    /// The requested enforcement mechanism is not available on this node.
    #[error("enforcement mechanism {mechanism} unavailable: {reason}")]
    Unavailable { mechanism: &'static str, reason: String },
}

impl ResponseError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> ResponseError {
        let what = what.into();
        move |source| ResponseError::Io { what, source }
    }

    pub(crate) fn last_os(what: impl Into<String>) -> ResponseError {
        ResponseError::Io {
            what: what.into(),
            source: io::Error::last_os_error(),
        }
    }

    pub(crate) fn bpf(step: &'static str) -> impl FnOnce(libbpf_rs::Error) -> ResponseError {
        move |source| ResponseError::Bpf { step, source }
    }

    pub(crate) fn config(key: impl Into<String>, reason: impl Into<String>) -> ResponseError {
        ResponseError::Config {
            key: key.into(),
            reason: reason.into(),
        }
    }
}
