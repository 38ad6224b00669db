//! The startup probe: which enforcement mechanisms this node allows, and which one drift control uses.

use super::bpf::{BpfDrift, BpfProgram};
use super::fanotify::probe_fanotify;
use crate::config::{DriftConfig, MechanismChoice, MemfdMode};
use std::fmt;
use std::fs;

/// An enforcement mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// BPF LSM program on `bprm_check_security`: exec fails with EPERM.
    BpfLsm,
    /// fanotify `FAN_OPEN_EXEC_PERM` on container root filesystems: exec fails with EPERM.
    Fanotify,
    /// `tp_btf/sched_process_exec` + `bpf_send_signal(SIGKILL)`: the task dies before the new image runs.
    BpfKill,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::BpfLsm => "bpf_lsm",
            Mechanism::Fanotify => "fanotify",
            Mechanism::BpfKill => "bpf_kill",
        }
    }
}

/// Whether one mechanism works here, and why (not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MechanismStatus {
    pub mechanism: Mechanism,
    pub available: bool,
    pub detail: String,
}

/// The probe's findings and the choice made from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// Strongest first.
    pub statuses: Vec<MechanismStatus>,
    /// The mechanism for new binaries in the writable layer; None when none is available.
    pub new_binary: Option<Mechanism>,
    /// The mechanism for memfd execs; None when disabled or unavailable.
    pub memfd: Option<Mechanism>,
    /// Why the choice is what it is.
    pub reason: String,
}

impl ProbeReport {
    pub fn status(&self, m: Mechanism) -> Option<&MechanismStatus> {
        self.statuses.iter().find(|s| s.mechanism == m)
    }

    fn available(&self, m: Mechanism) -> bool {
        self.status(m).is_some_and(|s| s.available)
    }
}

impl fmt::Display for ProbeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |m: Option<Mechanism>| m.map_or("none", Mechanism::name);
        writeln!(
            f,
            "drift control: new binaries -> {}, memfd execs -> {} ({})",
            show(self.new_binary),
            show(self.memfd),
            self.reason
        )?;
        for s in &self.statuses {
            writeln!(
                f,
                "  {:<9} {:<13} {}",
                s.mechanism.name(),
                if s.available { "available" } else { "unavailable" },
                s.detail
            )?;
        }
        Ok(())
    }
}

/// Probes every mechanism (loading and unloading each BPF program, opening a fanotify group) and chooses.
pub fn probe(cfg: &DriftConfig) -> ProbeReport {
    let statuses = vec![probe_lsm(), probe_fanotify_status(), probe_bpf_kill()];
    choose(cfg, statuses)
}

/// The choice, from the statuses (separate so it is testable without a kernel).
pub(crate) fn choose(cfg: &DriftConfig, statuses: Vec<MechanismStatus>) -> ProbeReport {
    let mut report = ProbeReport {
        statuses,
        new_binary: None,
        memfd: None,
        reason: String::new(),
    };
    let want_memfd = cfg.memfd != MemfdMode::Off;
    let lsm = report.available(Mechanism::BpfLsm);
    let fan = report.available(Mechanism::Fanotify);
    let kill = report.available(Mechanism::BpfKill);
    let pick = |ok: bool, m: Mechanism| ok.then_some(m);
    let (new_binary, memfd, reason) = match cfg.mechanism {
        MechanismChoice::Auto if lsm => (
            Some(Mechanism::BpfLsm),
            Some(Mechanism::BpfLsm),
            "BPF LSM loads: strongest",
        ),
        MechanismChoice::Auto if fan => (
            Some(Mechanism::Fanotify),
            pick(kill, Mechanism::BpfKill),
            "BPF LSM unavailable; fanotify denies new binaries with EPERM; memfd execs are not on a filesystem \
             fanotify can mark, so the exec-kill program handles them",
        ),
        MechanismChoice::Auto => (
            pick(kill, Mechanism::BpfKill),
            pick(kill, Mechanism::BpfKill),
            "BPF LSM and fanotify unavailable: exec-kill program",
        ),
        MechanismChoice::BpfLsm => (
            pick(lsm, Mechanism::BpfLsm),
            pick(lsm, Mechanism::BpfLsm),
            "configured: bpf_lsm",
        ),
        MechanismChoice::Fanotify => (
            pick(fan, Mechanism::Fanotify),
            pick(kill, Mechanism::BpfKill),
            "configured: fanotify (memfd execs through the exec-kill program)",
        ),
        MechanismChoice::BpfKill => (
            pick(kill, Mechanism::BpfKill),
            pick(kill, Mechanism::BpfKill),
            "configured: bpf_kill",
        ),
    };
    report.new_binary = new_binary;
    report.memfd = if want_memfd { memfd } else { None };
    report.reason = reason.to_string();
    report
}

fn probe_lsm() -> MechanismStatus {
    let lsm_list = fs::read_to_string("/sys/kernel/security/lsm");
    let listed = match &lsm_list {
        Ok(list) => format!("active LSMs: {}", list.trim()),
        Err(_) => "securityfs not mounted at /sys/kernel/security, active LSM list unknown".to_string(),
    };
    if let Ok(list) = &lsm_list {
        if !list.split(',').any(|l| l.trim() == "bpf") {
            return MechanismStatus {
                mechanism: Mechanism::BpfLsm,
                available: false,
                detail: format!("{listed}: `bpf` is not among them (boot with lsm=...,bpf)"),
            };
        }
    }
    let (available, detail) = match BpfDrift::load_only(BpfProgram::Lsm) {
        Ok(()) => (true, format!("{listed}; lsm/bprm_check_security loads and attaches")),
        Err(e) => (
            false,
            format!(
                "{listed}; loading lsm/bprm_check_security failed: {e}{}",
                if e.to_string().contains("Operation not permitted") {
                    " (as root, EPERM at load means the kernel refuses BPF trampoline programs: lsm/fentry)"
                } else {
                    ""
                }
            ),
        ),
    };
    MechanismStatus {
        mechanism: Mechanism::BpfLsm,
        available,
        detail,
    }
}

fn probe_fanotify_status() -> MechanismStatus {
    let (available, detail) = match probe_fanotify() {
        Ok(()) => (
            true,
            "fanotify_init(FAN_CLASS_CONTENT) and a FAN_OPEN_EXEC_PERM mark work".to_string(),
        ),
        Err(e) => (false, e.to_string()),
    };
    MechanismStatus {
        mechanism: Mechanism::Fanotify,
        available,
        detail,
    }
}

fn probe_bpf_kill() -> MechanismStatus {
    let (available, detail) = match BpfDrift::load_only(BpfProgram::ExecKill) {
        Ok(()) => (
            true,
            "tp_btf/sched_process_exec loads and attaches; bpf_send_signal(SIGKILL)".to_string(),
        ),
        Err(e) => (false, format!("loading tp_btf/sched_process_exec failed: {e}")),
    };
    MechanismStatus {
        mechanism: Mechanism::BpfKill,
        available,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(lsm: bool, fan: bool, kill: bool) -> Vec<MechanismStatus> {
        [
            (Mechanism::BpfLsm, lsm),
            (Mechanism::Fanotify, fan),
            (Mechanism::BpfKill, kill),
        ]
        .into_iter()
        .map(|(mechanism, available)| MechanismStatus {
            mechanism,
            available,
            detail: String::new(),
        })
        .collect()
    }

    #[test]
    fn auto_picks_the_strongest() {
        let cfg = DriftConfig::default();
        let r = choose(&cfg, statuses(true, true, true));
        assert_eq!(
            (r.new_binary, r.memfd),
            (Some(Mechanism::BpfLsm), Some(Mechanism::BpfLsm))
        );
        let r = choose(&cfg, statuses(false, true, true));
        assert_eq!(
            (r.new_binary, r.memfd),
            (Some(Mechanism::Fanotify), Some(Mechanism::BpfKill))
        );
        let r = choose(&cfg, statuses(false, false, true));
        assert_eq!(
            (r.new_binary, r.memfd),
            (Some(Mechanism::BpfKill), Some(Mechanism::BpfKill))
        );
        let r = choose(&cfg, statuses(false, false, false));
        assert_eq!((r.new_binary, r.memfd), (None, None));
    }

    #[test]
    fn explicit_choice_is_not_silently_replaced() {
        let cfg = DriftConfig {
            mechanism: MechanismChoice::BpfLsm,
            ..DriftConfig::default()
        };
        let r = choose(&cfg, statuses(false, true, true));
        assert_eq!((r.new_binary, r.memfd), (None, None));
        let cfg = DriftConfig {
            memfd: MemfdMode::Off,
            ..DriftConfig::default()
        };
        let r = choose(&cfg, statuses(false, true, true));
        assert_eq!(r.memfd, None);
    }
}
