//! What live detection and live capture share: which syscalls the kernel side must report, the initial state read
//! from `/proc`, and the SIGINT/SIGTERM stop flag.

use anyhow::{bail, Context, Result};
use mamoru_event::{ppm_sc, PPM_EVENT_MAX};
use mamoru_sensor::{Sensor, SyscallSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The syscalls the state engine needs whatever the rules say: process lifecycle, fd creation and destruction,
/// identity and namespace changes (libsinsp's state set). Without them proc.*, fd.* and user.* would go stale.
pub const STATE_SYSCALLS: &[&str] = &[
    "accept",
    "accept4",
    "bind",
    "bpf",
    "capset",
    "chdir",
    "chmod",
    "chroot",
    "clone",
    "clone3",
    "close",
    "connect",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fcntl",
    "fork",
    "inotify_init",
    "inotify_init1",
    "io_uring_setup",
    "kill",
    "link",
    "linkat",
    "listen",
    "memfd_create",
    "mkdir",
    "mkdirat",
    "mount",
    "open",
    "open_by_handle_at",
    "openat",
    "openat2",
    "pidfd_open",
    "pipe",
    "pipe2",
    "prctl",
    "prlimit64",
    "ptrace",
    "recvfrom",
    "recvmsg",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "sendmsg",
    "sendto",
    "setgid",
    "setns",
    "setpgid",
    "setregid",
    "setresgid",
    "setresuid",
    "setreuid",
    "setrlimit",
    "setsid",
    "setuid",
    "shutdown",
    "signalfd",
    "signalfd4",
    "socket",
    "socketpair",
    "symlink",
    "symlinkat",
    "tgkill",
    "timerfd_create",
    "tkill",
    "umount2",
    "unlink",
    "unlinkat",
    "unshare",
    "userfaultfd",
    "vfork",
];

/// State syscalls the kernel may leave out when they change nothing in the state (send/recv on a TCP socket whose
/// connection user space already knows, failed calls): they keep UDP and pre-existing sockets' tuples up to date,
/// but a busy TCP connection would otherwise cost an event per call. A rule that needs one of them (its event
/// code is in the ruleset's set) turns it back into a full report below.
const STATE_ONLY_SOCKET_IO: &[&str] = &["recvfrom", "recvmsg", "sendmsg", "sendto"];

/// The syscalls to report: the state set plus every syscall an active rule's event codes name. Synthetic codes
/// (generic syscalls, `PPM_EVENT_MAX + ppm_sc`) are mapped back to their syscall.
pub fn syscall_set(needed_codes: &[bool]) -> Result<SyscallSet> {
    let names: Vec<&str> = STATE_SYSCALLS
        .iter()
        .copied()
        .filter(|n| mamoru_sensor::syscall_by_name(n).is_some())
        .collect();
    let mut set = SyscallSet::none();
    for name in names {
        let nr = mamoru_sensor::syscall_by_name(name)
            .map(|s| s.nr)
            .context("state syscall set")?;
        if STATE_ONLY_SOCKET_IO.contains(&name) {
            set.insert_state_only(nr).context("state syscall set")?;
        } else {
            set.insert(nr).context("state syscall set")?;
        }
    }
    let mut event_codes = Vec::new();
    for (code, needed) in needed_codes.iter().enumerate() {
        if !needed {
            continue;
        }
        if code < PPM_EVENT_MAX as usize {
            event_codes.push(code as u16);
        } else if let Some(nr) = ppm_sc::x86_64_nr((code - PPM_EVENT_MAX as usize) as u16) {
            set.insert(nr).context("syscall filter")?;
        }
    }
    for nr in SyscallSet::from_event_codes(&event_codes)
        .context("rule syscall set")?
        .iter()
    {
        set.insert(nr).context("syscall filter")?;
    }
    Ok(set)
}

/// Fails with a message naming what is missing (kernel version, BTF, capabilities) when BPF cannot run here.
pub fn require_sensor() -> Result<()> {
    let report = Sensor::probe().context("probing the kernel for BPF support")?;
    if !report.ready() {
        bail!(
            "the eBPF sensor cannot run here (kernel {}): missing {}",
            report.kernel_release,
            report.missing().join(", ")
        );
    }
    Ok(())
}

/// A flag set by SIGINT or SIGTERM.
pub fn stop_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, flag.clone()).context("installing signal handlers")?;
    }
    Ok(flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nr(name: &str) -> u32 {
        mamoru_sensor::syscall_by_name(name).map(|s| s.nr).unwrap_or(u32::MAX)
    }

    #[test]
    fn socket_io_is_state_only_unless_a_rule_needs_it() {
        let set = syscall_set(&[]).expect("state set");
        for name in STATE_ONLY_SOCKET_IO {
            assert!(set.is_state_only(nr(name)), "{name}");
        }
        assert!(set.contains(nr("connect")) && !set.is_state_only(nr("connect")));
        // A rule on sendto's exit event (PPME_SOCKET_SENDTO_X) reports every sendto again.
        let sendto_x = mamoru_sensor::handler_event(nr("sendto")).expect("sendto has a handler") as usize;
        let mut needed = vec![false; sendto_x + 1];
        needed[sendto_x] = true;
        let set = syscall_set(&needed).expect("rule set");
        assert!(set.contains(nr("sendto")) && !set.is_state_only(nr("sendto")));
        assert!(set.is_state_only(nr("recvfrom")));
    }
}
