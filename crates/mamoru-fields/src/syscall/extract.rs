//! The syscall extractor: one bound field id plus its parsed argument, evaluated with a `match` per event.
//! Strings that need composing (capability names, rendered arguments, joined lists) are written into a per-thread
//! scratch buffer and copied into the value arena, so steady-state extraction allocates nothing.

use super::fields::F;
use super::resolve::StateResolver;
use super::time;
use super::{event_type_name, SysEvent, Syscall};
use crate::catalog::Extractor;
use crate::value::Values;
use mamoru_event::render::{open_info, render_args_with, render_param_with, render_res_with};
use mamoru_event::{cat, codes, event_table, flags, Direction, ParamType, RawEvent, SockTuple};
use mamoru_state::{caps_to_text, oflags, ContainerInfo, ContainerMount, Fd, FdKind, Role, State, Thread};
use std::cell::RefCell;
use std::io::Write as _;
use std::net::IpAddr;

/// A field argument, parsed at bind time.
pub(crate) enum Arg {
    None,
    Index(usize),
    Key(Vec<u8>),
    Fd(i64),
    Param(ParamSel),
}

/// An event argument selected by name, with its index precomputed for every event code.
pub(crate) struct ParamSel {
    by_code: Box<[u8]>,
}

const ABSENT: u8 = u8::MAX;

impl ParamSel {
    pub(crate) fn new(name: &str) -> ParamSel {
        let by_code = event_table()
            .iter()
            .map(|e| {
                e.params
                    .iter()
                    .position(|p| p.name == name)
                    .and_then(|i| u8::try_from(i).ok())
                    .unwrap_or(ABSENT)
            })
            .collect();
        ParamSel { by_code }
    }

    fn index(&self, etype: u16) -> Option<usize> {
        match self.by_code.get(etype as usize) {
            Some(&i) if i != ABSENT => Some(i as usize),
            _ => None,
        }
    }
}

pub(crate) struct SysExtractor {
    id: F,
    arg: Arg,
}

impl SysExtractor {
    pub(crate) fn new(id: F, arg: Arg) -> Self {
        SysExtractor { id, arg }
    }
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a cleared scratch buffer and pushes its content when `f` returns true.
fn push_composed(out: &mut Values, f: impl FnOnce(&mut Vec<u8>) -> bool) {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            if f(&mut buf) {
                out.push_bytes(&buf);
            }
        }
        Err(_) => {
            let mut buf = Vec::new();
            if f(&mut buf) {
                out.push_bytes(&buf);
            }
        }
    })
}

fn push_opt(out: &mut Values, v: Option<&[u8]>) {
    if let Some(v) = v {
        out.push_bytes(v);
    }
}

impl Extractor<Syscall> for SysExtractor {
    fn extract(&self, ev: &SysEvent<'_>, out: &mut Values) {
        use F::*;
        match self.id {
            EvtNum | EvtTime | EvtTimeS | EvtTimeIso | EvtDatetime | EvtDatetimeS | EvtRawtime | EvtRawtimeS
            | EvtRawtimeNs | EvtReltime | EvtReltimeS | EvtReltimeNs | EvtLatency | EvtLatencyS | EvtLatencyNs
            | EvtLatencyQuantized | EvtLatencyHuman | EvtDeltatime | EvtDeltatimeS | EvtDeltatimeNs | EvtOutputtime
            | EvtWaitLatency => evt_time(self.id, ev, out),
            EvtDir | EvtType | EvtTypeIs | SyscallType | EvtCategory | EvtCpu | EvtArgs | EvtArg | EvtRawarg
            | EvtInfo | EvtBuffer | EvtBuflen | EvtRes | EvtRawres | EvtFailed | EvtIsIo | EvtIsIoRead
            | EvtIsIoWrite | EvtIoDir | EvtIsWait | EvtIsSyslog | EvtCount | EvtCountError | EvtCountErrorFile
            | EvtCountErrorNet | EvtCountErrorMemory | EvtCountErrorOther | EvtCountExit | EvtAbspath
            | EvtIsOpenRead | EvtIsOpenWrite | EvtIsOpenExec | EvtIsOpenCreate | EvtSource | EvtHostname
            | EvtIsAsync | EvtAsynctype | EvtPluginname => self.evt(ev, out),
            FsPathName | FsPathNameraw | FsPathSource | FsPathSourceraw | FsPathTarget | FsPathTargetraw => {
                fs_path(self.id, ev, out)
            }
            FdNum | FdType | FdTypechar | FdName | FdDirectory | FdFilename | FdIp | FdCip | FdSip | FdLip | FdRip
            | FdPort | FdCport | FdSport | FdLport | FdRport | FdL4proto | FdSockfamily | FdIsServer | FdUid
            | FdContainername | FdContainerdirectory | FdProto | FdCproto | FdSproto | FdLproto | FdRproto | FdNet
            | FdCnet | FdSnet | FdLnet | FdRnet | FdConnected | FdNameChanged | FdCipName | FdSipName | FdLipName
            | FdRipName | FdDev | FdDevMajor | FdDevMinor | FdIno | FdNameraw | FdTypes | FdIsUpperLayer
            | FdIsLowerLayer => self.fd(ev, out),
            UserUid | UserName | UserHomedir | UserShell | UserLoginuid | UserLoginname | GroupGid | GroupName => {
                user(self.id, ev, out)
            }
            ContainerId
            | ContainerFullId
            | ContainerName
            | ContainerImage
            | ContainerImageId
            | ContainerType
            | ContainerPrivileged
            | ContainerMounts
            | ContainerMount
            | ContainerMountSource
            | ContainerMountDest
            | ContainerMountMode
            | ContainerMountRdwr
            | ContainerMountPropagation
            | ContainerImageRepository
            | ContainerImageTag
            | ContainerImageDigest
            | ContainerHealthcheck
            | ContainerLiveness
            | ContainerReadiness
            | ContainerStartTs
            | ContainerDuration
            | ContainerIp
            | ContainerCniJson
            | ContainerHostPid
            | ContainerHostNetwork
            | ContainerHostIpc
            | ContainerLabel
            | ContainerLabels
            | K8sPodName
            | K8sNsName
            | K8sPodId
            | K8sPodUid
            | K8sPodSandboxId
            | K8sPodFullSandboxId
            | K8sPodLabel
            | K8sPodLabels
            | K8sPodIp
            | K8sPodCniJson
            | K8sRcName
            | K8sRcId
            | K8sRcLabel
            | K8sRcLabels
            | K8sSvcName
            | K8sSvcId
            | K8sSvcLabel
            | K8sSvcLabels
            | K8sNsId
            | K8sNsLabel
            | K8sNsLabels
            | K8sRsName
            | K8sRsId
            | K8sRsLabel
            | K8sRsLabels
            | K8sDeploymentName
            | K8sDeploymentId
            | K8sDeploymentLabel
            | K8sDeploymentLabels => self.container(ev, out),
            _ => self.proc(ev, out),
        }
    }
}

// -------------------------------------------------------------------------------------------------- evt.* ----

fn evt_time(id: F, ev: &SysEvent<'_>, out: &mut Values) {
    use F::*;
    let ts = ev.raw.ts;
    let rel = ts.saturating_sub(ev.state.first_event_ts().unwrap_or(ts));
    let delta = ev.state.prev_event_ts().map(|p| ts.saturating_sub(p)).unwrap_or(0);
    match id {
        EvtNum => out.push_u64(ev.evt_num),
        EvtTime | EvtOutputtime => push_composed(out, |b| {
            time::time_of_day(ts, true, b);
            true
        }),
        EvtTimeS => push_composed(out, |b| {
            time::time_of_day(ts, false, b);
            true
        }),
        EvtTimeIso => push_composed(out, |b| {
            time::iso8601(ts, b);
            true
        }),
        EvtDatetime => push_composed(out, |b| {
            time::datetime(ts, true, b);
            true
        }),
        EvtDatetimeS => push_composed(out, |b| {
            time::datetime(ts, false, b);
            true
        }),
        EvtRawtime => out.push_u64(ts),
        EvtRawtimeS => out.push_u64(ts / 1_000_000_000),
        EvtRawtimeNs => out.push_u64(ts % 1_000_000_000),
        EvtReltime => out.push_u64(rel),
        EvtReltimeS => out.push_u64(rel / 1_000_000_000),
        EvtReltimeNs => out.push_u64(rel % 1_000_000_000),
        EvtDeltatime => out.push_u64(delta),
        EvtDeltatimeS => out.push_u64(delta / 1_000_000_000),
        EvtDeltatimeNs => out.push_u64(delta % 1_000_000_000),
        EvtLatency | EvtLatencyS | EvtLatencyNs | EvtLatencyQuantized | EvtWaitLatency => out.push_u64(0),
        EvtLatencyHuman => out.push_bytes(b"0ns"),
        _ => {}
    }
}

/// Index of the return value parameter of an exit event.
fn res_index(raw: &RawEvent<'_>) -> Option<usize> {
    let info = raw.info();
    if info.dir != Direction::Exit {
        return None;
    }
    raw.param_index("res")
        .or_else(|| (info.params.first().map(|p| p.name) == Some("fd")).then_some(0))
}

fn rawres(raw: &RawEvent<'_>) -> Option<i64> {
    raw.param_i64(res_index(raw)?)
}

const CATEGORY_FLAGS: u32 = cat::SYSCALL | cat::TRACEPOINT | cat::PLUGIN | cat::METAEVENT | cat::ITER;

/// `evt.category`: I/O events are classified by the fd they use, everything else by the event table.
fn category_name(ev: &SysEvent<'_>) -> &'static str {
    let c = ev.raw.info().category & !CATEGORY_FLAGS;
    if c & (cat::IO_READ | cat::IO_WRITE | cat::IO_OTHER) != 0 {
        return match ev.fd.map(|f| &f.kind) {
            Some(FdKind::File | FdKind::Directory) => "file",
            Some(FdKind::Ipv4 { .. } | FdKind::Ipv6 { .. } | FdKind::Ipv4Server { .. } | FdKind::Ipv6Server { .. }) => {
                "net"
            }
            Some(FdKind::Fifo | FdKind::Unix { .. } | FdKind::Event | FdKind::SignalFd | FdKind::Inotify) => "ipc",
            Some(_) => "other",
            None => "unknown",
        };
    }
    const NAMES: [(u32, &str); 15] = [
        (cat::UNKNOWN, "unknown"),
        (cat::OTHER, "other"),
        (cat::FILE, "file"),
        (cat::NET, "net"),
        (cat::IPC, "IPC"),
        (cat::MEMORY, "memory"),
        (cat::PROCESS, "process"),
        (cat::SLEEP, "sleep"),
        (cat::SYSTEM, "system"),
        (cat::SIGNAL, "signal"),
        (cat::USER, "user"),
        (cat::TIME, "time"),
        (cat::WAIT, "wait"),
        (cat::SCHEDULER, "scheduler"),
        (cat::INTERNAL, "internal"),
    ];
    NAMES
        .iter()
        .find(|(bit, _)| c & bit != 0)
        .map(|(_, n)| *n)
        .unwrap_or("unknown")
}

fn is_async(raw: &RawEvent<'_>) -> bool {
    raw.etype == codes::ASYNCEVENT_E || raw.name() == "container"
}

/// The `(dirfd, path)` parameters of single-path `*at` syscalls and of the two sides of two-path ones.
fn abspath_params(name: &str, side: Option<&[u8]>) -> Option<(Option<&'static str>, &'static str)> {
    Some(match (name, side) {
        ("unlinkat", None) => (Some("dirfd"), "name"),
        ("mkdirat" | "mknodat" | "newfstatat", None) => (Some("dirfd"), "path"),
        ("openat" | "openat2", None) => (Some("dirfd"), "name"),
        ("fchmodat", None) => (Some("dirfd"), "filename"),
        ("fchownat", None) => (Some("dirfd"), "pathname"),
        ("renameat" | "renameat2", Some(b"src")) => (Some("olddirfd"), "oldpath"),
        ("renameat" | "renameat2", Some(b"dst")) => (Some("newdirfd"), "newpath"),
        ("linkat", Some(b"src")) => (Some("olddir"), "oldpath"),
        ("linkat", Some(b"dst")) => (Some("newdir"), "newpath"),
        ("symlinkat", Some(b"src")) => (None, "target"),
        ("symlinkat", Some(b"dst")) => (Some("linkdirfd"), "linkpath"),
        _ => return None,
    })
}

fn param_str<'a>(raw: &RawEvent<'a>, name: &str) -> Option<&'a [u8]> {
    raw.param_str(raw.param_index(name)?).filter(|s| !s.is_empty())
}

fn param_int(raw: &RawEvent<'_>, name: &str) -> Option<i64> {
    raw.param_i64(raw.param_index(name)?)
}

/// Resolves a path parameter (relative to `dirfd` or the cwd) into `out`.
fn resolved_path(ev: &SysEvent<'_>, dirfd: Option<&str>, path: &[u8], out: &mut Vec<u8>) {
    let dfd = dirfd.and_then(|d| param_int(ev.raw, d));
    match ev.thread {
        Some(t) => ev.state.resolve_at_path_into(t, dfd, path, out),
        None => mamoru_state::path::normalize_into(path, out),
    }
}

impl SysExtractor {
    fn evt(&self, ev: &SysEvent<'_>, out: &mut Values) {
        use F::*;
        let raw = &ev.raw;
        let info = raw.info();
        let resolver = StateResolver { ev };
        match self.id {
            EvtDir => out.push_bytes(if info.dir == Direction::Enter { b">" } else { b"<" }),
            EvtType => out.push_bytes(event_type_name(raw).as_bytes()),
            EvtTypeIs => {
                if let Arg::Key(k) = &self.arg {
                    out.push_u64(u64::from(event_type_name(raw).as_bytes() == k.as_slice()));
                }
            }
            SyscallType if info.category & cat::SYSCALL != 0 => out.push_bytes(event_type_name(raw).as_bytes()),
            EvtCategory => out.push_bytes(category_name(ev).as_bytes()),
            EvtCpu => out.push_i64(i64::from(raw.cpu)),
            EvtArgs | EvtInfo => push_composed(out, |b| {
                render_args_with(raw, &resolver, b);
                true
            }),
            EvtArg => {
                let i = match &self.arg {
                    Arg::Index(i) => Some(*i),
                    Arg::Param(sel) => sel.index(raw.etype),
                    _ => None,
                };
                if let Some(i) = i.filter(|i| *i < raw.nparams()) {
                    push_composed(out, |b| render_param_with(raw, i, &resolver, b));
                }
            }
            EvtRawarg => {
                if let Arg::Param(sel) = &self.arg {
                    if let Some(i) = sel.index(raw.etype) {
                        push_rawarg(raw, i, out);
                    }
                }
            }
            EvtBuffer if info.dir == Direction::Exit => {
                push_opt(out, raw.param_index("data").and_then(|i| raw.param(i)));
            }
            EvtBuflen if info.category & (cat::IO_READ | cat::IO_WRITE) != 0 => {
                if let Some(r) = rawres(raw).filter(|r| *r >= 0) {
                    out.push_u64(r as u64);
                }
            }
            EvtRes => push_composed(out, |b| render_res_with(raw, &resolver, b)),
            EvtRawres => {
                if let Some(r) = rawres(raw) {
                    out.push_i64(r);
                }
            }
            EvtFailed => out.push_bool(rawres(raw).is_some_and(|r| r < 0)),
            EvtIsIo => out.push_bool(info.category & (cat::IO_READ | cat::IO_WRITE) != 0),
            EvtIsIoRead => out.push_bool(info.category & cat::IO_READ != 0),
            EvtIsIoWrite => out.push_bool(info.category & cat::IO_WRITE != 0),
            EvtIoDir => {
                if info.category & cat::IO_READ != 0 {
                    out.push_bytes(b"r");
                } else if info.category & cat::IO_WRITE != 0 {
                    out.push_bytes(b"w");
                }
            }
            EvtIsWait => out.push_bool(info.has_flag(flags::WAITS)),
            EvtIsSyslog => out
                .push_bool(info.category & cat::IO_WRITE != 0 && ev.fd.is_some_and(|f| contains(&f.name, b"/dev/log"))),
            EvtCount => out.push_u64(1),
            EvtCountExit => out.push_u64(u64::from(info.dir == Direction::Exit)),
            EvtCountError | EvtCountErrorFile | EvtCountErrorNet | EvtCountErrorMemory | EvtCountErrorOther => {
                let failed = rawres(raw).is_some_and(|r| r < 0);
                let c = category_name(ev);
                let hit = failed
                    && match self.id {
                        EvtCountErrorFile => c == "file",
                        EvtCountErrorNet => c == "net",
                        EvtCountErrorMemory => c == "memory",
                        EvtCountErrorOther => !matches!(c, "file" | "net" | "memory"),
                        _ => true,
                    };
                out.push_u64(u64::from(hit));
            }
            EvtAbspath => {
                let side = match &self.arg {
                    Arg::Key(k) => Some(k.as_slice()),
                    _ => None,
                };
                if let Some((dirfd, pname)) = abspath_params(raw.name(), side) {
                    if let Some(p) = param_str(raw, pname) {
                        if dirfd.is_none() {
                            out.push_bytes(p);
                        } else {
                            push_composed(out, |b| {
                                resolved_path(ev, dirfd, p, b);
                                true
                            });
                        }
                    }
                }
            }
            EvtIsOpenRead | EvtIsOpenWrite | EvtIsOpenExec | EvtIsOpenCreate => {
                let oi = open_info(raw);
                out.push_bool(oi.is_some_and(|o| match self.id {
                    EvtIsOpenRead => o.is_read(),
                    EvtIsOpenWrite => o.is_write(),
                    EvtIsOpenExec => o.is_exec(),
                    _ => o.is_create(),
                }));
            }
            EvtSource => out.push_bytes(b"syscall"),
            EvtHostname => {
                let h = ev.state.hostname();
                if !h.is_empty() {
                    out.push_bytes(h);
                }
            }
            EvtIsAsync => out.push_bool(is_async(raw)),
            EvtAsynctype => {
                if raw.etype == codes::ASYNCEVENT_E {
                    push_opt(out, param_str(raw, "name"));
                } else if raw.name() == "container" {
                    out.push_bytes(b"container");
                }
            }
            _ => {}
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `evt.rawarg`: the argument with its own type.
fn push_rawarg(raw: &RawEvent<'_>, i: usize, out: &mut Values) {
    let Some(ty) = raw.param_type(i) else {
        return;
    };
    use ParamType::*;
    match ty {
        Int16 | Int32 | Int64 | Errno | Fd | Fd32 | Pid | Pid32 => {
            if let Some(v) = raw.param_i64(i) {
                out.push_i64(v);
            }
        }
        Uint8 | Uint16 | Uint32 | Uint64 | Flags8 | Flags16 | Flags32 | Enumflags8 | Enumflags16 | Enumflags32
        | Uid | Gid | Mode | Sigtype | Syscallid | Sigset | Port | Reltime | Abstime => {
            if let Some(v) = raw.param_u64(i) {
                out.push_u64(v);
            }
        }
        Charbuf | Fspath | Fsrelpath => push_opt(out, raw.param_str(i)),
        Ipv4addr => {
            if let Some(b) = raw.param(i).filter(|b| b.len() == 4) {
                out.push_ip(IpAddr::from([b[0], b[1], b[2], b[3]]));
            }
        }
        Ipv6addr => {
            if let Some(b) = raw.param(i).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
                out.push_ip(IpAddr::from(b));
            }
        }
        _ => push_opt(out, raw.param(i)),
    }
}

// -------------------------------------------------------------------------------------------------- fs.path ----

/// The `(name, raw)` path of a single-path filesystem event, or the source/target of a two-path one.
fn fs_path(id: F, ev: &SysEvent<'_>, out: &mut Values) {
    use F::*;
    let raw = &ev.raw;
    if raw.info().dir != Direction::Exit {
        return;
    }
    let name = raw.name();
    // (dirfd param, path param, resolve?) for the requested side.
    let spec: Option<(Option<&str>, &str, bool)> = match id {
        FsPathName | FsPathNameraw => match name {
            "mkdir" | "rmdir" | "unlink" | "chown" | "lchown" | "mknod" => Some((None, "path", true)),
            "chmod" => Some((None, "filename", true)),
            "open" | "creat" => Some((None, "name", true)),
            "open_by_handle_at" => Some((None, "path", true)),
            "mkdirat" | "mknodat" => Some((Some("dirfd"), "path", true)),
            "unlinkat" | "openat" | "openat2" => Some((Some("dirfd"), "name", true)),
            "fchmodat" => Some((Some("dirfd"), "filename", true)),
            "fchownat" => Some((Some("dirfd"), "pathname", true)),
            "fchmod" | "fchown" => {
                if let Some(f) = ev.fd {
                    out.push_bytes(&f.name);
                }
                return;
            }
            _ => None,
        },
        FsPathSource | FsPathSourceraw => match name {
            "rename" | "link" => Some((None, "oldpath", true)),
            "renameat" | "renameat2" => Some((Some("olddirfd"), "oldpath", true)),
            "linkat" => Some((Some("olddir"), "oldpath", true)),
            "symlink" | "symlinkat" => Some((None, "target", false)),
            _ => None,
        },
        FsPathTarget | FsPathTargetraw => match name {
            "rename" | "link" => Some((None, "newpath", true)),
            "renameat" | "renameat2" => Some((Some("newdirfd"), "newpath", true)),
            "linkat" => Some((Some("newdir"), "newpath", true)),
            "symlink" => Some((None, "linkpath", true)),
            "symlinkat" => Some((Some("linkdirfd"), "linkpath", true)),
            _ => None,
        },
        _ => None,
    };
    let Some((dirfd, pname, resolve)) = spec else {
        return;
    };
    let Some(p) = param_str(raw, pname) else {
        return;
    };
    let want_raw = matches!(id, FsPathNameraw | FsPathSourceraw | FsPathTargetraw);
    if want_raw || !resolve {
        out.push_bytes(p);
    } else {
        push_composed(out, |b| {
            resolved_path(ev, dirfd, p, b);
            true
        });
    }
}

// ------------------------------------------------------------------------------------------------------ fd.* ----

/// The name libsinsp gives an fd-creating event whose fd is not in the table (the call failed).
fn creator_name(ev: &SysEvent<'_>, raw_only: bool, b: &mut Vec<u8>) -> bool {
    let raw = &ev.raw;
    if raw.info().dir != Direction::Exit {
        return false;
    }
    match raw.name() {
        "open" | "creat" | "openat" | "openat2" | "open_by_handle_at" => {
            let Some(p) = param_str(raw, "name").or_else(|| param_str(raw, "path")) else {
                return false;
            };
            if raw_only {
                b.extend_from_slice(&mamoru_state::path::squeeze_slashes(p));
            } else if raw.name() == "open_by_handle_at" {
                mamoru_state::path::normalize_into(p, b);
            } else {
                let dirfd = matches!(raw.name(), "openat" | "openat2").then_some("dirfd");
                resolved_path(ev, dirfd, p, b);
            }
            true
        }
        "connect" | "accept" | "accept4" => {
            let Some(t) = raw
                .param_index("tuple")
                .and_then(|i| raw.param(i))
                .and_then(SockTuple::decode)
            else {
                return false;
            };
            match t {
                SockTuple::Inet { sip, sport, dip, dport } => mamoru_state::write_tuple(b, &sip, sport, &dip, dport),
                SockTuple::Unix { source, dest, path } => {
                    let _ = write!(b, "{source:x}->{dest:x} ");
                    b.extend_from_slice(path);
                }
            }
            true
        }
        _ => {
            // libsinsp gives other events an empty name.
            true
        }
    }
}

fn creator_typechar(raw: &RawEvent<'_>) -> u8 {
    match raw.name() {
        "open" | "openat" | "openat2" | "creat" => b'f',
        "socket" | "accept" | "accept4" => b'4',
        "pipe" | "pipe2" => b'p',
        "eventfd" | "eventfd2" => b'e',
        "signalfd" | "signalfd4" => b's',
        "timerfd_create" => b't',
        "inotify_init" | "inotify_init1" => b'i',
        _ => b'o',
    }
}

/// Whether `fd.name` must come from the event parameters (failed connect keeps the attempted tuple).
fn name_from_creator(ev: &SysEvent<'_>) -> bool {
    match ev.fd {
        None => true,
        Some(_) => ev.raw.name() == "connect" && rawres(ev.raw).is_some_and(|r| r < 0),
    }
}

/// Directory part of a file path, libsinsp style.
fn dirname(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|c| *c == b'/') {
        Some(0) | None => b"/",
        Some(pos) if pos < name.len() - 1 => &name[..pos],
        Some(_) => name,
    }
}

/// File part of a file path, libsinsp style.
fn basename(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|c| *c == b'/') {
        Some(pos) if pos < name.len() - 1 => &name[pos + 1..],
        Some(_) => name,
        None => b"/",
    }
}

/// `(client ip, client port, server ip, server port)` of a socket whose role is known.
fn endpoints(f: &Fd) -> Option<(IpAddr, u16, IpAddr, u16)> {
    match f.kind {
        FdKind::Ipv4 {
            sip, sport, dip, dport, ..
        }
        | FdKind::Ipv6 {
            sip, sport, dip, dport, ..
        } if f.role != Role::None => Some((sip, sport, dip, dport)),
        _ => None,
    }
}

/// Server endpoint (also for listening sockets).
fn server_ep(f: &Fd) -> Option<(IpAddr, u16)> {
    match f.kind {
        FdKind::Ipv4Server { ip, port, .. } | FdKind::Ipv6Server { ip, port, .. } => Some((ip, port)),
        _ => endpoints(f).map(|(_, _, ip, port)| (ip, port)),
    }
}

/// `(local, remote)` endpoints: the client side is local when this process is the client.
fn local_remote(f: &Fd) -> Option<((IpAddr, u16), (IpAddr, u16))> {
    let (cip, cport, sip, sport) = endpoints(f)?;
    Some(if f.role == Role::Client {
        ((cip, cport), (sip, sport))
    } else {
        ((sip, sport), (cip, cport))
    })
}

fn push_port_text(out: &mut Values, port: u16) {
    push_composed(out, |b| {
        let _ = write!(b, "{port}");
        true
    });
}

const MINOR_BITS: u32 = 20;

impl SysExtractor {
    fn fd(&self, ev: &SysEvent<'_>, out: &mut Values) {
        use F::*;
        // Like libsinsp, fd fields only exist for events that create, use or destroy an fd.
        if !ev
            .raw
            .info()
            .has_flag(flags::CREATES_FD | flags::USES_FD | flags::DESTROYS_FD)
        {
            return;
        }
        let Some(t) = ev.thread else {
            return;
        };
        let f = ev.fd;
        match self.id {
            FdNum => {
                if let Some(n) = ev.ctx.fd {
                    out.push_i64(n);
                }
                return;
            }
            FdTypes => {
                fd_types(ev.state, t, &self.arg, out);
                return;
            }
            FdName | FdContainername if name_from_creator(ev) => {
                push_composed(out, |b| {
                    if self.id == FdContainername {
                        b.extend_from_slice(&t.container_id);
                        b.push(b':');
                    }
                    creator_name(ev, false, b)
                });
                return;
            }
            FdDirectory | FdContainerdirectory if f.is_none() => {
                push_composed(out, |b| {
                    let mut name = Vec::new();
                    if !creator_name(ev, false, &mut name) {
                        return false;
                    }
                    if self.id == FdContainerdirectory {
                        b.extend_from_slice(&t.container_id);
                        b.push(b':');
                    }
                    b.extend_from_slice(dirname(&name));
                    true
                });
                return;
            }
            FdNameraw if f.is_none() => {
                push_composed(out, |b| creator_name(ev, true, b));
                return;
            }
            FdTypechar if f.is_none() => {
                if ev.raw.info().dir == Direction::Exit {
                    out.push_bytes(&[creator_typechar(ev.raw)]);
                }
                return;
            }
            _ => {}
        }
        let Some(f) = f else {
            return;
        };
        match self.id {
            FdType => out.push_bytes(f.kind.type_name().as_bytes()),
            FdTypechar => out.push_bytes(&[f.kind.typechar()]),
            FdName => out.push_bytes(&f.name),
            FdContainername => push_composed(out, |b| {
                b.extend_from_slice(&t.container_id);
                b.push(b':');
                b.extend_from_slice(&f.name);
                true
            }),
            FdDirectory | FdContainerdirectory => {
                let dir: &[u8] = match f.kind {
                    FdKind::File => dirname(&f.name),
                    FdKind::Directory => &f.name,
                    _ => return,
                };
                if self.id == FdDirectory {
                    out.push_bytes(dir);
                } else {
                    push_composed(out, |b| {
                        b.extend_from_slice(&t.container_id);
                        b.push(b':');
                        b.extend_from_slice(dir);
                        true
                    });
                }
            }
            FdFilename if f.kind == FdKind::File => out.push_bytes(basename(&f.name)),
            FdIp | FdNet => {
                if let Some((cip, _, sip, _)) = endpoints(f) {
                    out.push_ip(cip);
                    out.push_ip(sip);
                } else if let Some((ip, _)) = server_ep(f) {
                    out.push_ip(ip);
                }
            }
            FdCip | FdCnet => {
                if let Some((cip, _, _, _)) = endpoints(f) {
                    out.push_ip(cip);
                }
            }
            FdSip | FdSnet => {
                if let Some((ip, _)) = server_ep(f) {
                    out.push_ip(ip);
                }
            }
            FdLip | FdLnet => {
                if let Some(((ip, _), _)) = local_remote(f) {
                    out.push_ip(ip);
                }
            }
            FdRip | FdRnet => {
                if let Some((_, (ip, _))) = local_remote(f) {
                    out.push_ip(ip);
                }
            }
            FdPort => {
                if let Some((_, cport, _, sport)) = endpoints(f) {
                    out.push_u64(u64::from(cport));
                    out.push_u64(u64::from(sport));
                } else if let Some((_, port)) = server_ep(f) {
                    out.push_u64(u64::from(port));
                }
            }
            FdProto => {
                if let Some((_, cport, _, sport)) = endpoints(f) {
                    push_port_text(out, cport);
                    push_port_text(out, sport);
                } else if let Some((_, port)) = server_ep(f) {
                    push_port_text(out, port);
                }
            }
            FdCport | FdCproto => {
                if let Some((_, cport, _, _)) = endpoints(f) {
                    if self.id == FdCport {
                        out.push_u64(u64::from(cport));
                    } else {
                        push_port_text(out, cport);
                    }
                }
            }
            FdSport | FdSproto => {
                if let Some((_, port)) = server_ep(f) {
                    if self.id == FdSport {
                        out.push_u64(u64::from(port));
                    } else {
                        push_port_text(out, port);
                    }
                }
            }
            FdLport | FdLproto | FdRport | FdRproto => {
                if let Some((l, r)) = local_remote(f) {
                    let port = if matches!(self.id, FdLport | FdLproto) {
                        l.1
                    } else {
                        r.1
                    };
                    if matches!(self.id, FdLport | FdRport) {
                        out.push_u64(u64::from(port));
                    } else {
                        push_port_text(out, port);
                    }
                }
            }
            FdL4proto => {
                let name = match f.kind.l4() {
                    Some(l) if f.kind.is_ip_socket() && f.role == Role::None && l != mamoru_state::L4::Raw => "<NA>",
                    Some(l) => l.name(),
                    None => "<NA>",
                };
                out.push_bytes(name.as_bytes());
            }
            FdSockfamily => {
                if f.kind.is_ip_socket() || f.kind.is_server_socket() {
                    out.push_bytes(b"ip");
                } else if f.kind.is_unix() {
                    out.push_bytes(b"unix");
                }
            }
            FdIsServer => out.push_bool(f.role == Role::Server || f.kind.is_server_socket()),
            FdUid => push_composed(out, |b| {
                let _ = write!(b, "{}{}", t.tid, ev.ctx.fd.unwrap_or(-1));
                true
            }),
            FdConnected => out.push_bool(f.connected),
            FdNameChanged => out.push_bool(ev.ctx.fd_name_changed),
            FdCipName | FdSipName | FdLipName | FdRipName => {}
            FdDev => out.push_i64(i64::from(f.dev as i32)),
            FdDevMajor => out.push_i64(i64::from(f.dev >> MINOR_BITS)),
            FdDevMinor => out.push_i64(i64::from(f.dev & ((1 << MINOR_BITS) - 1))),
            FdIno => out.push_i64(f.ino as i64),
            FdNameraw => out.push_bytes(if f.name_raw.is_empty() { &f.name } else { &f.name_raw }),
            FdIsUpperLayer => out.push_bool(f.is_upper_layer()),
            FdIsLowerLayer => out.push_bool(f.open_flags & oflags::FD_LOWER_LAYER != 0),
            _ => {}
        }
    }
}

fn fd_types(state: &State, t: &Thread, arg: &Arg, out: &mut Values) {
    match arg {
        Arg::Fd(n) => {
            if let Some(f) = state.fd(t, *n) {
                out.push_bytes(f.kind.type_name().as_bytes());
            }
        }
        _ => {
            let Some(g) = state.proc_group(t) else {
                return;
            };
            // At most ~18 distinct names: a small linear de-duplication beats hashing.
            let mut seen: [&str; 24] = [""; 24];
            let mut n = 0;
            for f in g.fds.values() {
                let name = f.kind.type_name();
                if !seen[..n].contains(&name) && n < seen.len() {
                    seen[n] = name;
                    n += 1;
                    out.push_bytes(name.as_bytes());
                }
            }
        }
    }
}

// --------------------------------------------------------------------------------------- proc.* / thread.* ----

/// The leader of `t`'s session or process group: the thread with that id on the host, otherwise the eldest
/// ancestor sharing the id.
fn leader<'a>(state: &'a State, t: &'a Thread, id: impl Fn(&Thread) -> i64) -> &'a Thread {
    let mt = state.main_thread(t);
    let want = id(mt);
    if !mt.in_pid_namespace() {
        if let Some(l) = state.thread(want) {
            return l;
        }
    }
    let mut leader = mt;
    for a in state.ancestors(mt) {
        if id(a) != want {
            break;
        }
        leader = a;
    }
    leader
}

fn push_env(t: &Thread, out: &mut Values) {
    push_composed(out, |b| {
        for (i, e) in t.env.iter().enumerate() {
            if i > 0 {
                b.push(b' ');
            }
            b.extend_from_slice(e);
        }
        true
    });
}

impl SysExtractor {
    /// Pushes `pick(ancestor)` for the indexed ancestor, or for every ancestor (`proc.aname` without index).
    fn ancestors(&self, ev: &SysEvent<'_>, t: &Thread, out: &mut Values, pick: impl Fn(&Thread, &mut Values)) {
        match self.arg {
            Arg::Index(n) => {
                if let Some(a) = ev.state.ancestor(t, n) {
                    pick(a, out);
                }
            }
            _ => {
                for a in ev.state.ancestors(t) {
                    pick(a, out);
                }
            }
        }
    }

    fn proc(&self, ev: &SysEvent<'_>, out: &mut Values) {
        use F::*;
        let Some(t) = ev.thread else {
            if self.id == ThreadTid {
                out.push_i64(ev.raw.tid as i64);
            }
            return;
        };
        let st = ev.state;
        let parent = || st.parent(t);
        let ts = ev.raw.ts;
        match self.id {
            ProcExe => out.push_bytes(&t.exe),
            ProcPexe => push_opt(out, parent().map(|p| p.exe.as_slice())),
            ProcAexe => self.ancestors(ev, t, out, |a, o| o.push_bytes(&a.exe)),
            ProcExepath => out.push_bytes(&t.exepath),
            ProcPexepath => push_opt(out, parent().map(|p| p.exepath.as_slice())),
            ProcAexepath => self.ancestors(ev, t, out, |a, o| o.push_bytes(&a.exepath)),
            ProcName => out.push_bytes(&t.comm),
            ProcPname => push_opt(out, parent().map(|p| p.comm.as_slice())),
            ProcAname => self.ancestors(ev, t, out, |a, o| o.push_bytes(&a.comm)),
            ProcArgs => match self.arg {
                Arg::Index(i) => push_opt(out, t.args.get(i).map(Vec::as_slice)),
                _ => out.push_bytes(&t.args_text),
            },
            ProcCmdline => out.push_bytes(&t.cmdline),
            ProcPcmdline => push_opt(out, parent().map(|p| p.cmdline.as_slice())),
            ProcAcmdline => self.ancestors(ev, t, out, |a, o| o.push_bytes(&a.cmdline)),
            ProcAargs => self.ancestors(ev, t, out, |a, o| o.push_bytes(&a.args_text)),
            ProcCmdnargs => out.push_u64(t.args.len() as u64),
            ProcCmdlenargs => out.push_u64(t.args.iter().map(|a| a.len() as u64).sum()),
            ProcExeline => out.push_bytes(&t.exeline),
            ProcEnv => match &self.arg {
                Arg::Key(k) => push_opt(out, t.env_var(k)),
                Arg::Index(i) => push_opt(out, t.env.get(*i).map(Vec::as_slice)),
                _ => push_env(t, out),
            },
            ProcAenv => match &self.arg {
                Arg::Key(k) => {
                    if let Some(v) = st.ancestors(t).take(20).find_map(|a| a.env_var(k)) {
                        out.push_bytes(v);
                    }
                }
                Arg::Index(n) => {
                    if let Some(a) = st.ancestor(t, *n) {
                        push_env(a, out);
                    }
                }
                _ => {
                    for a in st.ancestors(t) {
                        push_env(a, out);
                    }
                }
            },
            ProcCwd => out.push_bytes(st.cwd(t)),
            ProcLoginshellid => {
                let mt = st.main_thread(t);
                let mut found = None;
                for a in std::iter::once(mt).chain(st.ancestors(t)) {
                    if a.comm.ends_with(b"sh") {
                        found = Some(a.pid);
                    }
                }
                if let Some(pid) = found {
                    out.push_i64(pid);
                }
            }
            ProcTty => out.push_u64(u64::from(t.tty)),
            ProcPid => out.push_i64(t.pid),
            ProcPpid => out.push_i64(st.main_thread(t).ptid),
            ProcApid => self.ancestors(ev, t, out, |a, o| o.push_i64(a.pid)),
            ProcVpid => out.push_i64(t.vpid),
            ProcPvpid => {
                if let Some(p) = parent() {
                    out.push_i64(p.vpid);
                }
            }
            ProcSid => out.push_i64(t.sid),
            ProcSname => out.push_bytes(&leader(st, t, |x| x.sid).comm),
            ProcSidExe => out.push_bytes(&leader(st, t, |x| x.sid).exe),
            ProcSidExepath => out.push_bytes(&leader(st, t, |x| x.sid).exepath),
            ProcVpgid => out.push_i64(t.vpgid),
            ProcVpgidName => out.push_bytes(&leader(st, t, |x| x.vpgid).comm),
            ProcVpgidExe => out.push_bytes(&leader(st, t, |x| x.vpgid).exe),
            ProcVpgidExepath => out.push_bytes(&leader(st, t, |x| x.vpgid).exepath),
            ProcDuration => {
                let start = st.main_thread(t).clone_ts;
                if start != 0 {
                    out.push_u64(ts.saturating_sub(start));
                }
            }
            ProcPpidDuration => {
                if let Some(p) = parent().filter(|p| p.clone_ts != 0) {
                    out.push_u64(ts.saturating_sub(p.clone_ts));
                }
            }
            ProcPidTs => out.push_u64(st.main_thread(t).clone_ts),
            ProcPpidTs => {
                if let Some(p) = parent() {
                    out.push_u64(p.clone_ts);
                }
            }
            ProcIsExeWritable => out.push_bool(t.exe_writable),
            ProcIsExeUpperLayer => out.push_bool(t.exe_upper_layer),
            ProcIsExeLowerLayer => out.push_bool(t.exe_lower_layer),
            ProcIsExeFromMemfd => out.push_bool(t.exe_from_memfd),
            ProcIsSidLeader => out.push_bool(t.sid == t.vpid),
            ProcIsVpgidLeader => out.push_bool(t.vpgid == t.vpid),
            ProcExeIno => out.push_i64(t.exe_ino as i64),
            ProcExeInoCtime => out.push_u64(t.exe_ino_ctime),
            ProcExeInoMtime => out.push_u64(t.exe_ino_mtime),
            ProcExeInoCtimeDurProc => {
                let start = st.main_thread(t).clone_ts;
                if start != 0 && t.exe_ino_ctime != 0 {
                    out.push_u64(start.wrapping_sub(t.exe_ino_ctime));
                }
            }
            ProcExeInoCtimeDurPidns if t.pidns_init_start_ts != 0 && t.exe_ino_ctime > t.pidns_init_start_ts => {
                out.push_u64(t.exe_ino_ctime - t.pidns_init_start_ts);
            }
            ProcPidnsInitStartTs => out.push_u64(t.pidns_init_start_ts),
            ThreadCapPermitted | ThreadCapInheritable | ThreadCapEffective => {
                let caps = match self.id {
                    ThreadCapPermitted => t.cap_permitted,
                    ThreadCapInheritable => t.cap_inheritable,
                    _ => t.cap_effective,
                };
                push_composed(out, |b| {
                    caps_to_text(caps, b);
                    true
                });
            }
            ProcIsContainerHealthcheck | ProcIsContainerLiveness | ProcIsContainerReadiness => out.push_bool(false),
            ProcFdopencount => out.push_u64(st.proc_group(t).map(|g| g.fds.len() as u64).unwrap_or(0)),
            ProcFdlimit => out.push_i64(st.main_thread(t).fdlimit),
            ProcFdusage => {
                let limit = st.main_thread(t).fdlimit;
                if limit > 0 {
                    let open = st.proc_group(t).map(|g| g.fds.len()).unwrap_or(0) as f64;
                    out.push_double(open * 100.0 / limit as f64);
                }
            }
            ProcStdinType | ProcStdoutType | ProcStderrType | ProcStdinName | ProcStdoutName | ProcStderrName => {
                let n = match self.id {
                    ProcStdinType | ProcStdinName => 0,
                    ProcStdoutType | ProcStdoutName => 1,
                    _ => 2,
                };
                if let Some(f) = st.fd(t, n) {
                    if matches!(self.id, ProcStdinType | ProcStdoutType | ProcStderrType) {
                        out.push_bytes(f.kind.type_name().as_bytes());
                    } else {
                        out.push_bytes(&f.name);
                    }
                }
            }
            ThreadTid => out.push_i64(t.tid),
            ThreadIsmain => out.push_bool(t.is_main_thread()),
            ThreadVtid => out.push_i64(t.vtid),
            ThreadNametid => push_composed(out, |b| {
                b.extend_from_slice(&t.comm);
                let _ = write!(b, "{}", t.tid);
                true
            }),
            ThreadCgroups => push_composed(out, |b| {
                for (i, (s, p)) in t.cgroups.iter().enumerate() {
                    if i > 0 {
                        b.push(b' ');
                    }
                    b.extend_from_slice(s);
                    b.push(b'=');
                    b.extend_from_slice(p);
                }
                true
            }),
            ThreadCgroup => {
                if let Arg::Key(k) = &self.arg {
                    push_opt(out, t.cgroup(k));
                }
            }
            ProcNthreads => out.push_u64(st.nthreads(t)),
            ProcNchilds => {
                let n = st.nthreads(t);
                let main_alive = st.thread(t.pid).is_some_and(|m| !m.dead);
                out.push_u64(if main_alive { n.saturating_sub(1) } else { n });
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------- user.* / group.* ----

/// A user or group attribute as libsinsp gives it when the table has no entry (a container without that user in its
/// /etc/passwd): id 0 is `root` (home `/root`), anything else the text `<NA>` — a value, not a missing field.
fn user_or_default<'a>(found: Option<&'a [u8]>, id: u32, root_value: &'a [u8]) -> &'a [u8] {
    match found {
        Some(v) => v,
        None if id == 0 && !root_value.is_empty() => root_value,
        None => b"<NA>",
    }
}

fn user(id: F, ev: &SysEvent<'_>, out: &mut Values) {
    use F::*;
    let Some(t) = ev.thread else {
        return;
    };
    let st = ev.state;
    match id {
        UserUid => out.push_u64(u64::from(t.uid)),
        UserName => out.push_bytes(user_or_default(
            st.user_of(t, t.uid).map(|u| u.name.as_slice()),
            t.uid,
            b"root",
        )),
        UserHomedir => out.push_bytes(user_or_default(
            st.user_of(t, t.uid).map(|u| u.home.as_slice()),
            t.uid,
            b"/root",
        )),
        UserShell => out.push_bytes(user_or_default(
            st.user_of(t, t.uid).map(|u| u.shell.as_slice()),
            u32::MAX,
            b"",
        )),
        UserLoginuid => out.push_i64(if t.loginuid == u32::MAX {
            -1
        } else {
            i64::from(t.loginuid)
        }),
        UserLoginname if t.loginuid != u32::MAX => {
            out.push_bytes(user_or_default(
                st.user_of(t, t.loginuid).map(|u| u.name.as_slice()),
                t.loginuid,
                b"root",
            ));
        }
        GroupGid => out.push_u64(u64::from(t.gid)),
        GroupName => out.push_bytes(user_or_default(
            st.group_of(t, t.gid).map(|g| g.name.as_slice()),
            t.gid,
            b"root",
        )),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------- container.* / k8s ----

/// Shell-style glob over bytes (`*`, `?`), for container mount arguments.
fn glob(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    while p < pat.len() && pat[p] == b'*' {
        p += 1;
    }
    p == pat.len()
}

/// Labels as `key:value` pairs in key order, skipping annotations and Kubernetes-internal labels.
fn push_labels(labels: &[(Vec<u8>, Vec<u8>)], out: &mut Values) {
    push_composed(out, |b| {
        let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = labels
            .iter()
            .filter(|(k, _)| !k.starts_with(b"annotation.") && !k.starts_with(b"io.kubernetes."))
            .collect();
        sorted.sort();
        for (i, (k, v)) in sorted.into_iter().enumerate() {
            if i > 0 {
                b.extend_from_slice(b", ");
            }
            b.extend_from_slice(k);
            if !v.is_empty() {
                b.push(b':');
                b.extend_from_slice(v);
            }
        }
        true
    });
}

impl SysExtractor {
    fn mount<'c>(&self, info: &'c ContainerInfo, by_dest: bool) -> Option<&'c ContainerMount> {
        match &self.arg {
            Arg::Index(i) => info.mounts.get(*i),
            Arg::Key(k) => info
                .mounts
                .iter()
                .find(|m| glob(k, if by_dest { &m.dest } else { &m.source })),
            _ => None,
        }
    }

    fn container(&self, ev: &SysEvent<'_>, out: &mut Values) {
        use F::*;
        let Some(t) = ev.thread else {
            return;
        };
        let st = ev.state;
        let info = st.container(&t.container_id);
        match self.id {
            ContainerId => {
                out.push_bytes(&t.container_id);
                return;
            }
            ContainerFullId => {
                push_opt(
                    out,
                    info.and_then(|i| i.full_id.as_deref())
                        .or(t.container_full_id.as_deref()),
                );
                return;
            }
            ContainerType => {
                if let Some(v) = info.and_then(|i| i.runtime.as_deref()) {
                    out.push_bytes(v);
                } else if let Some(rt) = t.container_runtime {
                    out.push_bytes(rt.as_bytes());
                }
                return;
            }
            ContainerStartTs | ContainerDuration => {
                // The runtime's creation time when its metadata arrived; the pid namespace's start otherwise.
                let start = info
                    .and_then(|i| i.created_ts)
                    .filter(|ts| *ts != 0)
                    .unwrap_or(t.pidns_init_start_ts);
                if start != 0 {
                    out.push_u64(if self.id == ContainerStartTs {
                        start
                    } else {
                        ev.raw.ts.saturating_sub(start)
                    });
                }
                return;
            }
            _ => {}
        }
        let Some(info) = info else {
            return;
        };
        match self.id {
            ContainerName => push_opt(out, info.name.as_deref()),
            ContainerImage => push_opt(out, info.image.as_deref()),
            ContainerImageId => push_opt(out, info.image_id.as_deref()),
            ContainerImageRepository => push_opt(out, info.image_repository.as_deref()),
            ContainerImageTag => push_opt(out, info.image_tag.as_deref()),
            ContainerImageDigest => push_opt(out, info.image_digest.as_deref()),
            ContainerPrivileged => {
                if let Some(v) = info.privileged {
                    out.push_bool(v);
                }
            }
            ContainerMounts if info.from_engine || !info.mounts.is_empty() => push_composed(out, |b| {
                for (i, m) in info.mounts.iter().enumerate() {
                    if i > 0 {
                        b.push(b',');
                    }
                    m.render(b);
                }
                true
            }),
            ContainerMount => match self.mount(info, false) {
                Some(m) => push_composed(out, |b| {
                    m.render(b);
                    true
                }),
                None => out.push_bytes(b"none"),
            },
            ContainerMountSource => push_opt(out, self.mount(info, true).map(|m| m.source.as_slice())),
            ContainerMountDest => push_opt(out, self.mount(info, false).map(|m| m.dest.as_slice())),
            ContainerMountMode => push_opt(out, self.mount(info, false).map(|m| m.mode.as_slice())),
            ContainerMountRdwr => {
                if let Some(m) = self.mount(info, false) {
                    out.push_bytes(if m.rdwr { b"true" } else { b"false" });
                }
            }
            ContainerMountPropagation => push_opt(out, self.mount(info, false).map(|m| m.propagation.as_slice())),
            ContainerIp | K8sPodIp => push_opt(out, info.ip.as_deref()),
            ContainerCniJson | K8sPodCniJson => push_opt(out, info.cni_json.as_deref()),
            ContainerHostPid => {
                if let Some(v) = info.host_pid {
                    out.push_bool(v);
                }
            }
            ContainerHostNetwork => {
                if let Some(v) = info.host_network {
                    out.push_bool(v);
                }
            }
            ContainerHostIpc => {
                if let Some(v) = info.host_ipc {
                    out.push_bool(v);
                }
            }
            ContainerLabel => {
                if let Arg::Key(k) = &self.arg {
                    push_opt(out, info.label(k));
                }
            }
            ContainerLabels if info.from_engine || !info.labels.is_empty() => push_labels(&info.labels, out),
            K8sPodName => push_opt(out, info.label(b"io.kubernetes.pod.name")),
            K8sNsName => push_opt(out, info.label(b"io.kubernetes.pod.namespace")),
            K8sPodId | K8sPodUid => push_opt(out, info.label(b"io.kubernetes.pod.uid")),
            K8sPodSandboxId => push_opt(
                out,
                info.pod_sandbox_id
                    .as_deref()
                    .map(|s| &s[..s.len().min(mamoru_state::SHORT_ID_LEN)]),
            ),
            K8sPodFullSandboxId => push_opt(out, info.pod_sandbox_id.as_deref()),
            K8sPodLabel => {
                if let Arg::Key(k) = &self.arg {
                    push_opt(out, info.pod_label(k));
                }
            }
            K8sPodLabels if !info.pod_sandbox_labels.is_empty() => push_labels(&info.pod_sandbox_labels, out),
            // Deprecated fields the container plugin no longer fills.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_paths() {
        assert!(glob(b"/var/run/*.sock", b"/var/run/docker.sock"));
        assert!(glob(b"/usr/lo?al/*", b"/usr/local/bin"));
        assert!(!glob(b"/etc", b"/etc/passwd"));
        assert_eq!(dirname(b"/etc/passwd"), b"/etc");
        assert_eq!(dirname(b"/passwd"), b"/");
        assert_eq!(basename(b"/etc/passwd"), b"passwd");
        assert_eq!(basename(b"noslash"), b"/");
    }
}
