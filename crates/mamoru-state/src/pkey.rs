//! Event parameters the state engine reads, resolved to their index once per event code. Looking a parameter up
//! by name scans the event's parameter list comparing strings; the parsers read several parameters of every event,
//! so the indices are computed once, on first use, into one small row per event code.

use mamoru_event::{event_table, RawEvent};
use std::sync::OnceLock;

macro_rules! param_keys {
    ($($key:ident = $name:literal,)*) => {
        /// A parameter name the state engine reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Pk {
            $($key,)*
        }

        /// Parameter names, in [`Pk`] order.
        const NAMES: &[&str] = &[$($name,)*];
    };
}

param_keys! {
    Addr = "addr",
    Arg = "arg",
    Arg2Int = "arg2_int",
    Arg2Str = "arg2_str",
    Args = "args",
    CapEffective = "cap_effective",
    CapInheritable = "cap_inheritable",
    CapPermitted = "cap_permitted",
    Cgroups = "cgroups",
    Cmd = "cmd",
    Comm = "comm",
    ContainerId = "container_id",
    Cur = "cur",
    Cwd = "cwd",
    Dev = "dev",
    Dirfd = "dirfd",
    Domain = "domain",
    Egid = "egid",
    Env = "env",
    Euid = "euid",
    Exe = "exe",
    ExeIno = "exe_ino",
    ExeInoCtime = "exe_ino_ctime",
    ExeInoMtime = "exe_ino_mtime",
    Fd = "fd",
    Fd1 = "fd1",
    Fd2 = "fd2",
    Fdlimit = "fdlimit",
    First = "first",
    Flags = "flags",
    Gid = "gid",
    Home = "home",
    Ino = "ino",
    Last = "last",
    Loginuid = "loginuid",
    Name = "name",
    Newcur = "newcur",
    Nstype = "nstype",
    Oldfd = "oldfd",
    Option = "option",
    Path = "path",
    Peer = "peer",
    Pgid = "pgid",
    Pid = "pid",
    PidFd = "pid_fd",
    PidnsInitStartTs = "pidns_init_start_ts",
    Proto = "proto",
    Ptid = "ptid",
    ReaperTid = "reaper_tid",
    Res = "res",
    Resource = "resource",
    Shell = "shell",
    Source = "source",
    TargetFd = "target_fd",
    TrustedExepath = "trusted_exepath",
    Tty = "tty",
    Tuple = "tuple",
    Type = "type",
    Uid = "uid",
    Vpgid = "vpgid",
    Vpid = "vpid",
    Vtid = "vtid",
}

const KEYS: usize = NAMES.len();
/// The event type has no parameter of that name.
const ABSENT: u8 = u8::MAX;

/// Per event code, the index of each [`Pk`] parameter (or [`ABSENT`]).
fn table() -> &'static [[u8; KEYS]] {
    static TABLE: OnceLock<Box<[[u8; KEYS]]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        event_table()
            .iter()
            .map(|info| {
                let mut row = [ABSENT; KEYS];
                for (slot, name) in row.iter_mut().zip(NAMES) {
                    if let Some(i) = info.params.iter().position(|p| p.name == *name) {
                        *slot = u8::try_from(i).unwrap_or(ABSENT);
                    }
                }
                row
            })
            .collect()
    })
}

impl Pk {
    /// The parameter's name in the event table.
    #[cfg(test)]
    pub(crate) fn name(self) -> &'static str {
        NAMES[self as usize]
    }

    /// Index of this parameter in `raw`'s event type, if the type has it.
    #[inline]
    pub(crate) fn index(self, raw: &RawEvent<'_>) -> Option<usize> {
        match table().get(raw.etype as usize).map(|row| row[self as usize]) {
            Some(i) if i != ABSENT => Some(i as usize),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_agree_with_lookup_by_name() {
        let keys = [
            Pk::Fd,
            Pk::Res,
            Pk::Name,
            Pk::Flags,
            Pk::Tuple,
            Pk::Args,
            Pk::Env,
            Pk::Cgroups,
            Pk::Vtid,
        ];
        for info in event_table().iter().filter(|i| !i.is_unused()) {
            let mut b = mamoru_event::EventBuilder::new(info.code, 1, 1);
            for _ in info.params {
                b = b.empty();
            }
            let bytes = b.finish();
            let Ok(raw) = RawEvent::parse(&bytes, 0) else {
                continue;
            };
            for k in keys {
                assert_eq!(
                    k.index(&raw),
                    raw.param_index(k.name()),
                    "{} of {}",
                    k.name(),
                    info.name
                );
            }
        }
    }
}
