//! Event parsers: how each syscall (exit event, every version in the table) changes the tables. Parameters are
//! looked up by name, so old event layouts work; when an old capture keeps a parameter in the enter event, the
//! enter event stored for the thread supplies it.

use crate::caps::ALL_CAPS;
use crate::fd::{self, oflags, Fd, FdKind, Role, L4};
use crate::path;
use crate::pkey::Pk;
use crate::thread::{assign_bytes, assign_list, clone_flags as cl, exe_flags, truncate_pairs, Thread};
use crate::{copy_fd, EventContext, FdTable, State};
use mamoru_event::{cat, event_info, event_table, flags, Direction, EventBuilder, RawEvent, SockAddr, SockTuple};
use mamoru_event::{GroupRecord, UserRecord};
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// `AT_FDCWD` as the drivers encode it.
pub(crate) const AT_FDCWD: i64 = -100;
const EINPROGRESS: i64 = 115;
/// A clone child entry younger than this is trusted when the child's own clone exit arrives (libsinsp's value).
const CLONE_STALE_TIME_NS: u64 = 2_000_000_000;
/// Enter events larger than this are not kept for their exit event.
const MAX_ENTER_BYTES: usize = 16 * 1024;
/// Upper bound on the bytes of enter events kept across all threads.
const MAX_ENTER_BYTES_TOTAL: usize = 64 * 1024 * 1024;

const PR_SET_NAME: u64 = 15;
const PR_SET_CHILD_SUBREAPER: u64 = 36;
const RLIMIT_NOFILE: u64 = 7;
const FCNTL_F_DUPFD: i64 = 1;
const FCNTL_F_SETFD: i64 = 3;
const FCNTL_F_DUPFD_CLOEXEC: i64 = 26;
const AF_UNIX: u64 = 1;
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
const AF_NETLINK: u64 = 16;

/// Fd kinds created by single-fd syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Simple {
    Event,
    SignalFd,
    Timerfd,
    Inotify,
    Bpf,
    UserFaultFd,
    IoUring,
    EventPoll,
}

impl Simple {
    fn kind(self) -> FdKind {
        match self {
            Simple::Event => FdKind::Event,
            Simple::SignalFd => FdKind::SignalFd,
            Simple::Timerfd => FdKind::Timerfd,
            Simple::Inotify => FdKind::Inotify,
            Simple::Bpf => FdKind::Bpf,
            Simple::UserFaultFd => FdKind::UserFaultFd,
            Simple::IoUring => FdKind::IoUring,
            Simple::EventPoll => FdKind::EventPoll,
        }
    }
}

/// What to do with an event code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum H {
    Nothing,
    StoreEnter,
    Meta,
    Clone,
    Execve,
    ProcExit,
    Open,
    Socket,
    Bind,
    Connect,
    Accept,
    Close,
    CloseRange,
    Pipe,
    SocketPair,
    NewFd(Simple),
    Memfd,
    PidfdOpen,
    PidfdGetfd,
    Dup,
    Fcntl,
    Chdir,
    Fchdir,
    Getcwd,
    SetUid(Pk),
    SetGid(Pk),
    Setsid,
    Setpgid,
    Capset,
    Prctl,
    Chroot,
    UnshareSetns,
    Rlimit,
    Prlimit,
    SockIo { inbound: bool },
    UserAdded,
    UserDeleted,
    GroupAdded,
    GroupDeleted,
}

fn exit_handler(name: &str) -> H {
    match name {
        "clone" | "fork" | "vfork" | "clone3" => H::Clone,
        "execve" | "execveat" => H::Execve,
        "open" | "openat" | "openat2" | "creat" | "open_by_handle_at" => H::Open,
        "socket" => H::Socket,
        "bind" => H::Bind,
        "connect" => H::Connect,
        "accept" | "accept4" => H::Accept,
        "close" => H::Close,
        "close_range" => H::CloseRange,
        "pipe" | "pipe2" => H::Pipe,
        "socketpair" => H::SocketPair,
        "eventfd" | "eventfd2" => H::NewFd(Simple::Event),
        "signalfd" | "signalfd4" => H::NewFd(Simple::SignalFd),
        "timerfd_create" => H::NewFd(Simple::Timerfd),
        "inotify_init" | "inotify_init1" => H::NewFd(Simple::Inotify),
        "bpf" => H::NewFd(Simple::Bpf),
        "userfaultfd" => H::NewFd(Simple::UserFaultFd),
        "io_uring_setup" => H::NewFd(Simple::IoUring),
        "epoll_create" | "epoll_create1" => H::NewFd(Simple::EventPoll),
        "memfd_create" => H::Memfd,
        "pidfd_open" => H::PidfdOpen,
        "pidfd_getfd" => H::PidfdGetfd,
        "dup" | "dup2" | "dup3" => H::Dup,
        "fcntl" => H::Fcntl,
        "chdir" => H::Chdir,
        "fchdir" => H::Fchdir,
        "getcwd" => H::Getcwd,
        "setuid" => H::SetUid(Pk::Uid),
        "setresuid" | "setreuid" => H::SetUid(Pk::Euid),
        "setgid" => H::SetGid(Pk::Gid),
        "setresgid" | "setregid" => H::SetGid(Pk::Egid),
        "setsid" => H::Setsid,
        "setpgid" => H::Setpgid,
        "capset" => H::Capset,
        "prctl" => H::Prctl,
        "chroot" => H::Chroot,
        "unshare" | "setns" => H::UnshareSetns,
        "getrlimit" | "setrlimit" => H::Rlimit,
        "prlimit" => H::Prlimit,
        "recv" | "recvfrom" | "recvmsg" | "recvmmsg" => H::SockIo { inbound: true },
        "send" | "sendto" | "sendmsg" | "sendmmsg" => H::SockIo { inbound: false },
        _ => H::Nothing,
    }
}

fn enter_handler(code: u16, name: &str) -> H {
    match name {
        "procexit" => H::ProcExit,
        "useradded" => H::UserAdded,
        "userdeleted" => H::UserDeleted,
        "groupadded" => H::GroupAdded,
        "groupdeleted" => H::GroupDeleted,
        "container" | "asyncevent" | "pluginevent" | "drop" | "notification" | "infra" | "cpu_hotplug" => H::Meta,
        _ => {
            let pair_has_handler = code
                .checked_add(1)
                .and_then(event_info)
                .is_some_and(|x| x.dir == Direction::Exit && exit_handler(x.name) != H::Nothing);
            let uses_fd = event_info(code).is_some_and(|i| i.has_flag(flags::USES_FD));
            if (pair_has_handler || uses_fd) && event_info(code).is_some_and(|i| !i.params.is_empty()) {
                H::StoreEnter
            } else {
                H::Nothing
            }
        }
    }
}

fn handlers() -> &'static [H] {
    static TABLE: OnceLock<Vec<H>> = OnceLock::new();
    TABLE.get_or_init(|| {
        event_table()
            .iter()
            .map(|info| {
                if info.is_unused() {
                    H::Nothing
                } else if info.dir == Direction::Exit {
                    exit_handler(info.name)
                } else {
                    enter_handler(info.code, info.name)
                }
            })
            .collect()
    })
}

/// An exit event plus, for old layouts, the matching enter event.
/// Both are borrowed: a `RawEvent` carries its parameter spans and is large to copy.
#[derive(Clone, Copy)]
struct Ev<'r, 'a> {
    raw: &'r RawEvent<'a>,
    enter: Option<&'r RawEvent<'a>>,
}

impl<'a> Ev<'_, 'a> {
    /// The event holding a non-empty parameter `name` and its index (borrowed: a `RawEvent` is large to copy).
    fn find(&self, name: Pk) -> Option<(&RawEvent<'a>, usize, &'a [u8])> {
        if let Some(i) = name.index(self.raw) {
            if let Some(b) = self.raw.param(i).filter(|b| !b.is_empty()) {
                return Some((self.raw, i, b));
            }
        }
        let e = self.enter?;
        let i = name.index(e)?;
        e.param(i).filter(|b| !b.is_empty()).map(|b| (e, i, b))
    }

    fn bytes(&self, name: Pk) -> Option<&'a [u8]> {
        self.find(name).map(|(_, _, b)| b)
    }

    /// A string parameter: the bytes up to the first NUL.
    fn str(&self, name: Pk) -> Option<&'a [u8]> {
        let (_, _, b) = self.find(name)?;
        Some(b.iter().position(|c| *c == 0).map_or(b, |n| &b[..n]))
    }

    fn int(&self, name: Pk) -> Option<i64> {
        self.uint(name).map(|v| v as i64)
    }

    /// An integer parameter at its declared width, sign-extended for signed types (as [`RawEvent::param_u64`]
    /// decodes it, from the bytes `find` already sliced).
    fn uint(&self, name: Pk) -> Option<u64> {
        let (e, i, b) = self.find(name)?;
        let signed = e.info().params.get(i).is_some_and(|p| p.ty.is_signed());
        decode_int(b, signed)
    }

    /// The return value: the first parameter when it is `res` or the new `fd` (as [`RawEvent::result`] decides,
    /// by index instead of by name), else a `res` parameter anywhere in the exit or enter event.
    fn res(&self) -> Option<i64> {
        let first_is_result = Pk::Res.index(self.raw) == Some(0) || Pk::Fd.index(self.raw) == Some(0);
        first_is_result
            .then(|| self.raw.param_i64(0))
            .flatten()
            .or_else(|| self.int(Pk::Res))
    }

    fn name(&self) -> &'static str {
        self.raw.name()
    }
}

/// A little-endian integer of 1, 2, 4 or 8 bytes (other widths are not integers).
fn decode_int(b: &[u8], signed: bool) -> Option<u64> {
    Some(match *b {
        [x] if signed => x as i8 as i64 as u64,
        [x] => u64::from(x),
        [x, y] if signed => i16::from_le_bytes([x, y]) as i64 as u64,
        [x, y] => u64::from(u16::from_le_bytes([x, y])),
        [a, b2, c, d] if signed => i32::from_le_bytes([a, b2, c, d]) as i64 as u64,
        [a, b2, c, d] => u64::from(u32::from_le_bytes([a, b2, c, d])),
        [a, b2, c, d, e, f, g, h] => u64::from_le_bytes([a, b2, c, d, e, f, g, h]),
        _ => return None,
    })
}

/// Entry point from [`State::process_event`].
pub(crate) fn process(st: &mut State, raw: &RawEvent<'_>) {
    let h = handlers().get(raw.etype as usize).copied().unwrap_or(H::Nothing);
    let tid = raw.tid as i64;
    st.ctx = EventContext {
        ts: raw.ts,
        tid,
        fd: None,
        fd_name_changed: false,
    };
    let ev0 = Ev { raw, enter: None };
    match h {
        H::Meta => return,
        H::UserAdded | H::UserDeleted | H::GroupAdded | H::GroupDeleted => {
            on_user_event(st, &ev0, h);
            return;
        }
        H::ProcExit => {
            on_procexit(st, &ev0, tid);
            return;
        }
        H::Clone if ev0.res() == Some(0) => {}
        // Scheduler and internal events never create threads (libsinsp only looks them up).
        _ if raw.info().category & (cat::SCHEDULER | cat::INTERNAL | cat::METAEVENT) != 0 => {
            if let Some(t) = st.threads.get_mut(&tid) {
                t.last_seen_ts = raw.ts;
            }
        }
        _ => ensure_thread(st, tid, raw.ts),
    }
    if raw.info().dir == Direction::Enter {
        if h == H::StoreEnter {
            store_enter(st, raw, tid);
        }
        return;
    }
    // Exit: pair with the stored enter event when it belongs to this syscall.
    let enter_buf = st
        .threads
        .get_mut(&tid)
        .map(|t| std::mem::take(&mut t.last_enter))
        .unwrap_or_default();
    st.enter_bytes = st.enter_bytes.saturating_sub(enter_buf.len());
    // Current drivers send exit events only: skip decoding when no enter event was kept.
    let enter = (!enter_buf.is_empty())
        .then(|| RawEvent::parse(&enter_buf, raw.cpu).ok())
        .flatten()
        .filter(|e| e.etype.checked_add(1) == Some(raw.etype) || (raw.name() == "execve" && e.name() == "execveat"));
    let ev = Ev {
        raw,
        enter: enter.as_ref(),
    };
    st.ctx.fd = event_fd(&ev);
    let tracks_name = matches!(h, H::Bind | H::Connect | H::SockIo { .. });
    // The name before the event, kept in a reused buffer (`None`: no such fd).
    let mut before = std::mem::take(&mut st.name_before);
    let had_fd = tracks_name && copy_fd_name(st, tid, st.ctx.fd, &mut before);
    dispatch(st, &ev, h, tid);
    if tracks_name {
        let after = st.ctx.fd.and_then(|n| st.fd_of_tid(tid, n)).map(|f| f.name.as_slice());
        st.ctx.fd_name_changed = match after {
            Some(name) => !had_fd || name != before.as_slice(),
            None => had_fd,
        };
    }
    st.name_before = before;
}

/// Copies the name of fd `fd` of `tid` into `out`; false when there is no such fd.
fn copy_fd_name(st: &State, tid: i64, fd: Option<i64>, out: &mut Vec<u8>) -> bool {
    out.clear();
    match fd.and_then(|n| st.fd_of_tid(tid, n)) {
        Some(f) => {
            out.extend_from_slice(&f.name);
            true
        }
        None => false,
    }
}

fn dispatch(st: &mut State, ev: &Ev<'_, '_>, h: H, tid: i64) {
    match h {
        H::Clone => on_clone(st, ev, tid),
        H::Execve => on_execve(st, ev, tid),
        H::Open => on_open(st, ev, tid),
        H::Socket => on_socket(st, ev, tid),
        H::Bind => on_bind(st, ev, tid),
        H::Connect => on_connect(st, ev, tid),
        H::Accept => on_accept(st, ev, tid),
        H::Close => on_close(st, ev, tid),
        H::CloseRange => on_close_range(st, ev, tid),
        H::Pipe => on_pipe(st, ev, tid),
        H::SocketPair => on_socketpair(st, ev, tid),
        H::NewFd(k) => on_new_fd(st, ev, tid, k),
        H::Memfd => on_memfd(st, ev, tid),
        H::PidfdOpen => on_pidfd_open(st, ev, tid),
        H::PidfdGetfd => on_pidfd_getfd(st, ev, tid),
        H::Dup => on_dup(st, ev, tid),
        H::Fcntl => on_fcntl(st, ev, tid),
        H::Chdir | H::Getcwd => on_chdir(st, ev, tid),
        H::Fchdir => on_fchdir(st, ev, tid),
        H::SetUid(p) => on_setid(st, ev, tid, p, true),
        H::SetGid(p) => on_setid(st, ev, tid, p, false),
        H::Setsid => on_setsid(st, ev, tid),
        H::Setpgid => on_setpgid(st, ev, tid),
        H::Capset => on_capset(st, ev, tid),
        H::Prctl => on_prctl(st, ev, tid),
        H::Chroot => on_chroot(st, ev, tid),
        H::UnshareSetns => on_unshare(st, ev, tid),
        H::Rlimit => on_rlimit(st, ev, tid),
        H::Prlimit => on_prlimit(st, ev, tid),
        H::SockIo { inbound } => on_sockio(st, ev, tid, inbound),
        _ => {}
    }
}

/// The fd an exit event uses or creates, from its own parameters.
pub(crate) fn exit_event_fd(raw: &RawEvent<'_>) -> Option<i64> {
    event_fd(&Ev { raw, enter: None })
}

fn event_fd(ev: &Ev<'_, '_>) -> Option<i64> {
    let info = ev.raw.info();
    if info.dir != Direction::Exit {
        return None;
    }
    if info.has_flag(flags::CREATES_FD) {
        let res = ev.res();
        return match ev.name() {
            "pipe" | "pipe2" | "socketpair" => match res {
                Some(r) if r >= 0 => ev.int(Pk::Fd1),
                r => r,
            },
            _ => res.or_else(|| ev.int(Pk::Fd)),
        };
    }
    if info.has_flag(flags::USES_FD) {
        return ev.int(Pk::Fd).or_else(|| first_fd_param(ev));
    }
    None
}

fn first_fd_param(ev: &Ev<'_, '_>) -> Option<i64> {
    let info = ev.raw.info();
    let i = info.params.iter().position(|p| {
        matches!(p.ty, mamoru_event::ParamType::Fd | mamoru_event::ParamType::Fd32)
            && !matches!(p.name, "res" | "dirfd" | "olddirfd" | "newdirfd" | "linkdirfd")
    })?;
    ev.raw.param_i64(i)
}

/// Makes sure `tid` has an entry: refreshes it, looks it up in `/proc` (live mode), or creates a placeholder.
fn ensure_thread(st: &mut State, tid: i64, ts: u64) {
    if let Some(t) = st.threads.get_mut(&tid) {
        t.last_seen_ts = ts;
        t.flags |= cl::ACTIVE;
        return;
    }
    if tid <= 0 {
        return;
    }
    if st.cfg.live && lookup_allowed(st, ts) {
        let root = st.cfg.host_root.clone();
        if let Some(rec) = crate::procfs::read_one(&root, tid) {
            st.stats.proc_lookups += 1;
            st.add_thread(rec);
            if let Some(t) = st.threads.get_mut(&tid) {
                t.last_seen_ts = ts;
                t.flags |= cl::ACTIVE;
            }
            return;
        }
    }
    let mut t = Thread::placeholder(tid);
    t.last_seen_ts = ts;
    st.stats.placeholder_threads += 1;
    st.insert_thread(t);
}

fn lookup_allowed(st: &mut State, ts: u64) -> bool {
    let sec = ts / 1_000_000_000;
    if st.lookup_window.0 != sec {
        st.lookup_window = (sec, 0);
    }
    if st.lookup_window.1 >= st.cfg.max_proc_lookups_per_sec {
        return false;
    }
    st.lookup_window.1 += 1;
    true
}

/// Keeps an enter event (re-encoded in the V2 layout) for its exit event.
fn store_enter(st: &mut State, raw: &RawEvent<'_>, tid: i64) {
    let old = st.threads.get(&tid).map(|t| t.last_enter.len()).unwrap_or(0);
    st.enter_bytes = st.enter_bytes.saturating_sub(old);
    if let Some(t) = st.threads.get_mut(&tid) {
        t.last_enter.clear();
    }
    if raw.bytes().len() > MAX_ENTER_BYTES || st.enter_bytes + raw.bytes().len() > MAX_ENTER_BYTES_TOTAL {
        return;
    }
    let mut b = EventBuilder::new(raw.etype, raw.ts, raw.tid);
    for i in 0..raw.nparams() {
        b = b.bytes(raw.param(i).unwrap_or(&[]));
    }
    let bytes = b.finish();
    if let Some(t) = st.threads.get_mut(&tid) {
        st.enter_bytes += bytes.len();
        t.last_enter = bytes;
    }
}

// ---------------------------------------------------------------------------------------------- processes ----

/// Copies what a new process or thread inherits from `p`.
/// `spare` is a removed entry whose buffers are reused (its values are all replaced); list items it has beyond
/// `p`'s go to `pool`.
fn inherit(p: &Thread, child_tid: i64, spare: Option<Thread>, pool: &mut Vec<Vec<u8>>) -> Thread {
    let Thread {
        mut comm,
        mut exe,
        mut exepath,
        mut args,
        mut env,
        mut root,
        mut cgroups,
        mut container_id,
        mut container_full_id,
        mut args_text,
        mut cmdline,
        mut exeline,
        mut children,
        mut last_enter,
        ..
    } = spare.unwrap_or_default();
    comm.clone_from(&p.comm);
    exe.clone_from(&p.exe);
    exepath.clone_from(&p.exepath);
    assign_list(&mut args, p.args.iter().map(Vec::as_slice), pool);
    assign_list(&mut env, p.env.iter().map(Vec::as_slice), pool);
    root.clone_from(&p.root);
    truncate_pairs(&mut cgroups, p.cgroups.len(), pool);
    for (i, (subsys, path)) in p.cgroups.iter().enumerate() {
        match cgroups.get_mut(i) {
            Some((s, q)) => {
                s.clone_from(subsys);
                q.clone_from(path);
            }
            None => {
                let (mut s, mut q) = (crate::take_pooled(pool), crate::take_pooled(pool));
                assign_bytes(&mut s, subsys);
                assign_bytes(&mut q, path);
                cgroups.push((s, q));
            }
        }
    }
    container_id.clone_from(&p.container_id);
    container_full_id.clone_from(&p.container_full_id);
    // Rendered or filled later; empty as in a new entry.
    args_text.clear();
    cmdline.clear();
    exeline.clear();
    children.clear();
    last_enter.clear();
    Thread {
        tid: child_tid,
        sid: p.sid,
        vpgid: p.vpgid,
        pgid: p.pgid,
        comm,
        exe,
        exepath,
        args,
        env,
        uid: p.uid,
        gid: p.gid,
        loginuid: p.loginuid,
        tty: p.tty,
        cap_inheritable: p.cap_inheritable,
        cap_permitted: p.cap_permitted,
        cap_effective: p.cap_effective,
        exe_ino: p.exe_ino,
        exe_ino_ctime: p.exe_ino_ctime,
        exe_ino_mtime: p.exe_ino_mtime,
        exe_writable: p.exe_writable,
        exe_upper_layer: p.exe_upper_layer,
        exe_lower_layer: p.exe_lower_layer,
        exe_from_memfd: p.exe_from_memfd,
        fdlimit: p.fdlimit,
        pidns_init_start_ts: p.pidns_init_start_ts,
        root,
        cgroups,
        container_id,
        container_full_id,
        container_runtime: p.container_runtime,
        reaper_tid: -1,
        args_text,
        cmdline,
        exeline,
        children,
        last_enter,
        ..Default::default()
    }
}

/// Fills a new thread from the clone event's own parameters.
fn fill_from_clone(t: &mut Thread, ev: &Ev<'_, '_>, ts: u64, pool: &mut Vec<Vec<u8>>) {
    if let Some(exe) = ev.str(Pk::Exe) {
        assign_bytes(&mut t.exe, exe);
    }
    if let Some(args) = ev.bytes(Pk::Args) {
        t.set_args_pooled(args, pool);
    }
    match ev.str(Pk::Comm) {
        Some(c) => assign_bytes(&mut t.comm, c),
        None if !t.exe.is_empty() && t.comm.is_empty() => t.comm = t.exe.clone(),
        None => {}
    }
    if let Some(v) = ev.int(Pk::Fdlimit) {
        t.fdlimit = v;
    }
    if let Some(v) = ev.uint(Pk::Uid) {
        t.uid = v as u32;
    }
    if let Some(v) = ev.uint(Pk::Gid) {
        t.gid = v as u32;
    }
    if let Some(cg) = ev.bytes(Pk::Cgroups) {
        t.set_cgroups_pooled(cg, pool);
    }
    t.clone_ts = ts;
    t.render_cmdline();
}

fn on_clone(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    match ev.res() {
        Some(0) => clone_child(st, ev, tid),
        Some(child) if child > 0 => clone_caller(st, ev, tid, child),
        _ => {}
    }
}

/// The parent's side of clone: creates the child unless the child's own event is the reliable source (pid
/// namespaces, vfork).
fn clone_caller(st: &mut State, ev: &Ev<'_, '_>, caller_tid: i64, child_tid: i64) {
    let ts = ev.raw.ts;
    let flags = ev.uint(Pk::Flags).unwrap_or(0) as u32;
    let Some(caller) = st.threads.get_mut(&caller_tid) else {
        return;
    };
    let mut new_group = None;
    if caller.invalid {
        // Patch what the event tells about the caller itself.
        if let Some(pid) = ev.int(Pk::Pid) {
            caller.pid = pid;
            new_group = Some(pid);
        }
        if let Some(ptid) = ev.int(Pk::Ptid) {
            caller.ptid = ptid;
        }
        caller.vtid = ev.int(Pk::Vtid).unwrap_or(caller_tid);
        caller.vpid = ev.int(Pk::Vpid).unwrap_or(-1);
        if let Some(exe) = ev.str(Pk::Exe) {
            assign_bytes(&mut caller.exe, exe);
            assign_bytes(&mut caller.comm, ev.str(Pk::Comm).unwrap_or(exe));
        }
        if let Some(args) = ev.bytes(Pk::Args) {
            caller.set_args_pooled(args, &mut st.name_bufs);
        }
        if let Some(cg) = ev.bytes(Pk::Cgroups) {
            caller.set_cgroups_pooled(cg, &mut st.name_bufs);
        }
        caller.invalid = false;
        caller.render_cmdline();
    }
    let in_container = flags & (cl::CHILD_IN_PIDNS | cl::CLONE_NEWPID | cl::CLONE_PARENT) != 0
        || (caller.vtid >= 0 && caller.tid != caller.vtid);
    let vfork = flags & cl::CLONE_VFORK != 0 || ev.name() == "vfork";
    if let Some(g) = new_group {
        st.regroup(caller_tid, g);
    }
    if in_container || vfork {
        return;
    }
    if let Some(existing) = st.threads.get(&child_tid) {
        if existing.flags & cl::CLONE_INVERTED != 0 {
            return;
        }
        st.remove_thread(child_tid);
        st.stats.tid_collisions += 1;
    }
    let Some(caller) = st.threads.get(&caller_tid) else {
        return;
    };
    let mut child = inherit(caller, child_tid, st.spare_threads.pop(), &mut st.name_bufs);
    child.flags = flags;
    let is_thread = flags & cl::CLONE_THREAD != 0;
    if is_thread {
        child.pid = caller.pid;
        child.ptid = caller.ptid;
        child.group = caller.group;
        child.flags |= cl::CLONE_FILES;
        child.lastexec_ts = caller.lastexec_ts;
    } else {
        child.pid = child_tid;
        child.ptid = caller_tid;
        child.group = child_tid;
    }
    child.vtid = child.tid;
    child.vpid = child.pid;
    child.last_seen_ts = ts;
    let caller_group = caller.group;
    fill_from_clone(&mut child, ev, ts, &mut st.name_bufs);
    st.insert_thread(child);
    if !is_thread {
        copy_group(st, caller_group, child_tid);
    }
}

/// Gives new process `child` a copy of `from`'s fd table (shared until either side changes it) and working
/// directory.
fn copy_group(st: &mut State, from: i64, child: i64) {
    let Some(fds) = st.groups.get(&from).map(|g| g.fds.clone()) else {
        return;
    };
    let mut cwd = st.take_name_buf();
    if let Some(g) = st.groups.get(&from) {
        cwd.extend_from_slice(&g.cwd);
    }
    let Some(g) = st.groups.get_mut(&child) else {
        return;
    };
    let old_fds = std::mem::replace(&mut g.fds, fds);
    let old_cwd = std::mem::replace(&mut g.cwd, cwd);
    crate::recycle_name_buf(&mut st.name_bufs, old_cwd);
    st.recycle_fd_table(old_fds);
}

/// The child's side of clone: authoritative for processes in pid namespaces and for vfork children.
fn clone_child(st: &mut State, ev: &Ev<'_, '_>, child_tid: i64) {
    let ts = ev.raw.ts;
    if let Some(t) = st.threads.get(&child_tid) {
        if t.clone_ts != 0 && ts.saturating_sub(t.clone_ts) < CLONE_STALE_TIME_NS && !t.invalid {
            let t = st.threads.get_mut(&child_tid);
            if let Some(t) = t {
                t.last_seen_ts = ts;
            }
            return;
        }
        st.remove_thread(child_tid);
        st.stats.tid_collisions += 1;
    }
    let pid = ev.int(Pk::Pid).unwrap_or(child_tid);
    let ptid = ev.int(Pk::Ptid).unwrap_or(-1);
    let flags = ev.uint(Pk::Flags).unwrap_or(0) as u32 | cl::CLONE_INVERTED;
    let is_leader = flags & cl::CLONE_THREAD == 0;
    let lookup_tid = if is_leader { ptid } else { pid };
    let lookup = st.threads.get(&lookup_tid).filter(|t| !t.invalid);
    let mut child = match lookup {
        Some(p) => inherit(p, child_tid, st.spare_threads.pop(), &mut st.name_bufs),
        None => {
            let mut t = Thread::placeholder(child_tid);
            t.invalid = false;
            t
        }
    };
    child.pid = pid;
    child.ptid = ptid;
    child.flags = flags;
    child.vtid = ev.int(Pk::Vtid).unwrap_or(child_tid);
    child.vpid = ev.int(Pk::Vpid).unwrap_or(-1);
    child.group = if pid > 0 { pid } else { child_tid };
    child.last_seen_ts = ts;
    if !is_leader {
        child.flags |= cl::CLONE_FILES;
        child.lastexec_ts = lookup.map(|l| l.lastexec_ts).unwrap_or(0);
    }
    let in_container =
        flags & (cl::CHILD_IN_PIDNS | cl::CLONE_NEWPID) != 0 || (child.vtid >= 0 && child.vtid != child_tid);
    if in_container {
        if let Some(v) = ev.uint(Pk::PidnsInitStartTs) {
            child.pidns_init_start_ts = v.saturating_add(st.cfg.boot_ts);
        }
    } else if st.cfg.boot_ts != 0 {
        child.pidns_init_start_ts = st.cfg.boot_ts;
    }
    let lookup_group = lookup.map(|l| l.group);
    fill_from_clone(&mut child, ev, ts, &mut st.name_bufs);
    st.insert_thread(child);
    if is_leader {
        if let Some(g) = lookup_group {
            copy_group(st, g, child_tid);
        }
    }
}

fn on_execve(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let ts = ev.raw.ts;
    // exepath from the enter event of old layouts, resolved before the thread is borrowed mutably.
    let exepath_from_enter = ev
        .str(Pk::TrustedExepath)
        .is_none()
        .then(|| exepath_from_enter(st, ev, tid))
        .flatten();
    let Some(t) = st.threads.get_mut(&tid) else {
        return;
    };
    if t.dead {
        t.dead = false;
        if let Some(g) = st.groups.get_mut(&t.group) {
            g.alive += 1;
        }
    }
    let Some(t) = st.threads.get_mut(&tid) else {
        return;
    };
    if let Some(exe) = ev.str(Pk::Exe) {
        assign_bytes(&mut t.exe, exe);
    }
    t.lastexec_ts = ts;
    match ev.str(Pk::Comm) {
        Some(c) => assign_bytes(&mut t.comm, c),
        None => {
            let Thread { comm, exe, .. } = &mut *t;
            assign_bytes(comm, exe);
        }
    }
    match ev.bytes(Pk::Args) {
        Some(a) => t.set_args_pooled(a, &mut st.name_bufs),
        None => assign_list(&mut t.args, std::iter::empty(), &mut st.name_bufs),
    }
    let mut new_group = None;
    if let Some(pid) = ev.int(Pk::Pid) {
        t.pid = pid;
        new_group = Some(pid);
    }
    if t.invalid {
        if let Some(ptid) = ev.int(Pk::Ptid) {
            t.ptid = ptid;
        }
        if t.flags & cl::CHILD_IN_PIDNS == 0 {
            t.vtid = t.tid;
            t.vpid = t.pid;
        }
        t.invalid = false;
    }
    if let Some(v) = ev.int(Pk::Fdlimit) {
        t.fdlimit = v;
    }
    if let Some(env) = ev.bytes(Pk::Env) {
        t.set_env_pooled(env, &mut st.name_bufs);
    }
    if let Some(cg) = ev.bytes(Pk::Cgroups) {
        t.set_cgroups_pooled(cg, &mut st.name_bufs);
    }
    if let Some(v) = ev.uint(Pk::Tty) {
        t.tty = v as u32;
    }
    if let Some(p) = ev.str(Pk::TrustedExepath) {
        assign_bytes(&mut t.exepath, p);
    } else if let Some(p) = exepath_from_enter {
        t.exepath = p;
    } else if t.exe.first() == Some(&b'/') {
        let Thread { exe, exepath, .. } = t;
        assign_bytes(exepath, exe);
    } else {
        // Old layouts without the path: unknown beats the stale path of the previous image.
        t.exepath.clear();
    }
    if let Some(v) = ev.int(Pk::Vpgid) {
        t.vpgid = v;
    }
    if let Some(v) = ev.uint(Pk::Loginuid) {
        t.loginuid = v as u32;
    }
    if let Some(f) = ev.uint(Pk::Flags) {
        let f = f as u32;
        t.exe_writable = f & exe_flags::WRITABLE != 0;
        t.exe_upper_layer = f & exe_flags::UPPER_LAYER != 0;
        t.exe_from_memfd = f & exe_flags::FROM_MEMFD != 0;
        t.exe_lower_layer = f & exe_flags::LOWER_LAYER != 0;
    }
    if let (Some(i), Some(p), Some(e)) = (
        ev.uint(Pk::CapInheritable),
        ev.uint(Pk::CapPermitted),
        ev.uint(Pk::CapEffective),
    ) {
        t.cap_inheritable = i;
        t.cap_permitted = p;
        t.cap_effective = e;
    }
    if let Some(ino) = ev.uint(Pk::ExeIno) {
        t.exe_ino = ino;
        t.exe_ino_ctime = ev.uint(Pk::ExeInoCtime).unwrap_or(0);
        t.exe_ino_mtime = ev.uint(Pk::ExeInoMtime).unwrap_or(0);
    }
    if let Some(v) = ev.uint(Pk::Uid) {
        t.uid = v as u32;
    }
    t.pgid = ev.int(Pk::Pgid).unwrap_or(-1);
    if let Some(v) = ev.uint(Pk::Gid) {
        t.gid = v as u32;
    }
    let keep = t.flags & (cl::PIPE_SRC | cl::PIPE_DST | cl::IS_MAIN_THREAD | cl::CLONE_INVERTED);
    t.flags = cl::ACTIVE | cl::NAME_CHANGED | keep;
    t.render_cmdline();
    let cwd_param = ev.str(Pk::Cwd).filter(|c| c.first() == Some(&b'/'));
    if let Some(g) = new_group {
        st.regroup(tid, g);
    }
    let Some(group) = st.threads.get(&tid).map(|t| t.group) else {
        return;
    };
    // The other threads of the process are gone after a successful exec; so are close-on-exec fds.
    while let Some(other) = st
        .groups
        .get(&group)
        .and_then(|g| g.members.iter().copied().find(|m| *m != tid))
    {
        st.remove_thread(other);
    }
    if let Some(g) = st.groups.get_mut(&group) {
        drop_cloexec_fds(&mut g.fds, &mut st.spare_fd_tables, &mut st.name_bufs);
        if let Some(cwd) = cwd_param {
            path::as_cwd_into(cwd, &mut g.cwd);
        }
    }
}

/// Removes the close-on-exec entries of a process's fd table. A table still shared with another process is not
/// copied whole first: only the entries that survive are, into a recycled table.
/// The buffers of dropped entries go to `pool`, and copies take theirs from it.
fn drop_cloexec_fds(fds: &mut Arc<FdTable>, spare_tables: &mut Vec<Arc<FdTable>>, pool: &mut Vec<Vec<u8>>) {
    if !fds.values().any(Fd::cloexec) {
        return;
    }
    if let Some(own) = Arc::get_mut(fds) {
        own.retain(|_, f| {
            if !f.cloexec() {
                return true;
            }
            crate::recycle_name_buf(pool, std::mem::take(&mut f.name));
            crate::recycle_name_buf(pool, std::mem::take(&mut f.name_raw));
            false
        });
        return;
    }
    let survivors = fds.iter().filter(|(_, f)| !f.cloexec());
    let mut own = spare_tables.pop().unwrap_or_default();
    match Arc::get_mut(&mut own) {
        Some(table) => {
            table.clear();
            for (num, f) in survivors {
                table.insert(*num, copy_fd(f, pool));
            }
        }
        None => own = Arc::new(survivors.map(|(num, f)| (*num, f.clone())).collect()),
    }
    *fds = own;
}

/// Executable path of old execve layouts: the enter event's filename resolved against the cwd, or execveat's
/// dirfd + pathname.
fn exepath_from_enter(st: &State, ev: &Ev<'_, '_>, tid: i64) -> Option<Vec<u8>> {
    let enter = ev.enter?;
    let t = st.threads.get(&tid)?;
    match enter.name() {
        "execve" => {
            let f = enter.param_index("filename").and_then(|i| enter.param_str(i))?;
            Some(st.resolve_at_path(t, None, f))
        }
        "execveat" => {
            let dirfd = enter.param_index("dirfd").and_then(|i| enter.param_i64(i));
            let p = enter
                .param_index("pathname")
                .and_then(|i| enter.param_str(i))
                .unwrap_or(b"");
            if p.is_empty() {
                // AT_EMPTY_PATH: dirfd is the executable.
                return dirfd.and_then(|fd| st.fd(t, fd)).map(|f| f.name.clone());
            }
            Some(st.resolve_at_path(t, dirfd, p))
        }
        _ => None,
    }
}

fn on_procexit(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let reaper = ev.int(Pk::ReaperTid).unwrap_or(-1);
    let Some(t) = st.threads.get_mut(&tid) else {
        return;
    };
    t.reaper_tid = reaper;
    t.flags |= cl::CLOSED;
    if !t.dead {
        t.dead = true;
        let group = t.group;
        if let Some(g) = st.groups.get_mut(&group) {
            g.alive = g.alive.saturating_sub(1);
        }
    }
    st.pending.tids.push(tid);
}

// --------------------------------------------------------------------------------------------------- files ----

fn on_open(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(fd) = ev.res() else {
        return;
    };
    if !st.threads.contains_key(&tid) {
        return;
    }
    let mut full = st.take_name_buf();
    let mut raw = st.take_name_buf();
    let Some(t) = st.threads.get(&tid) else {
        return;
    };
    let name = ev.str(Pk::Name).or_else(|| ev.str(Pk::Path)).unwrap_or(b"<NA>");
    let mut flags = ev.uint(Pk::Flags).unwrap_or(0) as u32;
    if ev.name() == "creat" {
        flags = oflags::CREAT | oflags::WRONLY | oflags::TRUNC;
    }
    let dirfd = match ev.name() {
        "openat" | "openat2" => ev.int(Pk::Dirfd),
        _ => None,
    };
    if ev.name() == "open_by_handle_at" {
        path::normalize_into(name, &mut full);
    } else {
        st.resolve_at_path_into(t, dirfd, name, &mut full);
    }
    path::squeeze_slashes_into(name, &mut raw);
    let kind = if flags & oflags::DIRECTORY != 0 {
        FdKind::Directory
    } else {
        FdKind::File
    };
    let mut f = Fd::file(kind, full, raw, flags);
    f.dev = ev.uint(Pk::Dev).unwrap_or(0) as u32;
    f.ino = ev.uint(Pk::Ino).unwrap_or(0);
    if fd < 0 {
        // Not added to the table, but the event still describes the file it named (fd.num = -1, as libsinsp).
        st.ctx.fd = Some(-1);
        st.failed_open = Some(f);
        return;
    }
    st.put_fd(tid, fd, f);
}

fn l4_for(type_: u64, proto: u64) -> L4 {
    const SOCK_STREAM: u64 = 1;
    const SOCK_DGRAM: u64 = 2;
    const SOCK_RAW: u64 = 3;
    let raw = type_ & 0xff == SOCK_RAW;
    match proto {
        6 if raw => L4::Raw,
        6 => L4::Tcp,
        17 if raw => L4::Raw,
        17 => L4::Udp,
        1 if raw => L4::Raw,
        1 => L4::Icmp,
        255 => L4::Raw,
        0 => match type_ & 0xff {
            SOCK_STREAM => L4::Tcp,
            SOCK_DGRAM => L4::Udp,
            SOCK_RAW => L4::Raw,
            _ => L4::Unknown,
        },
        _ => L4::Unknown,
    }
}

fn on_socket(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(fd) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    let domain = ev.uint(Pk::Domain).unwrap_or(0);
    let type_ = ev.uint(Pk::Type).unwrap_or(0);
    let proto = ev.uint(Pk::Proto).unwrap_or(0);
    let kind = match domain {
        AF_UNIX => FdKind::Unix { source: 0, dest: 0 },
        AF_INET => FdKind::unconnected_v4(l4_for(type_, proto)),
        AF_INET6 => FdKind::unconnected_v6(l4_for(type_, proto)),
        AF_NETLINK => FdKind::Netlink,
        _ => FdKind::Unknown,
    };
    let mut f = Fd::new(kind);
    // Sockets get their name on connect/bind/accept: give them a recycled buffer to render it into.
    if matches!(domain, AF_UNIX | AF_INET | AF_INET6) {
        f.name = st.take_name_buf();
    }
    st.put_fd(tid, fd, f);
}

fn on_bind(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let (Some(fdn), Some(addr)) = (ev.int(Pk::Fd), ev.bytes(Pk::Addr)) else {
        return;
    };
    let Some(f) = st.fd_mut(tid, fdn) else {
        return;
    };
    match SockAddr::decode(addr) {
        Some(SockAddr::Inet { ip, port }) => {
            if port > 0 {
                let l4 = f.kind.l4().unwrap_or_default();
                f.kind = if ip.is_ipv4() {
                    FdKind::Ipv4Server { ip, port, l4 }
                } else {
                    FdKind::Ipv6Server { ip, port, l4 }
                };
                f.role = Role::Server;
            }
            f.name.clear();
            fd::write_endpoint(&mut f.name, &ip, port);
        }
        Some(SockAddr::Unix { path }) => {
            f.name = path.to_vec();
        }
        _ => {}
    }
}

/// Applies an IP tuple to a socket entry; returns whether anything changed.
fn apply_tuple(f: &mut Fd, sip: IpAddr, sport: u16, dip: IpAddr, dport: u16) -> bool {
    let l4 = f.kind.l4().unwrap_or_default();
    let new = if sip.is_ipv4() && dip.is_ipv4() {
        FdKind::Ipv4 {
            sip,
            sport,
            dip,
            dport,
            l4,
        }
    } else {
        FdKind::Ipv6 {
            sip,
            sport,
            dip,
            dport,
            l4,
        }
    };
    let same_or_reversed = match (&f.kind, &new) {
        (
            FdKind::Ipv4 {
                sip: a,
                sport: b,
                dip: c,
                dport: d,
                ..
            }
            | FdKind::Ipv6 {
                sip: a,
                sport: b,
                dip: c,
                dport: d,
                ..
            },
            FdKind::Ipv4 {
                sip: e,
                sport: g,
                dip: h,
                dport: i,
                ..
            }
            | FdKind::Ipv6 {
                sip: e,
                sport: g,
                dip: h,
                dport: i,
                ..
            },
        ) => (a, b, c, d) == (e, g, h, i) || (a, b, c, d) == (h, i, e, g),
        _ => false,
    };
    if same_or_reversed {
        return false;
    }
    f.kind = new;
    true
}

fn swap_tuple(f: &mut Fd) {
    if let FdKind::Ipv4 {
        sip, sport, dip, dport, ..
    }
    | FdKind::Ipv6 {
        sip, sport, dip, dport, ..
    } = &mut f.kind
    {
        std::mem::swap(sip, dip);
        std::mem::swap(sport, dport);
    }
}

fn on_connect(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(res) = ev.res() else {
        return;
    };
    if res < 0 && res != -EINPROGRESS {
        return;
    }
    let Some(fdn) = ev.int(Pk::Fd) else {
        return;
    };
    let tuple = ev.bytes(Pk::Tuple).and_then(SockTuple::decode);
    if st.fd_of_tid(tid, fdn).is_none() {
        // The socket() was not seen (capture started later): infer the socket from the tuple.
        let kind = match &tuple {
            Some(SockTuple::Inet { sip, .. }) if sip.is_ipv4() => FdKind::unconnected_v4(L4::Unknown),
            Some(SockTuple::Inet { .. }) => FdKind::unconnected_v6(L4::Unknown),
            Some(SockTuple::Unix { .. }) => FdKind::Unix { source: 0, dest: 0 },
            None => return,
        };
        let mut f = Fd::new(kind);
        // Named by the tuple right below: give it a recycled buffer to render into.
        f.name = st.take_name_buf();
        st.put_fd(tid, fdn, f);
    }
    let addr = ev.bytes(Pk::Addr).and_then(SockAddr::decode);
    let Some(f) = st.fd_mut(tid, fdn) else {
        return;
    };
    f.connected = true;
    match tuple {
        Some(SockTuple::Inet { sip, sport, dip, dport }) => {
            let changed = apply_tuple(f, sip, sport, dip, dport);
            if changed && f.role == Role::Server && f.kind.l4() == Some(L4::Udp) {
                swap_tuple(f);
            }
            f.render_tuple_name();
        }
        Some(SockTuple::Unix { source, dest, path }) => {
            f.kind = FdKind::Unix { source, dest };
            f.name.clear();
            fd::write_unix_name(&mut f.name, source, dest, path);
        }
        None => match addr {
            Some(SockAddr::Inet { ip, port }) => {
                let l4 = f.kind.l4().unwrap_or_default();
                let unspec = if ip.is_ipv4() {
                    IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
                } else {
                    IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
                };
                f.kind = if ip.is_ipv4() {
                    FdKind::Ipv4 {
                        sip: unspec,
                        sport: 0,
                        dip: ip,
                        dport: port,
                        l4,
                    }
                } else {
                    FdKind::Ipv6 {
                        sip: unspec,
                        sport: 0,
                        dip: ip,
                        dport: port,
                        l4,
                    }
                };
            }
            Some(SockAddr::Unix { path }) => f.name = path.to_vec(),
            _ => {}
        },
    }
    if f.role == Role::None {
        f.role = Role::Client;
    }
}

fn on_accept(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(fdn) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    let Some(tuple) = ev.bytes(Pk::Tuple).and_then(SockTuple::decode) else {
        return;
    };
    let mut f = match tuple {
        SockTuple::Inet { sip, sport, dip, dport } => {
            let v4 = sip.is_ipv4() && dip.is_ipv4();
            fd::socket_from_tuple_in(st.take_name_buf(), v4, sip, sport, dip, dport, L4::Tcp)
        }
        SockTuple::Unix { source, dest, path } => fd::unix_in(st.take_name_buf(), source, dest, path),
    };
    f.role = Role::Server;
    f.connected = true;
    st.put_fd(tid, fdn, f);
}

fn on_sockio(st: &mut State, ev: &Ev<'_, '_>, tid: i64, inbound: bool) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let Some(fdn) = ev.int(Pk::Fd) else {
        return;
    };
    let tuple = ev.bytes(Pk::Tuple).and_then(SockTuple::decode);
    let Some(f) = st.fd_mut(tid, fdn) else {
        return;
    };
    if f.kind.is_ip_socket() {
        f.connected = true;
    }
    if !(f.kind.is_ip_socket() || f.kind.is_server_socket() || f.kind.is_unix()) {
        return;
    }
    if f.kind.l4() == Some(L4::Tcp) && !f.name.is_empty() {
        return;
    }
    match tuple {
        Some(SockTuple::Inet { sip, sport, dip, dport }) => {
            let was_server = f.kind.is_server_socket();
            if !apply_tuple(f, sip, sport, dip, dport) {
                return;
            }
            if f.kind.l4() == Some(L4::Unknown) {
                if let FdKind::Ipv4 { l4, .. } | FdKind::Ipv6 { l4, .. } = &mut f.kind {
                    *l4 = L4::Udp;
                }
            }
            if f.role == Role::None {
                f.role = if inbound || was_server {
                    Role::Server
                } else {
                    Role::Client
                };
            }
            // Inbound tuples are peer->local; keep the client side first.
            if (f.role == Role::Client && inbound) || (f.role == Role::Server && !inbound) {
                swap_tuple(f);
            }
            f.render_tuple_name();
        }
        Some(SockTuple::Unix { source, dest, path }) => {
            f.kind = FdKind::Unix { source, dest };
            f.name.clear();
            fd::write_unix_name(&mut f.name, source, dest, path);
        }
        None => {}
    }
}

fn on_close(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let Some(fdn) = ev.int(Pk::Fd) else {
        return;
    };
    let Some(t) = st.threads.get(&tid) else {
        return;
    };
    let group = t.group;
    if st.groups.get(&group).is_some_and(|g| g.fds.contains_key(&fdn)) {
        st.pending.fds.push((group, fdn));
    }
}

fn on_close_range(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res() != Some(0) || ev.uint(Pk::Flags).unwrap_or(0) != 0 {
        return;
    }
    let (Some(first), Some(last)) = (ev.uint(Pk::First), ev.uint(Pk::Last)) else {
        return;
    };
    let Some(group) = st.threads.get(&tid).map(|t| t.group) else {
        return;
    };
    if let Some(g) = st.groups.get(&group) {
        let doomed: Vec<i64> = g
            .fds
            .keys()
            .copied()
            .filter(|k| *k >= 0 && (*k as u64) >= first && (*k as u64) <= last)
            .collect();
        st.pending.fds.extend(doomed.into_iter().map(|k| (group, k)));
    }
}

fn on_pipe(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let flags = ev.uint(Pk::Flags).unwrap_or(0) as u32;
    let ino = ev.uint(Pk::Ino).unwrap_or(0);
    for name in [Pk::Fd1, Pk::Fd2] {
        if let Some(n) = ev.int(name) {
            let mut f = Fd::new(FdKind::Fifo);
            f.ino = ino;
            f.open_flags = flags;
            st.put_fd(tid, n, f);
        }
    }
}

fn on_socketpair(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let (Some(a), Some(b)) = (ev.int(Pk::Fd1), ev.int(Pk::Fd2)) else {
        return;
    };
    if a == b {
        return;
    }
    let kind = FdKind::Unix {
        source: ev.uint(Pk::Source).unwrap_or(0),
        dest: ev.uint(Pk::Peer).unwrap_or(0),
    };
    st.put_fd(tid, a, Fd::new(kind.clone()));
    st.put_fd(tid, b, Fd::new(kind));
}

fn on_new_fd(st: &mut State, ev: &Ev<'_, '_>, tid: i64, k: Simple) {
    let Some(fdn) = ev.res().or_else(|| ev.int(Pk::Fd)).filter(|r| *r >= 0) else {
        return;
    };
    st.put_fd(tid, fdn, Fd::new(k.kind()));
}

fn on_memfd(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(fdn) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    let name = ev.str(Pk::Name).unwrap_or(b"").to_vec();
    st.put_fd(tid, fdn, Fd::file(FdKind::Memfd, name, Vec::new(), 0));
}

fn on_pidfd_open(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(fdn) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    let pid = ev.int(Pk::Pid).unwrap_or(-1);
    let mut f = Fd::new(FdKind::Pidfd { pid });
    f.name = format!("/proc/{pid}").into_bytes();
    st.put_fd(tid, fdn, f);
}

fn on_pidfd_getfd(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(fdn) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    let (Some(pidfd), Some(target)) = (ev.int(Pk::PidFd), ev.int(Pk::TargetFd)) else {
        return;
    };
    let Some(FdKind::Pidfd { pid }) = st.fd_of_tid(tid, pidfd).map(|f| f.kind.clone()) else {
        return;
    };
    if let Some(f) = st.fd_of_tid(pid, target).cloned() {
        st.put_fd(tid, fdn, f);
    }
}

fn on_dup(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(newfd) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    let Some(old) = ev.int(Pk::Oldfd).or_else(|| ev.int(Pk::Fd)) else {
        return;
    };
    if old == newfd {
        return;
    }
    let Some(mut f) = st.fd_of_tid(tid, old).cloned() else {
        return;
    };
    let cloexec = ev.name() == "dup3" && ev.uint(Pk::Flags).unwrap_or(0) as u32 & oflags::CLOEXEC != 0;
    set_cloexec(&mut f, cloexec);
    st.put_fd(tid, newfd, f);
}

fn set_cloexec(f: &mut Fd, on: bool) {
    if on {
        f.open_flags |= oflags::CLOEXEC;
    } else {
        f.open_flags &= !oflags::CLOEXEC;
    }
}

fn on_fcntl(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let (Some(res), Some(fdn), Some(cmd)) = (ev.res(), ev.int(Pk::Fd), ev.int(Pk::Cmd)) else {
        return;
    };
    if res < 0 {
        return;
    }
    match cmd {
        FCNTL_F_DUPFD | FCNTL_F_DUPFD_CLOEXEC => {
            if let Some(mut f) = st.fd_of_tid(tid, fdn).cloned() {
                set_cloexec(&mut f, cmd == FCNTL_F_DUPFD_CLOEXEC);
                st.put_fd(tid, res, f);
            }
        }
        FCNTL_F_SETFD => {
            let arg = ev.uint(Pk::Arg).unwrap_or(0);
            if let Some(f) = st.fd_mut(tid, fdn) {
                set_cloexec(f, arg & 1 != 0);
            }
        }
        _ => {}
    }
}

fn set_cwd(st: &mut State, tid: i64, dir: &[u8]) {
    let Some(t) = st.threads.get(&tid) else {
        return;
    };
    let group = t.group;
    let joined = path::join(st.cwd(t), dir);
    if let Some(g) = st.groups.get_mut(&group) {
        g.cwd = path::as_cwd(&joined);
    }
}

fn on_chdir(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    if let Some(p) = ev.str(Pk::Path) {
        let p = p.to_vec();
        set_cwd(st, tid, &p);
    }
}

fn on_fchdir(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let Some(name) = ev
        .int(Pk::Fd)
        .and_then(|n| st.fd_of_tid(tid, n))
        .map(|f| f.name.clone())
    else {
        return;
    };
    if name.first() == Some(&b'/') {
        set_cwd(st, tid, &name);
    }
}

fn on_setid(st: &mut State, ev: &Ev<'_, '_>, tid: i64, param: Pk, is_uid: bool) {
    if ev.res() != Some(0) {
        return;
    }
    let Some(v) = ev.uint(param).map(|v| v as u32) else {
        return;
    };
    // -1 means "unchanged" for setre*/setres*.
    if v == u32::MAX {
        return;
    }
    if let Some(t) = st.threads.get_mut(&tid) {
        if is_uid {
            t.uid = v;
        } else {
            t.gid = v;
        }
    }
}

fn on_setsid(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    let Some(sid) = ev.res().filter(|r| *r >= 0) else {
        return;
    };
    if let Some(t) = st.threads.get_mut(&tid) {
        t.sid = sid;
        // The caller also became the leader of a new process group.
        t.vpgid = sid;
        t.pgid = t.pid;
    }
}

fn on_setpgid(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res() != Some(0) {
        return;
    }
    let pid = ev.int(Pk::Pid).unwrap_or(0);
    let pgid = ev.int(Pk::Pgid).unwrap_or(0);
    let Some(caller) = st.threads.get(&tid) else {
        return;
    };
    let in_ns = caller.in_pid_namespace();
    let target = if pid == 0 || pid == caller.vpid || pid == caller.pid {
        tid
    } else if in_ns {
        // A pid as seen from inside a namespace cannot be mapped back to a host tid reliably.
        return;
    } else {
        pid
    };
    let Some(t) = st.threads.get_mut(&target) else {
        return;
    };
    let vpgid = if pgid == 0 {
        if t.vpid > 0 {
            t.vpid
        } else {
            t.pid
        }
    } else {
        pgid
    };
    t.vpgid = vpgid;
    if !in_ns {
        t.pgid = vpgid;
    }
}

fn on_capset(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    if let Some(t) = st.threads.get_mut(&tid) {
        if let Some(v) = ev.uint(Pk::CapInheritable) {
            t.cap_inheritable = v;
        }
        if let Some(v) = ev.uint(Pk::CapPermitted) {
            t.cap_permitted = v;
        }
        if let Some(v) = ev.uint(Pk::CapEffective) {
            t.cap_effective = v;
        }
    }
}

fn on_prctl(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    match ev.uint(Pk::Option) {
        Some(PR_SET_CHILD_SUBREAPER) => {
            let on = ev.int(Pk::Arg2Int).unwrap_or(0) != 0;
            let Some(pid) = st.threads.get(&tid).map(|t| t.pid) else {
                return;
            };
            for x in [tid, pid] {
                if let Some(t) = st.threads.get_mut(&x) {
                    t.subreaper = on;
                }
            }
        }
        Some(PR_SET_NAME) => {
            if let (Some(name), Some(t)) = (ev.str(Pk::Arg2Str), st.threads.get_mut(&tid)) {
                if !name.is_empty() && name != b"<NA>" {
                    t.comm = name[..name.len().min(15)].to_vec();
                    t.render_cmdline();
                }
            }
        }
        _ => {}
    }
}

fn on_chroot(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res() != Some(0) {
        return;
    }
    let Some(p) = ev.str(Pk::Path) else {
        return;
    };
    let Some(t) = st.threads.get(&tid) else {
        return;
    };
    let root = st.resolve_at_path(t, None, p);
    if let Some(t) = st.threads.get_mut(&tid) {
        t.root = root;
    }
}

fn on_unshare(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) {
        return;
    }
    let fl = ev.uint(Pk::Flags).or_else(|| ev.uint(Pk::Nstype)).unwrap_or(0) as u32;
    if fl & cl::CLONE_NEWUSER == 0 {
        return;
    }
    if let Some(t) = st.threads.get_mut(&tid) {
        t.cap_inheritable = ALL_CAPS;
        t.cap_permitted = ALL_CAPS;
        t.cap_effective = ALL_CAPS;
    }
}

fn set_fdlimit(st: &mut State, tid: i64, v: i64) {
    let Some(pid) = st.threads.get(&tid).map(|t| t.pid) else {
        return;
    };
    let target = if st.threads.contains_key(&pid) { pid } else { tid };
    if let Some(t) = st.threads.get_mut(&target) {
        t.fdlimit = v;
    }
}

fn on_rlimit(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res().is_none_or(|r| r < 0) || ev.uint(Pk::Resource) != Some(RLIMIT_NOFILE) {
        return;
    }
    if let Some(cur) = ev.int(Pk::Cur).filter(|c| *c != -1) {
        set_fdlimit(st, tid, cur);
    }
}

fn on_prlimit(st: &mut State, ev: &Ev<'_, '_>, tid: i64) {
    if ev.res() != Some(0) || ev.uint(Pk::Resource) != Some(RLIMIT_NOFILE) {
        return;
    }
    let Some(cur) = ev.int(Pk::Newcur).filter(|c| *c != -1) else {
        return;
    };
    let target = match ev.int(Pk::Pid) {
        Some(0) | None => tid,
        Some(p) => p,
    };
    set_fdlimit(st, target, cur);
}

fn on_user_event(st: &mut State, ev: &Ev<'_, '_>, h: H) {
    let container_id = ev.str(Pk::ContainerId).unwrap_or(b"").to_vec();
    match h {
        H::UserAdded => {
            if let Some(uid) = ev.uint(Pk::Uid) {
                st.users.add_user(UserRecord {
                    uid: uid as u32,
                    gid: ev.uint(Pk::Gid).unwrap_or(0) as u32,
                    name: ev.str(Pk::Name).unwrap_or(b"").to_vec(),
                    home: ev.str(Pk::Home).unwrap_or(b"").to_vec(),
                    shell: ev.str(Pk::Shell).unwrap_or(b"").to_vec(),
                    container_id,
                });
            }
        }
        H::UserDeleted => {
            if let Some(uid) = ev.uint(Pk::Uid) {
                st.users.remove_user(&container_id, uid as u32);
            }
        }
        H::GroupAdded => {
            if let Some(gid) = ev.uint(Pk::Gid) {
                st.users.add_group(GroupRecord {
                    gid: gid as u32,
                    name: ev.str(Pk::Name).unwrap_or(b"").to_vec(),
                    container_id,
                });
            }
        }
        H::GroupDeleted => {
            if let Some(gid) = ev.uint(Pk::Gid) {
                st.users.remove_group(&container_id, gid as u32);
            }
        }
        _ => {}
    }
}
