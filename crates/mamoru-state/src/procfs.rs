//! Seeding from `/proc`: every process and thread with its full context (identity, credentials, capabilities,
//! command line, environment, executable facts, cwd, cgroups, fds with sockets resolved through `/proc/net`).
//! Processes that vanish or deny access mid-scan are skipped, never fatal.

use crate::fd::{oflags, L4};
use crate::{State, StateError};
use mamoru_event::{split_nul, FdInfo, FdRecord, ThreadRecord};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a `/proc` scan added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub processes: usize,
    pub threads: usize,
    pub fds: usize,
    /// Processes or threads that disappeared or could not be read.
    pub skipped: usize,
}

/// USER_HZ: the unit of `/proc/PID/stat` start times on every mainstream Linux architecture.
const USER_HZ: u64 = 100;

/// Accepts either a root containing `proc/` or the proc mount itself.
fn proc_dir(root: &Path) -> PathBuf {
    let p = root.join("proc");
    if p.join("self").exists() || p.join("1").exists() {
        p
    } else {
        root.to_path_buf()
    }
}

/// Directory the proc mount lives in (for resolving host paths such as overlay upper dirs).
fn host_root(proc_dir: &Path) -> PathBuf {
    proc_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn boot_time_ns(proc_dir: &Path) -> u64 {
    let Ok(text) = fs::read_to_string(proc_dir.join("stat")) else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s.saturating_mul(1_000_000_000))
        .unwrap_or(0)
}

/// Everything `/proc` says about the processes alive now, as records: what the live state is seeded from and what
/// `mamoru capture` writes as the capture's process list, so a replay starts from the state the live run had.
#[derive(Debug, Clone, Default)]
pub struct ProcSnapshot {
    pub threads: Vec<ThreadRecord>,
    /// Host boot time, ns since the epoch (0 when unknown).
    pub boot_ts: u64,
    pub report: SeedReport,
}

/// Reads every process and thread under `<root>/proc` (fds and sockets included).
pub fn read_proc(root: &Path) -> Result<ProcSnapshot, StateError> {
    let pdir = proc_dir(root);
    let entries = fs::read_dir(&pdir).map_err(|source| StateError::Io {
        path: pdir.clone(),
        source,
    })?;
    let btime = boot_time_ns(&pdir);
    let mut ctx = ScanCtx::new(pdir.clone(), btime);
    let mut report = SeedReport::default();
    let mut records: Vec<(ThreadRecord, Vec<u8>)> = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else {
            continue;
        };
        let tids = task_ids(&pdir, pid);
        let mut any = false;
        for tid in tids {
            match read_thread(&mut ctx, pid, tid, tid == pid) {
                Some(r) => {
                    let ns = pid_ns(&pdir, pid);
                    records.push((r, ns));
                    report.threads += 1;
                    any = true;
                }
                None => report.skipped += 1,
            }
        }
        if any {
            report.processes += 1;
        }
    }
    // pidns_init_start_ts: the start of the pid namespace's init (vpid 1), or boot for the initial namespace.
    let mut ns_init: HashMap<Vec<u8>, u64> = HashMap::new();
    for (r, ns) in &records {
        if r.vpid == 1 && r.tid == r.pid {
            ns_init.insert(ns.clone(), r.clone_ts);
        }
    }
    let threads = records
        .into_iter()
        .map(|(mut r, ns)| {
            r.pidns_init_start_ts = if r.vpid == r.pid {
                btime
            } else {
                ns_init.get(&ns).copied().unwrap_or(btime)
            };
            report.fds += r.fds.len();
            r
        })
        .collect();
    Ok(ProcSnapshot {
        threads,
        boot_ts: btime,
        report,
    })
}

pub(crate) fn seed(st: &mut State, root: &Path) -> Result<SeedReport, StateError> {
    let snap = read_proc(root)?;
    if st.cfg.boot_ts == 0 {
        st.cfg.boot_ts = snap.boot_ts;
    }
    for r in snap.threads {
        st.add_thread(r);
    }
    st.finish_seeding();
    Ok(snap.report)
}

/// Reads one thread (live lookups of tids that appear in events before any clone).
pub(crate) fn read_one(root: &Path, tid: i64) -> Option<ThreadRecord> {
    let pdir = proc_dir(root);
    let status = fs::read_to_string(pdir.join(tid.to_string()).join("status")).ok()?;
    let pid = status_field(&status, "Tgid:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(tid);
    let btime = boot_time_ns(&pdir);
    let mut ctx = ScanCtx::new(pdir, btime);
    let mut r = read_thread(&mut ctx, pid, tid, true)?;
    r.pidns_init_start_ts = btime;
    Some(r)
}

fn task_ids(pdir: &Path, pid: i64) -> Vec<i64> {
    let mut tids: Vec<i64> = fs::read_dir(pdir.join(pid.to_string()).join("task"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    if tids.is_empty() {
        tids.push(pid);
    }
    // Main thread first, so its fd table exists before the other threads join it.
    tids.sort_by_key(|t| (*t != pid, *t));
    tids
}

fn pid_ns(pdir: &Path, pid: i64) -> Vec<u8> {
    fs::read_link(pdir.join(pid.to_string()).join("ns/pid"))
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_default()
}

struct ScanCtx {
    pdir: PathBuf,
    btime: u64,
    net: HashMap<Vec<u8>, NetTables>,
}

impl ScanCtx {
    fn new(pdir: PathBuf, btime: u64) -> Self {
        ScanCtx {
            pdir,
            btime,
            net: HashMap::new(),
        }
    }
}

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| l.strip_prefix(key)).map(str::trim)
}

fn last_num(v: Option<&str>) -> Option<i64> {
    v?.split_whitespace().last()?.parse().ok()
}

fn nth_num(v: Option<&str>, n: usize) -> Option<u32> {
    v?.split_whitespace().nth(n)?.parse().ok()
}

fn hex_u64(v: Option<&str>) -> u64 {
    v.and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0)
}

fn read_link_bytes(p: &Path) -> Option<Vec<u8>> {
    fs::read_link(p).ok().map(|l| l.into_os_string().into_encoded_bytes())
}

fn strip_deleted(mut v: Vec<u8>) -> Vec<u8> {
    if v.ends_with(b" (deleted)") {
        v.truncate(v.len() - b" (deleted)".len());
    }
    v
}

fn read_thread(ctx: &mut ScanCtx, pid: i64, tid: i64, with_fds: bool) -> Option<ThreadRecord> {
    let pdir = ctx.pdir.clone();
    let proc_path = pdir.join(pid.to_string());
    let task_path = if tid == pid {
        proc_path.clone()
    } else {
        proc_path.join("task").join(tid.to_string())
    };
    let stat = fs::read(task_path.join("stat")).ok()?;
    let open = stat.iter().position(|c| *c == b'(')?;
    let close = stat.iter().rposition(|c| *c == b')')?;
    let comm = stat.get(open + 1..close)?.to_vec();
    let rest = String::from_utf8_lossy(stat.get(close + 2..)?).into_owned();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let status = fs::read_to_string(task_path.join("status")).unwrap_or_default();
    let mut r = ThreadRecord {
        tid,
        pid,
        ptid: status_field(&status, "PPid:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(num(1)),
        pgid: num(2),
        sid: num(3),
        tty: num(4) as u32,
        comm,
        uid: nth_num(status_field(&status, "Uid:"), 1).unwrap_or(0),
        gid: nth_num(status_field(&status, "Gid:"), 1).unwrap_or(0),
        cap_inheritable: hex_u64(status_field(&status, "CapInh:")),
        cap_permitted: hex_u64(status_field(&status, "CapPrm:")),
        cap_effective: hex_u64(status_field(&status, "CapEff:")),
        vtid: last_num(status_field(&status, "NSpid:")).unwrap_or(tid),
        vpid: last_num(status_field(&status, "NStgid:")).unwrap_or(pid),
        ..Default::default()
    };
    r.vpgid = last_num(status_field(&status, "NSpgid:")).unwrap_or(r.pgid);
    let start_ticks = num(19).max(0) as u64;
    r.clone_ts = ctx
        .btime
        .saturating_add(start_ticks.saturating_mul(1_000_000_000 / USER_HZ));
    let cmdline = fs::read(proc_path.join("cmdline")).unwrap_or_default();
    let mut argv = split_nul(&cmdline).map(<[u8]>::to_vec);
    r.exe = argv.next().unwrap_or_else(|| r.comm.clone());
    r.args = argv.collect();
    r.env = fs::read(proc_path.join("environ"))
        .map(|e| split_nul(&e).filter(|s| !s.is_empty()).map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    fill_exe(&mut r, &proc_path, &host_root(&pdir));
    r.cwd = read_link_bytes(&proc_path.join("cwd")).unwrap_or_default();
    r.root = read_link_bytes(&proc_path.join("root")).unwrap_or_default();
    r.cgroups = fs::read(proc_path.join("cgroup"))
        .map(|c| parse_cgroups(&c))
        .unwrap_or_default();
    r.loginuid = fs::read_to_string(proc_path.join("loginuid"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(u32::MAX);
    r.fdlimit = fs::read_to_string(proc_path.join("limits"))
        .ok()
        .and_then(|l| parse_fd_limit(&l))
        .unwrap_or(-1);
    if with_fds {
        r.fds = read_fds(ctx, pid);
    }
    Some(r)
}

fn parse_fd_limit(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        return Some(i64::MAX);
    }
    soft.parse().ok()
}

/// `/proc/PID/cgroup` lines `hierarchy:controllers:path` → `(controllers, path)`.
fn parse_cgroups(text: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    text.split(|c| *c == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let mut it = l.splitn(3, |c| *c == b':');
            let _hier = it.next()?;
            let ctrl = it.next()?;
            let path = it.next()?;
            Some((ctrl.to_vec(), path.to_vec()))
        })
        .collect()
}

fn fill_exe(r: &mut ThreadRecord, proc_path: &Path, host_root: &Path) {
    let exe_link = proc_path.join("exe");
    let Some(target) = read_link_bytes(&exe_link) else {
        return;
    };
    r.exe_from_memfd = target.starts_with(b"/memfd:");
    r.exepath = strip_deleted(target);
    if let Ok(m) = fs::metadata(&exe_link) {
        r.exe_ino = m.ino();
        r.exe_ino_ctime = (m.ctime().max(0) as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(m.ctime_nsec().max(0) as u64);
        r.exe_ino_mtime = (m.mtime().max(0) as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(m.mtime_nsec().max(0) as u64);
        let mode = m.mode();
        r.exe_writable = if r.uid == 0 {
            mode & 0o222 != 0
        } else if r.uid == m.uid() {
            mode & 0o200 != 0
        } else if r.gid == m.gid() {
            mode & 0o020 != 0
        } else {
            mode & 0o002 != 0
        };
    }
    r.exe_upper_layer = !r.exe_from_memfd && in_overlay_upper(proc_path, &r.exepath, host_root);
}

/// Whether `exepath` (as the process sees it) lives on the upper layer of an overlay mount: the mount covering it is
/// an overlay and the file exists in that mount's `upperdir`.
fn in_overlay_upper(proc_path: &Path, exepath: &[u8], host_root: &Path) -> bool {
    let Ok(text) = fs::read(proc_path.join("mountinfo")) else {
        return false;
    };
    let mut best: Option<(usize, &[u8], &[u8])> = None;
    for line in text.split(|c| *c == b'\n') {
        let fields: Vec<&[u8]> = line.split(|c| *c == b' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == b"-") else {
            continue;
        };
        let (Some(mp), Some(fstype), Some(opts)) = (fields.get(4), fields.get(sep + 1), fields.get(sep + 3)) else {
            continue;
        };
        let covers = exepath.starts_with(mp)
            && (mp.len() == 1 || exepath.len() == mp.len() || exepath.get(mp.len()) == Some(&b'/'));
        if covers && best.is_none_or(|(len, _, _)| mp.len() >= len) {
            best = Some((mp.len(), fstype, opts));
        }
    }
    let Some((mp_len, fstype, opts)) = best else {
        return false;
    };
    if fstype != b"overlay" {
        return false;
    }
    let Some(upper) = opts.split(|c| *c == b',').find_map(|o| o.strip_prefix(b"upperdir=")) else {
        return false;
    };
    let rel = if mp_len == 1 {
        &exepath[1..]
    } else {
        exepath.get(mp_len + 1..).unwrap_or(b"")
    };
    let mut p = host_root.as_os_str().as_encoded_bytes().to_vec();
    p.extend_from_slice(upper);
    p.push(b'/');
    p.extend_from_slice(rel);
    let p = PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(p));
    fs::symlink_metadata(p).is_ok()
}

/// A userspace `st_dev` (glibc `makedev` layout) in the kernel's internal `dev_t` layout the drivers report
/// (`major << 20 | minor`).
fn kernel_dev(d: u64) -> u32 {
    let major = ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff);
    let minor = (d & 0xff) | ((d >> 12) & !0xff);
    ((major << 20) | (minor & 0xfffff)) as u32
}

/// Linux `O_*` flags (as `/proc/PID/fdinfo` prints them) to `PPM_O_*`.
fn linux_oflags_to_ppm(f: u32) -> u32 {
    let mut out = match f & 3 {
        0 => oflags::RDONLY,
        1 => oflags::WRONLY,
        _ => oflags::RDWR,
    };
    let map: [(u32, u32); 6] = [
        (0o100, oflags::CREAT),
        (0o1000, oflags::TRUNC),
        (0o2000, 1 << 3),
        (0o4000, 1 << 6),
        (0o200000, oflags::DIRECTORY),
        (0o2000000, oflags::CLOEXEC),
    ];
    for (linux, ppm) in map {
        if f & linux != 0 {
            out |= ppm;
        }
    }
    out
}

fn fd_flags(proc_path: &Path, fd: i64) -> u32 {
    fs::read_to_string(proc_path.join("fdinfo").join(fd.to_string()))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .map(linux_oflags_to_ppm)
        .unwrap_or(0)
}

fn read_fds(ctx: &mut ScanCtx, pid: i64) -> Vec<FdRecord> {
    let proc_path = ctx.pdir.join(pid.to_string());
    let Ok(rd) = fs::read_dir(proc_path.join("fd")) else {
        return Vec::new();
    };
    let ns = read_link_bytes(&proc_path.join("ns/net")).unwrap_or_default();
    if !ctx.net.contains_key(&ns) {
        let tables = NetTables::read(&proc_path.join("net"));
        ctx.net.insert(ns.clone(), tables);
    }
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Some(n) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else {
            continue;
        };
        let link_path = e.path();
        let Some(target) = read_link_bytes(&link_path) else {
            continue;
        };
        let net = ctx.net.get(&ns);
        if let Some(rec) = classify_fd(&proc_path, n, &link_path, target, net) {
            out.push(rec);
        }
    }
    out.sort_by_key(|r| r.fd);
    out
}

fn bracket_ino(s: &[u8], prefix: &[u8]) -> Option<u64> {
    let rest = s.strip_prefix(prefix)?.strip_prefix(b"[")?.strip_suffix(b"]")?;
    std::str::from_utf8(rest).ok()?.parse().ok()
}

fn classify_fd(proc_path: &Path, n: i64, link: &Path, target: Vec<u8>, net: Option<&NetTables>) -> Option<FdRecord> {
    let meta = fs::metadata(link).ok();
    let ino = meta.as_ref().map(|m| m.ino()).unwrap_or(0);
    let info = if let Some(sock_ino) = bracket_ino(&target, b"socket:") {
        return net.and_then(|t| t.fd_record(n, sock_ino)).or(Some(FdRecord {
            fd: n,
            ino: sock_ino,
            info: FdInfo::Unknown { name: target },
        }));
    } else if let Some(pino) = bracket_ino(&target, b"pipe:") {
        return Some(FdRecord {
            fd: n,
            ino: pino,
            info: FdInfo::Fifo { path: target },
        });
    } else if let Some(kind) = target.strip_prefix(b"anon_inode:") {
        match kind {
            b"[eventfd]" => FdInfo::Event,
            b"[signalfd]" => FdInfo::SignalFd,
            b"[eventpoll]" => FdInfo::EventPoll,
            b"inotify" => FdInfo::Inotify,
            b"[timerfd]" => FdInfo::Timerfd,
            b"[userfaultfd]" => FdInfo::UserFaultFd,
            b"[io_uring]" => FdInfo::IoUring,
            b"[pidfd]" => FdInfo::Pidfd,
            k if k.starts_with(b"bpf") => FdInfo::Bpf,
            _ => FdInfo::Unknown { name: target },
        }
    } else if target.starts_with(b"/memfd:") {
        FdInfo::Memfd {
            name: strip_deleted(target),
        }
    } else if target.first() == Some(&b'/') {
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            FdInfo::Directory { path: target }
        } else {
            FdInfo::File {
                path: target,
                flags: fd_flags(proc_path, n),
                dev: meta.as_ref().map(|m| kernel_dev(m.dev())).unwrap_or(0),
                ino,
            }
        }
    } else {
        FdInfo::Unknown { name: target }
    };
    Some(FdRecord { fd: n, ino, info })
}

/// One socket from `/proc/net/{tcp,udp,raw}[6]`.
#[derive(Debug, Clone)]
struct InetSock {
    v4: bool,
    local: (IpAddr, u16),
    remote: (IpAddr, u16),
    l4: L4,
    listening: bool,
}

/// Socket tables of one network namespace, by inode.
#[derive(Debug, Default)]
struct NetTables {
    inet: HashMap<u64, InetSock>,
    unix: HashMap<u64, (u64, Vec<u8>)>,
    netlink: HashSet<u64>,
    listening_ports: HashSet<(u8, u16)>,
}

fn l4_key(l4: L4) -> u8 {
    l4.to_scap()
}

impl NetTables {
    fn read(net_dir: &Path) -> NetTables {
        let mut t = NetTables::default();
        for (file, l4, v4) in [
            ("tcp", L4::Tcp, true),
            ("tcp6", L4::Tcp, false),
            ("udp", L4::Udp, true),
            ("udp6", L4::Udp, false),
            ("raw", L4::Raw, true),
            ("raw6", L4::Raw, false),
        ] {
            if let Ok(text) = fs::read_to_string(net_dir.join(file)) {
                t.parse_inet(&text, l4, v4);
            }
        }
        if let Ok(text) = fs::read(net_dir.join("unix")) {
            t.parse_unix(&text);
        }
        if let Ok(text) = fs::read_to_string(net_dir.join("netlink")) {
            for line in text.lines().skip(1) {
                if let Some(ino) = line.split_whitespace().last().and_then(|v| v.parse().ok()) {
                    t.netlink.insert(ino);
                }
            }
        }
        t
    }

    fn parse_inet(&mut self, text: &str, l4: L4, v4: bool) {
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(st), Some(ino)) = (f.get(1), f.get(2), f.get(3), f.get(9)) else {
                continue;
            };
            let (Some(local), Some(remote), Ok(ino)) = (
                parse_endpoint(local, v4),
                parse_endpoint(remote, v4),
                ino.parse::<u64>(),
            ) else {
                continue;
            };
            if ino == 0 {
                continue;
            }
            let listening = match l4 {
                L4::Tcp => *st == "0A",
                _ => remote.1 == 0 && remote.0.is_unspecified() && local.1 != 0,
            };
            if listening {
                self.listening_ports.insert((l4_key(l4), local.1));
            }
            self.inet.insert(
                ino,
                InetSock {
                    v4,
                    local,
                    remote,
                    l4,
                    listening,
                },
            );
        }
    }

    fn parse_unix(&mut self, text: &[u8]) {
        for line in text.split(|c| *c == b'\n').skip(1) {
            let f: Vec<&[u8]> = line.split(|c| *c == b' ').filter(|s| !s.is_empty()).collect();
            let (Some(num), Some(ino)) = (f.first(), f.get(6)) else {
                continue;
            };
            let addr = std::str::from_utf8(num.strip_suffix(b":").unwrap_or(num))
                .ok()
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .unwrap_or(0);
            let Some(ino) = std::str::from_utf8(ino).ok().and_then(|v| v.parse::<u64>().ok()) else {
                continue;
            };
            let path = f.get(7).map(|p| p.to_vec()).unwrap_or_default();
            self.unix.insert(ino, (addr, path));
        }
    }

    fn fd_record(&self, n: i64, ino: u64) -> Option<FdRecord> {
        let info = if let Some(s) = self.inet.get(&ino) {
            let l4 = l4_key(s.l4);
            if s.listening {
                if s.v4 {
                    FdInfo::Ipv4ServerSocket {
                        ip: s.local.0,
                        port: s.local.1,
                        l4proto: l4,
                    }
                } else {
                    FdInfo::Ipv6ServerSocket {
                        ip: s.local.0,
                        port: s.local.1,
                        l4proto: l4,
                    }
                }
            } else {
                // An accepted connection uses a listening port locally: this side is the server.
                let server_side = self.listening_ports.contains(&(l4, s.local.1));
                let ((sip, sport), (dip, dport)) = if server_side {
                    (s.remote, s.local)
                } else {
                    (s.local, s.remote)
                };
                let v4 = s.v4 || (sip.is_ipv4() && dip.is_ipv4());
                if v4 {
                    FdInfo::Ipv4Socket {
                        sip,
                        sport,
                        dip,
                        dport,
                        l4proto: l4,
                    }
                } else {
                    FdInfo::Ipv6Socket {
                        sip,
                        sport,
                        dip,
                        dport,
                        l4proto: l4,
                    }
                }
            }
        } else if let Some((addr, path)) = self.unix.get(&ino) {
            FdInfo::Unix {
                source: *addr,
                dest: 0,
                path: path.clone(),
            }
        } else if self.netlink.contains(&ino) {
            FdInfo::Netlink
        } else {
            return None;
        };
        Some(FdRecord { fd: n, ino, info })
    }

    /// Whether a socket of this table uses `port` as a listening port (for role inference).
    #[cfg(test)]
    fn is_listening(&self, l4: L4, port: u16) -> bool {
        self.listening_ports.contains(&(l4_key(l4), port))
    }
}

/// `0100007F:1F90` (v4) or 32 hex digits + port (v6), words in host byte order as the kernel prints them.
fn parse_endpoint(s: &str, v4: bool) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v4 {
        let w = u32::from_str_radix(addr, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes()))
    } else {
        if addr.len() != 32 {
            return None;
        }
        let mut b = [0u8; 16];
        for i in 0..4 {
            let w = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        let a = Ipv6Addr::from(b);
        match a.to_ipv4_mapped() {
            Some(m) => IpAddr::V4(m),
            None => IpAddr::V6(a),
        }
    };
    Some((ip, port))
}

impl State {
    /// Completes bulk seeding (from `/proc` or a capture's process list): rebuilds every thread's child list from
    /// the `ptid` links. Call after the last [`State::add_thread`] of a batch.
    pub fn finish_seeding(&mut self) {
        let links: Vec<(i64, i64)> = self.threads.values().map(|t| (t.ptid, t.tid)).collect();
        for t in self.threads.values_mut() {
            t.children.clear();
        }
        for (ptid, tid) in links {
            if ptid > 0 && ptid != tid {
                if let Some(p) = self.threads.get_mut(&ptid) {
                    p.children.push(tid);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_endpoints() {
        let (ip, port) = parse_endpoint("0100007F:1F90", true).unwrap_or((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
        if cfg!(target_endian = "little") {
            assert_eq!(ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        assert_eq!(port, 8080);
        let mut t = NetTables::default();
        t.parse_inet(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1\n",
            L4::Tcp,
            true,
        );
        assert!(t.is_listening(L4::Tcp, 8080));
        assert!(matches!(
            t.fd_record(3, 4242).map(|r| r.info),
            Some(FdInfo::Ipv4ServerSocket { port: 8080, .. })
        ));
    }

    #[test]
    fn converts_open_flags() {
        assert_eq!(linux_oflags_to_ppm(0o2000002), oflags::RDWR | oflags::CLOEXEC);
        assert_eq!(linux_oflags_to_ppm(0), oflags::RDONLY);
    }
}
