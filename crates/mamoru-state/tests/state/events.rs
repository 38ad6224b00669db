//! State changes per event family, driven by events built the way the drivers lay them out.

use crate::common;

use common::{build, clone_x, execve_x, nul, raw, V};
use mamoru_event::{FdInfo, FdRecord, SockAddr, SockTuple, ThreadRecord};
use mamoru_state::{clone_flags, oflags, FdKind, Role, State, StateConfig, L4};
use std::net::IpAddr;

const CONTAINER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn feed(st: &mut State, bytes: &[u8]) {
    st.process_event(&raw(bytes));
}

/// A shell (pid 100, parent init 1) with stdin/stdout/stderr on a tty and a close-on-exec file.
fn base_state() -> State {
    let mut st = State::default();
    st.add_thread(ThreadRecord {
        tid: 1,
        pid: 1,
        ptid: 0,
        comm: b"systemd".to_vec(),
        exe: b"/sbin/init".to_vec(),
        exepath: b"/usr/lib/systemd/systemd".to_vec(),
        cwd: b"/".to_vec(),
        vtid: 1,
        vpid: 1,
        ..Default::default()
    });
    let tty = |fd: i64| FdRecord {
        fd,
        ino: 3,
        info: FdInfo::File {
            path: b"/dev/pts/0".to_vec(),
            flags: oflags::RDWR,
            dev: 0,
            ino: 3,
        },
    };
    st.add_thread(ThreadRecord {
        tid: 100,
        pid: 100,
        ptid: 1,
        sid: 100,
        vpgid: 100,
        pgid: 100,
        comm: b"bash".to_vec(),
        exe: b"-bash".to_vec(),
        exepath: b"/usr/bin/bash".to_vec(),
        cwd: b"/home/alice".to_vec(),
        uid: 1000,
        gid: 1000,
        loginuid: 1000,
        vtid: 100,
        vpid: 100,
        fds: vec![
            tty(0),
            tty(1),
            tty(2),
            FdRecord {
                fd: 9,
                ino: 4,
                info: FdInfo::File {
                    path: b"/etc/secret".to_vec(),
                    flags: oflags::RDONLY | oflags::CLOEXEC,
                    dev: 0,
                    ino: 4,
                },
            },
        ],
        ..Default::default()
    });
    st
}

#[test]
fn clone_execve_open_dup2_close() {
    let mut st = base_state();
    // bash forks 200 (caller side first, then the child's own exit).
    feed(&mut st, &clone_x(1000, 100, 200, "-bash", &[], 100, 1, "bash", 0));
    feed(&mut st, &clone_x(1001, 200, 0, "-bash", &[], 200, 100, "bash", 0));
    let child = st.thread(200).expect("child created by the caller's clone exit");
    assert_eq!((child.pid, child.ptid, child.uid), (200, 100, 1000));
    assert_eq!(child.comm, b"bash");
    assert_eq!(st.cwd(child), b"/home/alice/");
    assert_eq!(
        st.fd(child, 9).map(|f| f.name.as_slice()),
        Some(&b"/etc/secret"[..]),
        "fds are inherited"
    );
    assert_eq!(st.parent(child).map(|p| p.tid), Some(100));

    // The child execs cat: exe, args, comm, exepath replaced; the close-on-exec fd is gone.
    feed(
        &mut st,
        &execve_x(2000, 200, "cat", &["notes.txt"], "cat", "/usr/bin/cat", &["cpuset=/"]),
    );
    let child = st.thread(200).expect("thread survives execve");
    assert_eq!(child.comm, b"cat");
    assert_eq!(child.exe, b"cat");
    assert_eq!(child.exepath, b"/usr/bin/cat");
    assert_eq!(child.cmdline, b"cat notes.txt");
    assert_eq!(child.args_text, b"notes.txt");
    assert_eq!(child.env_var(b"HOME"), Some(&b"/root"[..]));
    assert!(child.exe_writable);
    assert_eq!(child.cap_effective, 0x3fffffffff);
    assert!(st.fd(child, 9).is_none(), "close-on-exec fd removed by exec");
    assert!(st.fd(child, 1).is_some());

    // openat(AT_FDCWD, "docs/../notes.txt") resolves against the cwd.
    let open = build(
        "PPME_SYSCALL_OPENAT_2_X",
        3000,
        200,
        &[
            V::N(3),
            V::N(-100),
            V::S("docs/../notes.txt"),
            V::N(1),
            V::N(0),
            V::N(0),
            V::N(77),
        ],
    );
    let ctx = st.process_event(&raw(&open));
    assert_eq!(ctx.fd, Some(3));
    let child = st.thread(200).expect("child");
    let f = st.fd(child, 3).expect("opened fd");
    assert_eq!(f.name, b"/home/alice/notes.txt");
    assert_eq!(f.name_raw, b"docs/../notes.txt");
    assert_eq!(f.kind, FdKind::File);
    assert_eq!(f.ino, 77);

    // dup2(3, 1): fd 1 now names the file.
    feed(
        &mut st,
        &build("PPME_SYSCALL_DUP2_X", 3100, 200, &[V::N(1), V::N(3), V::N(1)]),
    );
    let child = st.thread(200).expect("child");
    assert_eq!(
        st.fd(child, 1).map(|f| f.name.as_slice()),
        Some(&b"/home/alice/notes.txt"[..])
    );

    // close(3) is deferred: the close event itself still sees the fd.
    let ctx = st.process_event(&raw(&build("PPME_SYSCALL_CLOSE_X", 3200, 200, &[V::N(0), V::N(3)])));
    assert_eq!(ctx.fd, Some(3));
    assert!(
        st.fd(st.thread(200).expect("child"), 3).is_some(),
        "still present while the close is evaluated"
    );
    st.flush_pending();
    assert!(st.fd(st.thread(200).expect("child"), 3).is_none());
    // The parent's table is untouched by the child's changes.
    assert_eq!(
        st.fd(st.thread(100).expect("parent"), 9).map(|f| f.cloexec()),
        Some(true)
    );
}

#[test]
fn socket_connect_renders_tuple() {
    let mut st = base_state();
    feed(
        &mut st,
        &build(
            "PPME_SOCKET_SOCKET_X",
            10,
            100,
            &[V::N(5), V::N(2), V::N(1), V::N(0), V::N(0)],
        ),
    );
    let t = st.thread(100).expect("bash");
    let f = st.fd(t, 5).expect("socket fd");
    assert_eq!(f.kind, FdKind::unconnected_v4(L4::Tcp));
    assert!(f.name.is_empty());

    let tuple = SockTuple::Inet {
        sip: ip("10.0.0.2"),
        sport: 40000,
        dip: ip("93.184.216.34"),
        dport: 443,
    }
    .encode();
    let addr = SockAddr::Inet {
        ip: ip("93.184.216.34"),
        port: 443,
    }
    .encode();
    let ctx = st.process_event(&raw(&build(
        "PPME_SOCKET_CONNECT_X",
        11,
        100,
        &[V::N(0), V::B(tuple), V::N(5), V::B(addr)],
    )));
    assert!(ctx.fd_name_changed);
    let f = st.fd(st.thread(100).expect("bash"), 5).expect("socket");
    assert_eq!(f.name, b"10.0.0.2:40000->93.184.216.34:443");
    assert_eq!(f.role, Role::Client);
    assert!(f.connected);
    assert_eq!(f.kind.l4(), Some(L4::Tcp));
}

#[test]
fn bind_and_accept() {
    let mut st = base_state();
    feed(
        &mut st,
        &build(
            "PPME_SOCKET_SOCKET_X",
            10,
            100,
            &[V::N(3), V::N(2), V::N(1), V::N(6), V::N(0)],
        ),
    );
    let addr = SockAddr::Inet {
        ip: ip("0.0.0.0"),
        port: 8080,
    }
    .encode();
    feed(
        &mut st,
        &build("PPME_SOCKET_BIND_X", 11, 100, &[V::N(0), V::B(addr), V::N(3)]),
    );
    let f = st.fd(st.thread(100).expect("bash"), 3).expect("listener");
    assert!(matches!(f.kind, FdKind::Ipv4Server { port: 8080, .. }));
    assert_eq!(f.name, b"0.0.0.0:8080");

    let tuple = SockTuple::Inet {
        sip: ip("192.168.1.9"),
        sport: 51000,
        dip: ip("192.168.1.2"),
        dport: 8080,
    }
    .encode();
    let ctx = st.process_event(&raw(&build(
        "PPME_SOCKET_ACCEPT4_6_X",
        12,
        100,
        &[V::N(4), V::B(tuple), V::N(0), V::N(0), V::N(128), V::N(0)],
    )));
    assert_eq!(ctx.fd, Some(4));
    let f = st.fd(st.thread(100).expect("bash"), 4).expect("accepted");
    assert_eq!(f.name, b"192.168.1.9:51000->192.168.1.2:8080");
    assert_eq!(f.role, Role::Server);
    assert!(f.connected);
}

#[test]
fn pipe_memfd_and_fcntl_cloexec() {
    let mut st = base_state();
    feed(
        &mut st,
        &build(
            "PPME_SYSCALL_PIPE2_X",
            1,
            100,
            &[V::N(0), V::N(5), V::N(6), V::N(999), V::N(0)],
        ),
    );
    let t = st.thread(100).expect("bash");
    assert_eq!(st.fd(t, 5).map(|f| f.kind.typechar()), Some(b'p'));
    assert_eq!(st.fd(t, 6).map(|f| f.ino), Some(999));
    feed(
        &mut st,
        &build(
            "PPME_SYSCALL_MEMFD_CREATE_X",
            2,
            100,
            &[V::N(7), V::S("payload"), V::N(0)],
        ),
    );
    let t = st.thread(100).expect("bash");
    let m = st.fd(t, 7).expect("memfd");
    assert_eq!((m.kind.typechar(), m.name.as_slice()), (b'm', &b"payload"[..]));
    // fcntl(F_SETFD, FD_CLOEXEC) marks fd 6 close-on-exec; F_DUPFD_CLOEXEC copies fd 5 to 10 with the flag.
    feed(
        &mut st,
        &build("PPME_SYSCALL_FCNTL_X", 3, 100, &[V::N(0), V::N(6), V::N(3), V::N(1)]),
    );
    feed(
        &mut st,
        &build("PPME_SYSCALL_FCNTL_X", 4, 100, &[V::N(10), V::N(5), V::N(26), V::N(0)]),
    );
    let t = st.thread(100).expect("bash");
    assert_eq!(st.fd(t, 6).map(|f| f.cloexec()), Some(true));
    assert_eq!(
        st.fd(t, 10).map(|f| (f.cloexec(), f.kind.typechar())),
        Some((true, b'p'))
    );
    feed(&mut st, &execve_x(5, 100, "ls", &[], "ls", "/usr/bin/ls", &[]));
    let t = st.thread(100).expect("bash");
    assert!(st.fd(t, 6).is_none() && st.fd(t, 10).is_none());
    assert!(st.fd(t, 5).is_some());
}

#[test]
fn chdir_setuid_setsid() {
    let mut st = base_state();
    feed(
        &mut st,
        &build("PPME_SYSCALL_CHDIR_X", 1, 100, &[V::N(0), V::S("../bob/./src")]),
    );
    assert_eq!(st.cwd(st.thread(100).expect("bash")), b"/home/bob/src/");
    feed(
        &mut st,
        &build("PPME_SYSCALL_CHDIR_X", 2, 100, &[V::N(-2), V::S("/nonexistent")]),
    );
    assert_eq!(
        st.cwd(st.thread(100).expect("bash")),
        b"/home/bob/src/",
        "failed chdir changes nothing"
    );
    feed(&mut st, &build("PPME_SYSCALL_SETUID_X", 3, 100, &[V::N(0), V::N(0)]));
    assert_eq!(st.thread(100).map(|t| t.uid), Some(0));
    feed(&mut st, &build("PPME_SYSCALL_SETUID_X", 4, 100, &[V::N(-1), V::N(33)]));
    assert_eq!(st.thread(100).map(|t| t.uid), Some(0), "failed setuid changes nothing");
    feed(&mut st, &build("PPME_SYSCALL_SETSID_X", 5, 100, &[V::N(100)]));
    assert_eq!(st.thread(100).map(|t| t.sid), Some(100));
}

#[test]
fn threads_share_fds_and_exit_reparents() {
    let mut st = base_state();
    // bash forks 300; 300 spawns thread 301; 300 forks 400.
    feed(&mut st, &clone_x(10, 100, 300, "-bash", &[], 100, 1, "bash", 0));
    feed(
        &mut st,
        &clone_x(
            11,
            300,
            301,
            "-bash",
            &[],
            300,
            100,
            "bash",
            (clone_flags::CLONE_THREAD | clone_flags::CLONE_FILES) as i64,
        ),
    );
    feed(&mut st, &clone_x(12, 300, 400, "-bash", &[], 300, 100, "bash", 0));
    let th = st.thread(301).expect("thread");
    assert_eq!((th.pid, th.ptid), (300, 100));
    assert_eq!(st.nthreads(th), 2);
    // An fd opened by the thread is visible to the main thread.
    feed(
        &mut st,
        &build(
            "PPME_SYSCALL_OPENAT_2_X",
            13,
            301,
            &[V::N(8), V::N(-100), V::S("/tmp/x"), V::N(2), V::N(0), V::N(0), V::N(0)],
        ),
    );
    assert_eq!(
        st.fd(st.thread(300).expect("main"), 8).map(|f| f.name.as_slice()),
        Some(&b"/tmp/x"[..])
    );
    assert_eq!(
        st.ancestor(st.thread(400).expect("grandchild"), 2).map(|a| a.tid),
        Some(100)
    );

    // The main thread exits: 400 is adopted by the surviving thread 301 (same process).
    let exit = build(
        "PPME_PROCEXIT_1_E",
        20,
        300,
        &[V::N(0), V::N(0), V::N(0), V::N(0), V::N(0)],
    );
    st.process_event(&raw(&exit));
    assert!(
        st.thread(300).is_some_and(|t| t.dead),
        "kept (dead) while the exit event is evaluated"
    );
    feed(&mut st, &build("PPME_SYSCALL_CHDIR_X", 21, 100, &[V::N(0), V::S("/")]));
    assert!(st.thread(300).is_none(), "removed at the next event");
    assert_eq!(st.thread(400).map(|t| t.ptid), Some(301));
    assert!(
        st.fd(st.thread(301).expect("thread"), 8).is_some(),
        "fd table lives while a member does"
    );
    // The last member exits with reaper 1 named by the kernel.
    feed(
        &mut st,
        &build(
            "PPME_PROCEXIT_1_E",
            22,
            301,
            &[V::N(0), V::N(0), V::N(0), V::N(0), V::N(1)],
        ),
    );
    st.flush_pending();
    assert_eq!(st.thread(400).map(|t| t.ptid), Some(1));
    assert!(st.proc_group(st.thread(400).expect("orphan")).is_some());
    assert_eq!(st.stats().processes, 3, "1, 100 and 400 remain");
}

#[test]
fn container_clone_from_child_side() {
    let mut st = base_state();
    // A process in a pid namespace: the caller's exit is ignored, the child's own exit creates it.
    let flags = clone_flags::CHILD_IN_PIDNS as i64;
    feed(&mut st, &clone_x(10, 100, 500, "-bash", &[], 100, 1, "bash", flags));
    assert!(st.thread(500).is_none());
    let mut child = build(
        "PPME_SYSCALL_CLONE_20_X",
        11,
        500,
        &[
            V::N(0),
            V::S("nginx"),
            V::B(nul(&["-g", "daemon off;"])),
            V::N(500),
            V::N(500),
            V::N(100),
            V::S("/"),
            V::N(1024),
            V::N(0),
            V::N(0),
            V::N(0),
            V::N(0),
            V::N(0),
            V::S("nginx"),
            V::B(nul(&[&format!("cpuset=/docker/{CONTAINER}")])),
            V::N(flags),
            V::N(0),
            V::N(0),
            V::N(1),
            V::N(1),
            V::N(5_000),
        ],
    );
    feed(&mut st, &child);
    let t = st.thread(500).expect("created from the child side");
    assert_eq!((t.vpid, t.vtid), (1, 1));
    assert_eq!(t.container_id, &CONTAINER.as_bytes()[..12]);
    assert_eq!(t.cmdline, b"nginx -g daemon off;");
    assert!(t.flags & clone_flags::CLONE_INVERTED != 0);
    // A duplicate child exit right after is ignored (entry is fresh).
    child.clear();
    assert!(st.thread(500).is_some());
}

#[test]
fn unknown_tids_get_placeholders_and_odd_events_do_not_panic() {
    let mut st = State::default();
    feed(&mut st, &build("PPME_SYSCALL_CLOSE_X", 1, 4242, &[V::N(0), V::N(7)]));
    let t = st.thread(4242).expect("placeholder");
    assert!(t.invalid);
    assert_eq!(t.comm, b"<NA>");
    assert_eq!(st.stats().placeholder_threads, 1);
    // Events with missing parameters.
    let short = mamoru_event::EventBuilder::new(common::code("PPME_SYSCALL_OPENAT_2_X"), 2, 4242)
        .u64(3)
        .finish();
    feed(&mut st, &short);
    let empty_clone = mamoru_event::EventBuilder::new(common::code("PPME_SYSCALL_CLONE_20_X"), 3, 4242).finish();
    feed(&mut st, &empty_clone);
    let bad_exec = mamoru_event::EventBuilder::new(common::code("PPME_SYSCALL_EXECVE_19_X"), 4, 4242)
        .i64(0)
        .finish();
    feed(&mut st, &bad_exec);
    feed(
        &mut st,
        &build(
            "PPME_PROCEXIT_1_E",
            5,
            999_999,
            &[V::N(0), V::N(0), V::N(0), V::N(0), V::N(0)],
        ),
    );
    assert!(st.thread(999_999).is_none(), "procexit never creates threads");
    // An execve on the placeholder fills it in.
    feed(
        &mut st,
        &execve_x(6, 4242, "/bin/sh", &["-c", "id"], "sh", "/bin/sh", &[]),
    );
    let t = st.thread(4242).expect("filled");
    assert!(!t.invalid);
    assert_eq!(t.cmdline, b"sh -c id");
}

#[test]
fn thread_table_ceiling_evicts_and_counts() {
    let mut st = State::new(StateConfig {
        max_threads: 64,
        ..StateConfig::default()
    });
    for tid in 1..=1000u64 {
        feed(&mut st, &build("PPME_SYSCALL_CLOSE_X", tid, tid, &[V::N(-9), V::N(3)]));
    }
    let s = st.stats();
    assert!(s.threads <= 64, "{} threads", s.threads);
    assert!(s.evicted_threads >= 1000 - 64);
    assert!(st.thread(1000).is_some(), "the newest thread is kept");
    assert!(st.thread(1).is_none(), "the oldest is evicted");
}

#[test]
fn udp_sendto_names_the_socket() {
    let mut st = base_state();
    feed(
        &mut st,
        &build(
            "PPME_SOCKET_SOCKET_X",
            1,
            100,
            &[V::N(4), V::N(2), V::N(2), V::N(0), V::N(0)],
        ),
    );
    let tuple = SockTuple::Inet {
        sip: ip("10.0.0.2"),
        sport: 5353,
        dip: ip("8.8.8.8"),
        dport: 53,
    }
    .encode();
    let ctx = st.process_event(&raw(&build(
        "PPME_SOCKET_SENDTO_X",
        2,
        100,
        &[V::N(12), V::B(b"query".to_vec()), V::N(4), V::N(12), V::B(tuple)],
    )));
    assert!(ctx.fd_name_changed);
    let f = st.fd(st.thread(100).expect("bash"), 4).expect("udp socket");
    assert_eq!(f.name, b"10.0.0.2:5353->8.8.8.8:53");
    assert_eq!((f.role, f.kind.l4()), (Role::Client, Some(L4::Udp)));
}
