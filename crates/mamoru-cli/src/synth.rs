//! Synthetic syscall events in the scap layout: a by-name event builder (tests that need an event no capture holds)
//! and a seeded generator of a realistic host workload (the engine benchmark).

use mamoru_event::render::flags::open as o;
use mamoru_event::{event_info, EventBuilder, ParamType, SockTuple, ThreadRecord};
use std::net::{IpAddr, Ipv4Addr};

/// A parameter value for [`event`].
#[derive(Debug, Clone)]
pub enum P<'a> {
    /// Any integer parameter (written at the parameter's declared width).
    Int(i64),
    /// A string parameter (NUL-terminated).
    Str(&'a str),
    /// Raw bytes (byte buffers, socket addresses and tuples).
    Bytes(Vec<u8>),
    /// A NUL-separated list (execve `args`, `env`, `cgroups`).
    List(&'a [&'a str]),
}

/// Builds event `code` with the named parameters; parameters not given are left empty, as drivers do for values
/// they could not read. Panics on a name the event does not have: this is a test and benchmark helper, and a
/// misspelt parameter must fail loudly.
pub fn event(code: u16, ts: u64, tid: i64, params: &[(&str, P<'_>)]) -> Vec<u8> {
    let info = event_info(code).unwrap_or_else(|| panic!("event code {code} is not in the event table"));
    for (name, _) in params {
        assert!(
            info.param_index(name).is_some(),
            "event {} has no parameter '{name}'",
            info.name
        );
    }
    let mut b = EventBuilder::new(code, ts, tid as u64);
    for p in info.params {
        let value = params.iter().find(|(n, _)| *n == p.name).map(|(_, v)| v);
        b = match value {
            None => b.empty(),
            Some(P::Int(v)) => match p.ty.fixed_width() {
                Some(1) => b.u8(*v as u8),
                Some(2) => b.u16(*v as u16),
                Some(4) => b.u32(*v as u32),
                _ => b.u64(*v as u64),
            },
            Some(P::Str(s)) => b.str(s),
            Some(P::Bytes(bytes)) => b.bytes(bytes),
            Some(P::List(items)) => b.nul_list(items.iter()),
        };
        debug_assert!(
            !matches!(p.ty, ParamType::Dyn) || matches!(value, None | Some(P::Bytes(_))),
            "PT_DYN takes raw bytes"
        );
    }
    b.finish()
}

/// Event codes of the newest exit events the generator emits.
pub mod code {
    pub const OPEN_X: u16 = 3;
    pub const CLOSE_X: u16 = 5;
    pub const SOCKET_X: u16 = 19;
    pub const CONNECT_X: u16 = 23;
    pub const SENDTO_X: u16 = 31;
    pub const PROCEXIT_1_E: u16 = 186;
    pub const CLONE_20_X: u16 = 223;
    pub const EXECVE_19_X: u16 = 293;
    pub const OPENAT_2_X: u16 = 307;
    pub const ACCEPT4_6_X: u16 = 389;
}

/// A small deterministic PRNG (xorshift64*), so the workload is the same on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Open fds per simulated process before the generator closes one.
const MAX_OPEN_FDS: usize = 48;

/// A generated workload: the processes alive when it starts, and the events, stored back to back.
pub struct Workload {
    pub threads: Vec<ThreadRecord>,
    pub events: Vec<u8>,
    /// Start offset of each event in `events`.
    pub offsets: Vec<u32>,
    /// How many events the generator meant to match a stable rule.
    pub planted_matches: u64,
}

impl Workload {
    pub fn len(&self) -> usize {
        self.offsets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
    /// The bytes of event `i`.
    pub fn event(&self, i: usize) -> &[u8] {
        let start = self.offsets[i] as usize;
        let end = self.offsets.get(i + 1).map_or(self.events.len(), |e| *e as usize);
        &self.events[start..end]
    }
}

struct Proc {
    pid: i64,
    comm: &'static str,
    exe: &'static str,
    next_fd: i64,
    open_fds: Vec<i64>,
}

const READ_PATHS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/etc/ld.so.cache",
    "/proc/self/stat",
    "/proc/meminfo",
    "/sys/fs/cgroup/memory.max",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/usr/share/zoneinfo/UTC",
    "/var/lib/postgresql/15/main/base/16384/2619",
    "/srv/www/index.html",
    "/srv/www/static/app.js",
    "/home/app/.config/app.toml",
    "/usr/lib/python3.11/json/__init__.py",
];
const WRITE_PATHS: &[&str] = &[
    "/var/log/nginx/access.log",
    "/var/log/app/app.log",
    "/tmp/tmp.k2j3h4",
    "/var/lib/postgresql/15/main/pg_wal/000000010000000000000001",
    "/run/app/app.pid",
];
const CHILDREN: &[(&str, &str, &[&str])] = &[
    ("ls", "/usr/bin/ls", &["-la", "/srv/www"]),
    ("grep", "/usr/bin/grep", &["-r", "TODO", "/srv/app"]),
    ("date", "/usr/bin/date", &["+%s"]),
    ("sed", "/usr/bin/sed", &["-n", "1p", "/etc/hostname"]),
    ("git", "/usr/bin/git", &["status", "--short"]),
];

fn seed_processes() -> Vec<Proc> {
    let spec: &[(i64, &str, &str)] = &[
        (612, "nginx", "/usr/sbin/nginx"),
        (613, "nginx", "/usr/sbin/nginx"),
        (740, "postgres", "/usr/lib/postgresql/15/bin/postgres"),
        (801, "python3", "/usr/bin/python3.11"),
        (950, "bash", "/usr/bin/bash"),
        (1020, "containerd", "/usr/bin/containerd"),
        (1101, "cron", "/usr/sbin/cron"),
        (1210, "node", "/usr/bin/node"),
    ];
    spec.iter()
        .map(|&(pid, comm, exe)| Proc {
            pid,
            comm,
            exe,
            next_fd: 10,
            open_fds: Vec::new(),
        })
        .collect()
}

fn thread_record(p: &Proc) -> ThreadRecord {
    ThreadRecord {
        tid: p.pid,
        pid: p.pid,
        ptid: 1,
        sid: p.pid,
        vpgid: p.pid,
        pgid: p.pid,
        comm: p.comm.into(),
        exe: p.exe.into(),
        exepath: p.exe.into(),
        cwd: b"/".to_vec(),
        fdlimit: 1024,
        uid: 1000,
        gid: 1000,
        loginuid: u32::MAX,
        vtid: p.pid,
        vpid: p.pid,
        ..ThreadRecord::default()
    }
}

fn tuple(sip: [u8; 4], sport: u16, dip: [u8; 4], dport: u16) -> Vec<u8> {
    SockTuple::Inet {
        sip: IpAddr::V4(Ipv4Addr::from(sip)),
        sport,
        dip: IpAddr::V4(Ipv4Addr::from(dip)),
        dport,
    }
    .encode()
}

/// Generates `n` events of a busy web/database host: file opens and closes dominate, then network activity, then
/// process churn; `match_every` events (0 = never) a sensitive-file read by an untrusted program is planted, which
/// the stable rule "Read sensitive file untrusted" catches. Event times advance 1 µs per event.
pub fn realistic_workload(n: usize, seed: u64, match_every: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut procs = seed_processes();
    let threads = procs.iter().map(thread_record).collect();
    let mut w = Workload {
        threads,
        events: Vec::with_capacity(n * 96),
        offsets: Vec::with_capacity(n),
        planted_matches: 0,
    };
    let mut ts: u64 = 1_700_000_000_000_000_000;
    let mut next_pid = 20_000i64;
    let push = |w: &mut Workload, bytes: Vec<u8>| {
        w.offsets.push(w.events.len() as u32);
        w.events.extend_from_slice(&bytes);
    };
    while w.len() < n {
        ts += 1_000;
        let pi = rng.below(procs.len() as u64) as usize;
        // Real processes keep bounded fd tables (a few dozen entries): past that, the next event is a close.
        let roll = if procs[pi].open_fds.len() >= MAX_OPEN_FDS {
            500
        } else {
            rng.below(1000)
        };
        if match_every > 0 && (w.len() as u64 + 1).is_multiple_of(match_every) {
            let p = &procs[pi];
            let fd = p.next_fd;
            let ev = event(
                code::OPENAT_2_X,
                ts,
                p.pid,
                &[
                    ("fd", P::Int(fd)),
                    ("dirfd", P::Int(-100)),
                    ("name", P::Str("/etc/shadow")),
                    ("flags", P::Int((o::O_RDONLY | o::O_CLOEXEC) as i64)),
                ],
            );
            push(&mut w, ev);
            push(
                &mut w,
                event(code::CLOSE_X, ts + 1, p.pid, &[("res", P::Int(0)), ("fd", P::Int(fd))]),
            );
            w.planted_matches += 1;
            continue;
        }
        match roll {
            // File opens (reads mostly, some writes, some failures).
            0..=379 => {
                let p = &mut procs[pi];
                let (path, flags) = if rng.below(10) < 8 {
                    (*rng.pick(READ_PATHS), o::O_RDONLY | o::O_CLOEXEC)
                } else {
                    (
                        *rng.pick(WRITE_PATHS),
                        o::O_WRONLY | o::O_APPEND | o::O_CREAT | o::O_CLOEXEC,
                    )
                };
                let fails = rng.below(20) == 0;
                let fd = if fails { -2 } else { p.next_fd };
                let ev = event(
                    code::OPENAT_2_X,
                    ts,
                    p.pid,
                    &[
                        ("fd", P::Int(fd)),
                        ("dirfd", P::Int(-100)),
                        ("name", P::Str(path)),
                        ("flags", P::Int(flags as i64)),
                        ("mode", P::Int(0o644)),
                        ("dev", P::Int(0x803)),
                        ("ino", P::Int(100_000 + rng.below(5000) as i64)),
                    ],
                );
                if !fails {
                    p.open_fds.push(fd);
                    p.next_fd += 1;
                }
                push(&mut w, ev);
            }
            // Closes of whatever is open.
            380..=699 => {
                let p = &mut procs[pi];
                let fd = p.open_fds.pop().unwrap_or(p.next_fd + 100);
                push(
                    &mut w,
                    event(code::CLOSE_X, ts, p.pid, &[("res", P::Int(0)), ("fd", P::Int(fd))]),
                );
            }
            // Network: an accepted HTTP connection, an outgoing database connection, a DNS query.
            700..=849 => {
                let p = &mut procs[pi];
                let fd = p.next_fd;
                p.next_fd += 1;
                p.open_fds.push(fd);
                let ev = match rng.below(3) {
                    0 => event(
                        code::ACCEPT4_6_X,
                        ts,
                        p.pid,
                        &[
                            ("fd", P::Int(fd)),
                            (
                                "tuple",
                                P::Bytes(tuple([10, 1, 2, rng.below(250) as u8], 40_000, [10, 1, 0, 5], 443)),
                            ),
                            ("queuepct", P::Int(0)),
                            ("flags", P::Int(0)),
                        ],
                    ),
                    1 => event(
                        code::CONNECT_X,
                        ts,
                        p.pid,
                        &[
                            ("res", P::Int(0)),
                            ("tuple", P::Bytes(tuple([127, 0, 0, 1], 51_000, [127, 0, 0, 1], 5432))),
                            ("fd", P::Int(fd)),
                        ],
                    ),
                    _ => event(
                        code::SENDTO_X,
                        ts,
                        p.pid,
                        &[
                            ("res", P::Int(40)),
                            ("fd", P::Int(fd)),
                            ("size", P::Int(40)),
                            ("tuple", P::Bytes(tuple([10, 1, 0, 5], 53_000, [127, 0, 0, 53], 53))),
                        ],
                    ),
                };
                push(&mut w, ev);
            }
            // Sockets created but not yet connected.
            850..=899 => {
                let p = &mut procs[pi];
                let fd = p.next_fd;
                p.next_fd += 1;
                p.open_fds.push(fd);
                push(
                    &mut w,
                    event(
                        code::SOCKET_X,
                        ts,
                        p.pid,
                        &[
                            ("fd", P::Int(fd)),
                            ("domain", P::Int(2)),
                            ("type", P::Int(1)),
                            ("proto", P::Int(0)),
                        ],
                    ),
                );
            }
            // Process churn: a shell or cron spawns a short-lived child that execs and exits.
            _ => {
                let parent = &procs[if rng.below(2) == 0 { 4 } else { 6 }];
                let (comm, exe, args) = *rng.pick(CHILDREN);
                let child = next_pid;
                next_pid += 1;
                let clone_common = |res: i64, tid: i64| {
                    vec![
                        ("res", P::Int(res)),
                        ("exe", P::Str(parent.exe)),
                        ("args", P::List(&[])),
                        ("tid", P::Int(tid)),
                        ("pid", P::Int(tid)),
                        ("ptid", P::Int(parent.pid)),
                        ("cwd", P::Str("/home/app")),
                        ("fdlimit", P::Int(1024)),
                        ("comm", P::Str(parent.comm)),
                        ("cgroups", P::List(&["cpuset=/", "memory=/user.slice"])),
                        ("flags", P::Int(0)),
                        ("uid", P::Int(1000)),
                        ("gid", P::Int(1000)),
                        ("vtid", P::Int(tid)),
                        ("vpid", P::Int(tid)),
                    ]
                };
                push(
                    &mut w,
                    event(code::CLONE_20_X, ts, parent.pid, &clone_common(child, parent.pid)),
                );
                push(&mut w, event(code::CLONE_20_X, ts + 10, child, &clone_common(0, child)));
                let exec = event(
                    code::EXECVE_19_X,
                    ts + 20,
                    child,
                    &[
                        ("res", P::Int(0)),
                        ("exe", P::Str(exe)),
                        ("args", P::List(args)),
                        ("tid", P::Int(child)),
                        ("pid", P::Int(child)),
                        ("ptid", P::Int(parent.pid)),
                        ("cwd", P::Str("/home/app")),
                        ("fdlimit", P::Int(1024)),
                        ("comm", P::Str(comm)),
                        ("cgroups", P::List(&["cpuset=/", "memory=/user.slice"])),
                        ("env", P::List(&["PATH=/usr/bin:/bin", "HOME=/home/app"])),
                        ("tty", P::Int(0)),
                        ("vpgid", P::Int(parent.pid)),
                        ("loginuid", P::Int(1000)),
                        ("flags", P::Int(0)),
                        ("uid", P::Int(1000)),
                        ("trusted_exepath", P::Str(exe)),
                        ("gid", P::Int(1000)),
                        ("filename", P::Str(exe)),
                    ],
                );
                push(&mut w, exec);
                push(
                    &mut w,
                    event(
                        code::PROCEXIT_1_E,
                        ts + 500,
                        child,
                        &[
                            ("status", P::Int(0)),
                            ("ret", P::Int(0)),
                            ("sig", P::Int(0)),
                            ("core", P::Int(0)),
                        ],
                    ),
                );
            }
        }
    }
    if let Some(&end) = w.offsets.get(n) {
        w.offsets.truncate(n);
        w.events.truncate(end as usize);
    }
    w
}
