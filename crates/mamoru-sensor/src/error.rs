//! Errors of the sensor.

use thiserror::Error;

/// Why the sensor could not be probed, configured, started or read.
#[derive(Debug, Error)]
pub enum SensorError {
    /// The machine cannot run the sensor (kernel too old, no BTF, wrong architecture).
    #[error("eBPF sensor unsupported here: {0}")]
    Unsupported(String),
    /// The process lacks privileges; each entry names one missing capability.
    #[error("eBPF sensor needs {}: run as root or grant the capabilities", .missing.join(", "))]
    MissingPrivileges { missing: Vec<String> },
    /// A configuration value is out of range.
    #[error("invalid sensor configuration: {0}")]
    Config(String),
    /// A syscall name, number or event code does not exist.
    #[error("unknown syscall selector: {0}")]
    UnknownSyscall(String),
    /// libbpf failed at one stage (open, load, attach, map access).
    #[error("eBPF {stage} failed: {source}")]
    Bpf {
        stage: &'static str,
        #[source]
        source: libbpf_rs::Error,
    },
    /// A system call of the user side failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl SensorError {
    pub(crate) fn bpf(stage: &'static str) -> impl FnOnce(libbpf_rs::Error) -> SensorError {
        move |source| SensorError::Bpf { stage, source }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SensorError {
        let what = what.into();
        move |source| SensorError::Io { what, source }
    }
}
