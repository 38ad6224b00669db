//! The x86_64 syscall table and the set of syscalls the kernel side reports.

use mamoru_event::{codes, event_info};

use crate::error::SensorError;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/syscalls.rs"));
}

/// Size of the kernel-side syscall filter: native numbers at or above it are never reported.
pub const MAX_SYSCALLS: usize = 512;

/// One x86_64 syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallInfo {
    /// Native (x86_64) number.
    pub nr: u32,
    pub name: &'static str,
    /// The driver-independent `ppm_sc` code (0 = unknown to scap).
    pub ppm_sc: u16,
    /// The scap exit event the sensor emits for it (`PPME_GENERIC_X` when there is no dedicated handler).
    pub exit_event: u16,
}

/// Every known x86_64 syscall, sorted by number.
pub fn syscalls() -> impl Iterator<Item = SyscallInfo> {
    generated::SYSCALLS.iter().map(|&(nr, name, ppm_sc)| SyscallInfo {
        nr,
        name,
        ppm_sc,
        exit_event: handler_event(nr).unwrap_or(codes::GENERIC_X),
    })
}

/// The syscall with native number `nr`.
pub fn syscall_by_nr(nr: u32) -> Option<SyscallInfo> {
    syscalls().find(|s| s.nr == nr)
}

/// The syscall called `name` (`"openat"`).
pub fn syscall_by_name(name: &str) -> Option<SyscallInfo> {
    syscalls().find(|s| s.name == name)
}

/// The exit event of the dedicated kernel handler of `nr`, if it has one.
pub fn handler_event(nr: u32) -> Option<u16> {
    generated::HANDLED.iter().find(|(n, _)| *n == nr).map(|(_, code)| *code)
}

/// Native numbers with a dedicated kernel handler.
pub(crate) fn handled_numbers() -> impl Iterator<Item = u32> {
    generated::HANDLED.iter().map(|(nr, _)| *nr)
}

/// Filter map value: report every call.
pub(crate) const FILTER_REPORT: u8 = 1;
/// Filter map value: report for the user-space state engine only.
pub(crate) const FILTER_STATE_ONLY: u8 = 2;

/// Which syscalls the kernel side reports, by native number. Updated live with [`crate::Sensor::set_syscalls`].
#[derive(Clone, PartialEq, Eq)]
pub struct SyscallSet {
    enabled: Box<[bool; MAX_SYSCALLS]>,
    /// Enabled only for the user-space state engine: the kernel may leave out calls that provably change nothing
    /// there (today: send/recv on TCP sockets whose tuple user space already has, and failed send/recv calls).
    state_only: Box<[bool; MAX_SYSCALLS]>,
}

impl std::fmt::Debug for SyscallSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Default for SyscallSet {
    /// Every syscall.
    fn default() -> Self {
        Self::all()
    }
}

impl SyscallSet {
    /// No syscall at all (tracepoint events such as procexit are configured separately).
    pub fn none() -> Self {
        SyscallSet {
            enabled: Box::new([false; MAX_SYSCALLS]),
            state_only: Box::new([false; MAX_SYSCALLS]),
        }
    }

    /// Every syscall number the filter can express.
    pub fn all() -> Self {
        SyscallSet {
            enabled: Box::new([true; MAX_SYSCALLS]),
            state_only: Box::new([false; MAX_SYSCALLS]),
        }
    }

    /// The given native syscall numbers.
    pub fn from_native(nrs: &[u32]) -> Result<Self, SensorError> {
        let mut set = Self::none();
        for &nr in nrs {
            set.insert(nr)?;
        }
        Ok(set)
    }

    /// The given syscall names (`"openat"`, `"execve"`).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, SensorError> {
        let mut set = Self::none();
        for name in names {
            let name = name.as_ref();
            let sc = syscall_by_name(name).ok_or_else(|| SensorError::UnknownSyscall(format!("name {name:?}")))?;
            set.insert(sc.nr)?;
        }
        Ok(set)
    }

    /// The syscalls that produce the given scap event codes. Enter and exit codes and old event versions all
    /// select the syscall by the event's name (`PPME_SYSCALL_OPEN_E`, `..._X` → open); `PPME_GENERIC_E/X`
    /// selects every syscall without a dedicated event. Codes of non-syscall events (procexit, plugin, ...) are
    /// rejected: those sources are configured in [`crate::SensorConfig`].
    pub fn from_event_codes(event_codes: &[u16]) -> Result<Self, SensorError> {
        let mut set = Self::none();
        for &code in event_codes {
            let info = event_info(code).ok_or_else(|| SensorError::UnknownSyscall(format!("event code {code}")))?;
            if info.category & mamoru_event::cat::SYSCALL == 0 {
                return Err(SensorError::UnknownSyscall(format!(
                    "event code {code} ({}) is not a syscall event",
                    info.name
                )));
            }
            if code == codes::GENERIC_E || code == codes::GENERIC_X {
                for sc in syscalls().filter(|s| s.exit_event == codes::GENERIC_X) {
                    set.insert(sc.nr)?;
                }
                continue;
            }
            let mut matched = false;
            for sc in syscalls() {
                let emits_it = event_info(sc.exit_event).is_some_and(|e| e.name == info.name);
                if emits_it || sc.name == info.name {
                    set.insert(sc.nr)?;
                    matched = true;
                }
            }
            if !matched {
                return Err(SensorError::UnknownSyscall(format!(
                    "event code {code} ({}): no x86_64 syscall produces it",
                    info.name
                )));
            }
        }
        Ok(set)
    }

    /// Reports every call of `nr` (and clears a state-only mark).
    pub fn insert(&mut self, nr: u32) -> Result<(), SensorError> {
        let idx = Self::index(nr)?;
        self.enabled[idx] = true;
        self.state_only[idx] = false;
        Ok(())
    }

    /// Reports `nr` for the user-space state engine only, unless it is already reported in full: the kernel may
    /// then leave out calls that change nothing in that state. Use it for syscalls no loaded rule needs.
    pub fn insert_state_only(&mut self, nr: u32) -> Result<(), SensorError> {
        let idx = Self::index(nr)?;
        if !self.enabled[idx] {
            self.enabled[idx] = true;
            self.state_only[idx] = true;
        }
        Ok(())
    }

    fn index(nr: u32) -> Result<usize, SensorError> {
        if (nr as usize) < MAX_SYSCALLS {
            Ok(nr as usize)
        } else {
            Err(SensorError::UnknownSyscall(format!(
                "native number {nr} (filter covers 0..{MAX_SYSCALLS})"
            )))
        }
    }

    pub fn remove(&mut self, nr: u32) {
        if let Some(slot) = self.enabled.get_mut(nr as usize) {
            *slot = false;
            self.state_only[nr as usize] = false;
        }
    }

    /// Whether `nr` is reported for the state engine only (see [`SyscallSet::insert_state_only`]).
    pub fn is_state_only(&self, nr: u32) -> bool {
        self.contains(nr) && self.state_only.get(nr as usize).copied().unwrap_or(false)
    }

    pub fn contains(&self, nr: u32) -> bool {
        self.enabled.get(nr as usize).copied().unwrap_or(false)
    }

    /// Enabled native numbers, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.enabled
            .iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(nr, _)| nr as u32)
    }

    pub fn len(&self) -> usize {
        self.enabled.iter().filter(|on| **on).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The filter as the kernel map stores it: one byte per native number, 0 = off, [`FILTER_REPORT`] = every
    /// call, [`FILTER_STATE_ONLY`] = for the state engine only (values of `common.h`).
    pub(crate) fn as_bytes(&self) -> [u8; MAX_SYSCALLS] {
        let mut out = [0u8; MAX_SYSCALLS];
        for ((o, on), state_only) in out.iter_mut().zip(self.enabled.iter()).zip(self.state_only.iter()) {
            *o = match (*on, *state_only) {
                (false, _) => 0,
                (true, false) => FILTER_REPORT,
                (true, true) => FILTER_STATE_ONLY,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_event::Direction;

    fn nr(name: &str) -> u32 {
        syscall_by_name(name).map(|s| s.nr).unwrap_or(u32::MAX)
    }

    #[test]
    fn table_has_x86_64_numbers() {
        assert_eq!(nr("read"), 0);
        assert_eq!(nr("openat"), 257);
        assert_eq!(nr("execve"), 59);
        assert_eq!(nr("clone3"), 435);
        assert_eq!(syscall_by_nr(257).map(|s| s.ppm_sc), Some(197));
        assert!(syscalls().all(|s| (s.nr as usize) < MAX_SYSCALLS));
    }

    #[test]
    fn handlers_emit_exit_events_of_their_syscall() {
        for nr in handled_numbers() {
            let sc = syscall_by_nr(nr).expect("handled syscall is in the table");
            let info = event_info(sc.exit_event).expect("handler event exists");
            assert_eq!(info.dir, Direction::Exit, "{}", sc.name);
            assert_eq!(info.name, sc.name, "handler of {} emits {}", sc.name, info.enum_name);
            assert!(
                !info.has_flag(mamoru_event::flags::OLD_VERSION),
                "{} is not the newest",
                info.enum_name
            );
        }
        assert_eq!(syscall_by_name("read").map(|s| s.exit_event), Some(codes::GENERIC_X));
    }

    #[test]
    fn event_codes_select_syscalls_by_name() {
        // PPME_SYSCALL_OPENAT_2_X (307) and the old PPME_SYSCALL_OPENAT_E (102) both mean openat.
        let set = SyscallSet::from_event_codes(&[307, 102]).expect("known codes");
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![nr("openat")]);
        // An unhandled syscall's own event (read) still selects the syscall; it is reported as generic.
        let set = SyscallSet::from_event_codes(&[7]).expect("read exit");
        assert!(set.contains(nr("read")));
        let generic = SyscallSet::from_event_codes(&[codes::GENERIC_X]).expect("generic");
        assert!(generic.contains(nr("read")) && !generic.contains(nr("openat")));
        assert!(SyscallSet::from_event_codes(&[codes::PROCEXIT_1_E]).is_err());
        assert!(SyscallSet::from_event_codes(&[9999]).is_err());
    }

    #[test]
    fn sets_reject_out_of_range_numbers() {
        assert!(SyscallSet::from_native(&[MAX_SYSCALLS as u32]).is_err());
        let set = SyscallSet::from_names(&["openat", "close"]).expect("names");
        assert_eq!(set.len(), 2);
        assert!(SyscallSet::from_names(&["no_such_call"]).is_err());
        let bytes = set.as_bytes();
        assert_eq!(bytes[257], 1);
        assert_eq!(bytes[0], 0);
    }

    #[test]
    fn state_only_marks_never_weaken_a_full_report() {
        let mut set = SyscallSet::from_names(&["connect"]).expect("names");
        set.insert_state_only(nr("sendto")).expect("in range");
        set.insert_state_only(nr("connect")).expect("in range");
        assert!(set.is_state_only(nr("sendto")) && set.contains(nr("sendto")));
        assert!(!set.is_state_only(nr("connect")), "already reported in full");
        let bytes = set.as_bytes();
        assert_eq!(bytes[nr("sendto") as usize], FILTER_STATE_ONLY);
        assert_eq!(bytes[nr("connect") as usize], FILTER_REPORT);
        // A rule needing the call later upgrades it to a full report; removing clears the mark.
        set.insert(nr("sendto")).expect("in range");
        assert_eq!(set.as_bytes()[nr("sendto") as usize], FILTER_REPORT);
        set.insert_state_only(nr("recvfrom")).expect("in range");
        set.remove(nr("recvfrom"));
        assert!(!set.is_state_only(nr("recvfrom")) && !set.contains(nr("recvfrom")));
        assert!(set.insert_state_only(MAX_SYSCALLS as u32).is_err());
    }
}
