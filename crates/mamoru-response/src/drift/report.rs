//! The alert raised for each drift detection or block, whichever mechanism saw it.

use super::container::ContainerMeta;
use super::probe::Mechanism;
use super::{fact, Verdict};
use crate::alert::{field_i64, field_opt_str, field_str, field_u64, mamoru_alert};
use mamoru_engine::{Alert, AlertSubject};
use mamoru_rules::loaded::Priority;

/// Which drift the exec is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftKind {
    /// An executable from the container's writable layer (Falco's "Drop and execute new binary in container").
    NewBinary,
    /// An exec of a memfd (fileless execution).
    Memfd,
}

impl DriftKind {
    pub fn from_facts(facts: u32) -> DriftKind {
        if facts & fact::MEMFD != 0 {
            DriftKind::Memfd
        } else {
            DriftKind::NewBinary
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            DriftKind::NewBinary => "mamoru drift: Drop and execute new binary in container",
            DriftKind::Memfd => "mamoru drift: Fileless execution via memfd in container",
        }
    }
}

/// One exec that drift control alerted on or blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftRecord {
    pub verdict: Verdict,
    pub mechanism: Mechanism,
    pub facts: u32,
    pub pid: i64,
    pub tid: i64,
    pub ppid: i64,
    pub uid: u32,
    /// Process name (`comm`) of the exec'ing task.
    pub comm: String,
    /// The executable: the path inside the container when known, else as passed to execve.
    pub exepath: String,
    pub exe_dev: u64,
    pub exe_ino: u64,
    pub container: Option<ContainerMeta>,
    /// What enforcing did (`EPERM`, `SIGKILL sent`, `SIGKILL failed: -3`), empty when only alerting.
    pub action: String,
}

/// The alert for one drift record: Critical when blocked, Warning when only detected.
pub fn drift_alert(rec: &DriftRecord) -> Alert {
    let kind = DriftKind::from_facts(rec.facts);
    let blocked = rec.verdict == Verdict::Block;
    let container_id = rec.container.as_ref().map(|c| c.id.as_str());
    let image = rec.container.as_ref().map(|c| c.image.as_str());
    let what = match kind {
        DriftKind::NewBinary => "Executable not in the container image",
        DriftKind::Memfd => "Fileless (memfd) executable",
    };
    let outcome = if blocked {
        format!("blocked by {} ({})", rec.mechanism.name(), rec.action)
    } else {
        format!("detected by {} (not blocked)", rec.mechanism.name())
    };
    let message = format!(
        "{what} run in container: {outcome} (proc.exepath={} proc.pid={} proc.ppid={} proc.name={} user.uid={} \
         container.id={} container.image.repository={} dev={} ino={})",
        rec.exepath,
        rec.pid,
        rec.ppid,
        rec.comm,
        rec.uid,
        container_id.unwrap_or("<unknown>"),
        image.unwrap_or("<unknown>"),
        rec.exe_dev,
        rec.exe_ino,
    );
    let fields = vec![
        field_str("proc.exepath", rec.exepath.clone()),
        field_i64("proc.pid", rec.pid),
        field_i64("thread.tid", rec.tid),
        field_i64("proc.ppid", rec.ppid),
        field_str("proc.name", rec.comm.clone()),
        field_u64("user.uid", u64::from(rec.uid)),
        field_opt_str("container.id", container_id),
        field_opt_str("container.image", image),
        field_opt_str(
            "k8s.ns.name",
            rec.container.as_ref().and_then(|c| c.namespace.as_deref()),
        ),
        field_u64("fd.dev", rec.exe_dev),
        field_u64("fd.ino", rec.exe_ino),
        field_str("mamoru.mechanism", rec.mechanism.name()),
        field_str("mamoru.verdict", if blocked { "blocked" } else { "detected" }),
        field_str("mamoru.action", rec.action.clone()),
    ];
    let subject = AlertSubject {
        pid: rec.pid,
        tid: rec.tid,
        start_time_ns: 0,
        container_id: container_id.map(str::to_owned),
    };
    mamoru_alert(
        kind.rule(),
        if blocked { Priority::Critical } else { Priority::Warning },
        &["mamoru", "drift", "container", "process", "mitre_execution"],
        message,
        fields,
        Some(subject),
    )
}
