//! Live tests of the eBPF sensor: they load the programs into the running kernel, make real processes do real
//! syscalls and check the decoded scap events. They need root (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN) and a
//! kernel with BTF; without them every test fails with a message naming what is missing.
//!
//! The machine is shared, so events are matched by the thread ids of the processes the tests create, never by
//! position in the stream.

use std::ffi::CString;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mamoru_event::{split_nul, RawEvent, SockAddr, SockTuple};
use mamoru_sensor::{syscall_by_name, Sensor, SensorConfig, SyscallSet};

/// Tests share the kernel and the CPU; running them one at a time keeps timings and drop counts meaningful.
static SERIAL: Mutex<()> = Mutex::new(());

fn require_bpf() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let report = Sensor::probe().expect("probing kernel and capabilities");
    assert!(
        report.ready(),
        "live sensor tests cannot run here: missing {}. Run them as root on a kernel with BTF.",
        report.missing().join(", ")
    );
    guard
}

fn syscalls(names: &[&str]) -> SyscallSet {
    SyscallSet::from_names(names).expect("known syscall names")
}

fn nr(name: &str) -> u32 {
    syscall_by_name(name).expect("known syscall").nr
}

fn gettid() -> i64 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// Events copied out of the ring buffer, each checked to parse against the event table.
struct Captured(Vec<(u16, Vec<u8>)>);

impl Captured {
    fn events(&self) -> impl Iterator<Item = RawEvent<'_>> {
        self.0.iter().map(|(cpu, bytes)| {
            let ev = RawEvent::parse(bytes, *cpu).expect("every sensor record is a valid scap event");
            assert_eq!(
                ev.nparams(),
                ev.info().params.len(),
                "{} carries every parameter of the table",
                ev.name()
            );
            ev
        })
    }

    fn of_tid(&self, tid: i64) -> Vec<RawEvent<'_>> {
        self.events().filter(|e| e.tid as i64 == tid).collect()
    }

    fn named<'a>(&'a self, tid: i64, name: &str) -> Vec<RawEvent<'a>> {
        self.of_tid(tid).into_iter().filter(|e| e.name() == name).collect()
    }
}

/// Polls until `done` holds for what was captured so far, or `limit` passes.
fn collect(sensor: &mut Sensor, limit: Duration, mut done: impl FnMut(&Captured) -> bool) -> Captured {
    let mut captured = Captured(Vec::new());
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let outcome = sensor
            .poll(Duration::from_millis(50), |cpu, bytes| {
                captured.0.push((cpu, bytes.to_vec()))
            })
            .expect("polling the sensor");
        assert!(!outcome.interrupted, "poll interrupted by a signal");
        if done(&captured) {
            break;
        }
    }
    captured
}

fn str_param<'a>(ev: &RawEvent<'a>, name: &str) -> &'a [u8] {
    let i = ev
        .param_index(name)
        .unwrap_or_else(|| panic!("{} has no {name}", ev.name()));
    ev.param_str(i).unwrap_or_default()
}

fn int_param(ev: &RawEvent<'_>, name: &str) -> i64 {
    let i = ev
        .param_index(name)
        .unwrap_or_else(|| panic!("{} has no {name}", ev.name()));
    ev.param_i64(i)
        .unwrap_or_else(|| panic!("{}.{name} is empty", ev.name()))
}

fn raw_param<'a>(ev: &RawEvent<'a>, name: &str) -> &'a [u8] {
    ev.param_by_name(name)
        .unwrap_or_else(|| panic!("{} has no {name}", ev.name()))
}

/// Forks a child that runs `body` (raw syscalls only: the parent is multi-threaded) and exits with its result.
fn fork_child(body: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `body`, which makes async-signal-safe raw syscalls, then _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = body();
        // SAFETY: terminate the child without running the parent's atexit handlers or destructors.
        unsafe { libc::_exit(code) };
    }
    pid
}

fn wait_child(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waiting for our own child with a valid status pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid, "waitpid: {}", std::io::Error::last_os_error());
    status
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL in test strings")
}

#[test]
fn exec_of_cat_reports_execve_open_clone_and_exit() {
    let _serial = require_bpf();
    let config = SensorConfig {
        syscalls: syscalls(&["execve", "openat", "clone", "clone3", "vfork", "fork"]),
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    let cwd = std::env::current_dir().expect("cwd");

    let mut child = Command::new("/bin/cat")
        .arg("/etc/hostname")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cat");
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read cat output");
    assert!(child.wait().expect("wait cat").success());
    let pid = i64::from(child.id());

    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        !c.named(pid, "execve").is_empty() && !c.named(pid, "procexit").is_empty()
    });

    let execs = got.named(pid, "execve");
    let exec = execs
        .iter()
        .find(|e| int_param(e, "res") == 0)
        .expect("successful execve of cat");
    assert_eq!(str_param(exec, "exe"), b"/bin/cat");
    let args: Vec<&[u8]> = split_nul(raw_param(exec, "args")).collect();
    assert_eq!(args, vec![&b"/etc/hostname"[..]]);
    assert_eq!(int_param(exec, "tid"), pid);
    assert_eq!(int_param(exec, "pid"), pid);
    assert_eq!(
        int_param(exec, "ptid"),
        gettid(),
        "the spawning test thread is the parent"
    );
    assert_eq!(str_param(exec, "comm"), b"cat");
    assert_eq!(str_param(exec, "cwd"), cwd.as_os_str().as_encoded_bytes());
    assert_eq!(str_param(exec, "filename"), b"/bin/cat");
    let real_cat = std::fs::canonicalize("/bin/cat").expect("canonical cat");
    assert_eq!(
        str_param(exec, "trusted_exepath"),
        real_cat.as_os_str().as_encoded_bytes()
    );
    let cat_meta = std::fs::metadata(&real_cat).expect("stat cat");
    assert_eq!(int_param(exec, "exe_ino") as u64, cat_meta.ino());
    assert_eq!(
        int_param(exec, "exe_ino_mtime"),
        cat_meta.mtime() * 1_000_000_000 + cat_meta.mtime_nsec()
    );
    assert_eq!(int_param(exec, "uid"), 0);
    assert!(int_param(exec, "cap_effective") != 0, "root has capabilities");
    assert!(
        split_nul(raw_param(exec, "env")).any(|kv| kv.starts_with(b"PATH=")),
        "environment captured"
    );
    assert!(split_nul(raw_param(exec, "cgroups")).count() > 0, "cgroups captured");
    assert!(exec.ts > 1_600_000_000_000_000_000, "timestamps are epoch nanoseconds");

    let hostname = std::fs::metadata("/etc/hostname").expect("stat hostname");
    let opens = got.named(pid, "openat");
    let open = opens
        .iter()
        .find(|e| str_param(e, "name") == b"/etc/hostname")
        .expect("openat of /etc/hostname");
    assert!(int_param(open, "fd") >= 0);
    assert_eq!(int_param(open, "dirfd"), -100, "AT_FDCWD");
    assert_eq!(int_param(open, "flags") & 0x3, 1, "PPM_O_RDONLY");
    assert_eq!(int_param(open, "ino") as u64, hostname.ino());
    assert_eq!(int_param(open, "dev") as u64, hostname.dev());

    // The child's side of the clone that created it: its first return to user space, with res 0.
    let child_clone = got
        .of_tid(pid)
        .into_iter()
        .find(|e| matches!(e.name(), "clone" | "clone3" | "vfork" | "fork"))
        .expect("child side of the clone");
    assert_eq!(int_param(&child_clone, "res"), 0);
    assert_eq!(int_param(&child_clone, "pid"), pid);
    assert_eq!(int_param(&child_clone, "vpid"), pid, "no pid namespace here");

    let exit = got.named(pid, "procexit");
    assert_eq!(int_param(&exit[0], "status"), 0);

    // The sensor's own process is dropped: the parent side of the clone (in this process) never shows up.
    let me = i64::from(std::process::id());
    assert!(got.events().all(|e| e.tid as i64 != gettid() && e.tid as i64 != me));
    let stats = sensor.stats().expect("stats");
    assert_eq!(stats.totals.dropped(), 0, "{stats:?}");
    assert!(stats.totals.emitted >= got.0.len() as u64);
    sensor.stop();
}

#[test]
fn forked_child_syscalls_decode() {
    let _serial = require_bpf();
    let config = SensorConfig {
        syscalls: syscalls(&[
            "openat",
            "symlink",
            "setuid",
            "memfd_create",
            "init_module",
            "socket",
            "connect",
            "accept4",
            "accept",
            "ptrace",
            "kill",
            "mkdirat",
            "renameat2",
            "renameat",
            "rename",
            "unlinkat",
            "close",
        ]),
        drop_self: false,
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");

    let dir = tempfile::tempdir().expect("tempdir");
    let dir_c = c(dir.path().to_str().expect("utf-8 tempdir"));
    let rel = c("rel.txt");
    let target = c("/etc/hostname");
    let link = c(dir.path().join("link").to_str().expect("utf-8"));
    let sub = c("subdir");
    let renamed = c("renamed");
    let memfd_name = c("mamoru-memfd");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("listen on loopback");
    let port = listener.local_addr().expect("local addr").port();
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    };

    let child = fork_child(|| {
        // SAFETY (all calls below): raw syscalls with valid NUL-terminated strings and in-bounds buffers that
        // live on this stack or in memory prepared before fork.
        unsafe {
            let dirfd = libc::syscall(libc::SYS_open, dir_c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) as i32;
            let fd = libc::syscall(
                libc::SYS_openat,
                dirfd,
                rel.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT,
                0o640,
            );
            libc::syscall(libc::SYS_close, fd);
            libc::syscall(libc::SYS_symlink, target.as_ptr(), link.as_ptr());
            libc::syscall(libc::SYS_mkdirat, dirfd, sub.as_ptr(), 0o750);
            libc::syscall(libc::SYS_renameat2, dirfd, sub.as_ptr(), dirfd, renamed.as_ptr(), 0);
            libc::syscall(libc::SYS_unlinkat, dirfd, renamed.as_ptr(), libc::AT_REMOVEDIR);
            libc::syscall(libc::SYS_memfd_create, memfd_name.as_ptr(), libc::MFD_CLOEXEC);
            let s = libc::syscall(
                libc::SYS_socket,
                libc::AF_INET,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
            );
            libc::syscall(
                libc::SYS_connect,
                s,
                &sin as *const libc::sockaddr_in,
                std::mem::size_of::<libc::sockaddr_in>(),
            );
            libc::syscall(libc::SYS_close, s);
            libc::syscall(libc::SYS_setuid, 65534);
        }
        0
    });
    let (conn, peer) = listener.accept().expect("accept the child's connection");
    drop(conn);
    assert_eq!(wait_child(child), 0);
    let child = i64::from(child);

    // This thread: init_module with a bogus image, then ptrace attach/detach of a sleeping child and kill it.
    let image = *b"\x7fELF-not-really-a-module-mamoru-test";
    let params = c("");
    // SAFETY: a valid buffer and length and a NUL-terminated parameter string.
    let init_rc = unsafe { libc::syscall(libc::SYS_init_module, image.as_ptr(), image.len(), params.as_ptr()) };
    assert!(init_rc < 0, "a bogus module must be refused");
    let init_errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    let sleeper = fork_child(|| loop {
        // SAFETY: pause only waits for a signal.
        unsafe { libc::pause() };
    });
    // SAFETY: ptrace requests on our own child with null addr/data where the request ignores them.
    let attach_rc = unsafe { libc::ptrace(libc::PTRACE_ATTACH, sleeper, 0usize, 0usize) };
    assert_eq!(attach_rc, 0, "ptrace attach: {}", std::io::Error::last_os_error());
    let mut status = 0;
    // SAFETY: waiting for the tracee to stop.
    unsafe { libc::waitpid(sleeper, &mut status, 0) };
    // SAFETY: detach from our stopped tracee, then kill it.
    unsafe {
        libc::ptrace(libc::PTRACE_DETACH, sleeper, 0usize, 0usize);
        libc::kill(sleeper, libc::SIGKILL);
    }
    wait_child(sleeper);
    let me = gettid();

    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        !c.named(child, "setuid").is_empty() && !c.named(me, "kill").is_empty()
    });

    // openat relative to a directory fd: the raw relative name and the dirfd, flags and mode in scap encoding.
    let open = got
        .named(child, "openat")
        .into_iter()
        .find(|e| str_param(e, "name") == b"rel.txt")
        .expect("openat of rel.txt");
    let dirfd = int_param(&open, "dirfd");
    assert!(dirfd >= 0);
    assert!(int_param(&open, "fd") >= 0);
    let flags = int_param(&open, "flags");
    assert_eq!(flags & 0x3, 2, "PPM_O_WRONLY");
    assert_ne!(flags & (1 << 2), 0, "PPM_O_CREAT");
    assert_ne!(flags & (1 << 14), 0, "PPM_O_F_CREATED: the file did not exist");
    assert_eq!(
        int_param(&open, "mode"),
        (1 << 8) | (1 << 7) | (1 << 5),
        "0640 as PPM_S_IRUSR|IWUSR|IRGRP"
    );
    let created = std::fs::metadata(dir.path().join("rel.txt")).expect("stat rel.txt");
    assert_eq!(int_param(&open, "ino") as u64, created.ino());

    let close = got.named(child, "close");
    assert!(close
        .iter()
        .any(|e| int_param(e, "fd") == int_param(&open, "fd") && int_param(e, "res") == 0));

    let sym = &got.named(child, "symlink")[0];
    assert_eq!(int_param(sym, "res"), 0);
    assert_eq!(str_param(sym, "target"), b"/etc/hostname");
    assert_eq!(str_param(sym, "linkpath"), link.as_bytes());

    let mkdir = &got.named(child, "mkdirat")[0];
    assert_eq!((int_param(mkdir, "res"), int_param(mkdir, "dirfd")), (0, dirfd));
    assert_eq!(str_param(mkdir, "path"), b"subdir");
    assert_eq!(int_param(mkdir, "mode"), 0o750);
    let rename = &got.named(child, "renameat2")[0];
    assert_eq!(str_param(rename, "oldpath"), b"subdir");
    assert_eq!(str_param(rename, "newpath"), b"renamed");
    assert_eq!(int_param(rename, "newdirfd"), dirfd);
    let unlink = &got.named(child, "unlinkat")[0];
    assert_eq!(int_param(unlink, "res"), 0);
    assert_eq!(int_param(unlink, "flags"), 0x200, "PPM_AT_REMOVEDIR");

    let memfd = &got.named(child, "memfd_create")[0];
    assert!(int_param(memfd, "fd") >= 0);
    assert_eq!(str_param(memfd, "name"), b"mamoru-memfd");
    assert_eq!(int_param(memfd, "flags"), 1, "PPM_MFD_CLOEXEC");

    let sock = &got.named(child, "socket")[0];
    assert_eq!(int_param(sock, "domain"), 2, "PPM_AF_INET");
    assert_ne!(int_param(sock, "flags") & (1 << 12), 0, "SOCK_CLOEXEC as PPM_O_CLOEXEC");
    let connect = &got.named(child, "connect")[0];
    assert_eq!(int_param(connect, "res"), 0);
    assert_eq!(int_param(connect, "fd"), int_param(sock, "fd"));
    let Some(SockTuple::Inet { sip, sport, dip, dport }) = SockTuple::decode(raw_param(connect, "tuple")) else {
        panic!("connect tuple is an IPv4 tuple: {:?}", raw_param(connect, "tuple"));
    };
    assert_eq!(
        (sip, dip, dport),
        (Ipv4Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into(), port)
    );
    assert_ne!(sport, 0, "the kernel bound a local port");
    assert_eq!(
        SockAddr::decode(raw_param(connect, "addr")),
        Some(SockAddr::Inet {
            ip: Ipv4Addr::LOCALHOST.into(),
            port
        })
    );

    // The accepting side (this thread): an inbound tuple, so the client is the source.
    let accept = got
        .of_tid(me)
        .into_iter()
        .find(|e| matches!(e.name(), "accept" | "accept4") && int_param(e, "fd") >= 0)
        .expect("accept of the child's connection");
    let accepted: SocketAddr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), sport);
    assert_eq!(
        SockTuple::decode(raw_param(&accept, "tuple")),
        Some(SockTuple::Inet {
            sip: accepted.ip(),
            sport,
            dip: Ipv4Addr::LOCALHOST.into(),
            dport: port
        }),
        "accept tuple mirrors the connect tuple: {peer:?}"
    );

    let setuid = &got.named(child, "setuid")[0];
    assert_eq!((int_param(setuid, "res"), int_param(setuid, "uid")), (0, 65534));

    let init = &got.named(me, "init_module")[0];
    assert_eq!(
        int_param(init, "res"),
        -i64::from(init_errno),
        "the event carries the syscall's error"
    );
    assert_eq!(int_param(init, "length"), image.len() as i64);
    assert_eq!(raw_param(init, "img"), &image[..], "image bytes within snaplen");

    let ptraces = got.named(me, "ptrace");
    let attach = ptraces
        .iter()
        .find(|e| int_param(e, "request") == 11)
        .expect("PPM_PTRACE_ATTACH");
    assert_eq!(
        (int_param(attach, "res"), int_param(attach, "pid")),
        (0, i64::from(sleeper))
    );
    assert!(
        ptraces.iter().any(|e| int_param(e, "request") == 12),
        "PPM_PTRACE_DETACH"
    );
    let kill = &got.named(me, "kill")[0];
    assert_eq!(
        (int_param(kill, "pid"), int_param(kill, "sig")),
        (i64::from(sleeper), 9)
    );
    sensor.stop();
}

fn loopback(port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    }
}

#[test]
fn fd_process_and_datagram_syscalls_decode() {
    let _serial = require_bpf();
    let names = [
        "pipe2",
        "dup3",
        "fcntl",
        "chdir",
        "fchdir",
        "creat",
        "link",
        "chmod",
        "fchmodat",
        "openat2",
        "prctl",
        "bind",
        "sendto",
        "recvfrom",
        "sendmsg",
        "recvmsg",
        "tgkill",
        "finit_module",
        "bpf",
        "unshare",
    ];
    let config = SensorConfig {
        syscalls: syscalls(&names),
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_c = c(dir.path().to_str().expect("utf-8 tempdir"));
    let created = c("created.txt");
    let hard = c("hard.txt");
    let beneath = c("created.txt");
    let comm = c("mamoru-renamed");
    let udp_port = {
        // Reserve a free port number for the child's receiving socket.
        let probe = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("udp bind");
        probe.local_addr().expect("udp addr").port()
    };
    let to = loopback(udp_port);
    let how = [0o2u64 /* O_RDWR */, 0, 0x08 /* RESOLVE_BENEATH */];

    let child = fork_child(|| {
        // SAFETY (all calls below): raw syscalls with valid pointers to NUL-terminated strings prepared before
        // fork and to buffers on this stack.
        unsafe {
            let mut fds = [0i32; 2];
            libc::syscall(libc::SYS_pipe2, fds.as_mut_ptr(), libc::O_CLOEXEC);
            libc::syscall(libc::SYS_dup3, fds[0], 100, libc::O_CLOEXEC);
            libc::syscall(libc::SYS_fcntl, fds[1], libc::F_DUPFD_CLOEXEC, 200);
            libc::syscall(libc::SYS_chdir, dir_c.as_ptr());
            let dirfd = libc::syscall(libc::SYS_open, dir_c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            libc::syscall(libc::SYS_fchdir, dirfd);
            let fd = libc::syscall(libc::SYS_creat, created.as_ptr(), 0o600);
            libc::syscall(libc::SYS_close, fd);
            libc::syscall(libc::SYS_link, created.as_ptr(), hard.as_ptr());
            libc::syscall(libc::SYS_chmod, created.as_ptr(), 0o4755);
            libc::syscall(libc::SYS_fchmodat, dirfd, hard.as_ptr(), 0o644);
            libc::syscall(libc::SYS_openat2, dirfd, beneath.as_ptr(), how.as_ptr(), 24usize);
            libc::syscall(libc::SYS_prctl, libc::PR_SET_NAME, comm.as_ptr(), 0, 0, 0);

            let rx = libc::syscall(libc::SYS_socket, libc::AF_INET, libc::SOCK_DGRAM, 0);
            let addr_len = std::mem::size_of::<libc::sockaddr_in>();
            libc::syscall(libc::SYS_bind, rx, &to as *const libc::sockaddr_in, addr_len);
            let tx = libc::syscall(libc::SYS_socket, libc::AF_INET, libc::SOCK_DGRAM, 0);
            let payload = *b"hello-mamoru";
            libc::syscall(
                libc::SYS_sendto,
                tx,
                payload.as_ptr(),
                payload.len(),
                0,
                &to as *const libc::sockaddr_in,
                addr_len,
            );
            let mut buf = [0u8; 64];
            let mut from: libc::sockaddr_in = std::mem::zeroed();
            let mut from_len = addr_len as libc::socklen_t;
            libc::syscall(
                libc::SYS_recvfrom,
                rx,
                buf.as_mut_ptr(),
                buf.len(),
                0,
                &mut from as *mut libc::sockaddr_in,
                &mut from_len as *mut libc::socklen_t,
            );
            let second = *b"second-datagram";
            let mut iov = libc::iovec {
                iov_base: second.as_ptr() as *mut libc::c_void,
                iov_len: second.len(),
            };
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = &to as *const libc::sockaddr_in as *mut libc::c_void;
            msg.msg_namelen = addr_len as u32;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            libc::syscall(libc::SYS_sendmsg, tx, &msg as *const libc::msghdr, 0);
            let mut rbuf = [0u8; 64];
            let mut riov = libc::iovec {
                iov_base: rbuf.as_mut_ptr() as *mut libc::c_void,
                iov_len: rbuf.len(),
            };
            let mut rfrom: libc::sockaddr_in = std::mem::zeroed();
            let mut rmsg: libc::msghdr = std::mem::zeroed();
            rmsg.msg_name = &mut rfrom as *mut libc::sockaddr_in as *mut libc::c_void;
            rmsg.msg_namelen = addr_len as u32;
            rmsg.msg_iov = &mut riov;
            rmsg.msg_iovlen = 1;
            libc::syscall(libc::SYS_recvmsg, rx, &mut rmsg as *mut libc::msghdr, 0);

            let pid = libc::syscall(libc::SYS_getpid);
            libc::syscall(libc::SYS_tgkill, pid, pid, 0);
            libc::syscall(libc::SYS_finit_module, -1, comm.as_ptr(), 0);
            libc::syscall(libc::SYS_bpf, 5 /* BPF_PROG_LOAD */, 0usize, 0);
            libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUTS);
        }
        0
    });
    assert_eq!(wait_child(child), 0);
    let pid = i64::from(child);
    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        !c.named(pid, "unshare").is_empty()
    });
    let one = |name: &str| {
        let mut v = got.named(pid, name);
        assert!(!v.is_empty(), "no {name} event from the child");
        v.remove(0)
    };

    let pipe = one("pipe2");
    assert_eq!(int_param(&pipe, "res"), 0);
    let (rd, wr) = (int_param(&pipe, "fd1"), int_param(&pipe, "fd2"));
    assert!(rd >= 0 && wr >= 0 && rd != wr);
    assert_ne!(int_param(&pipe, "ino"), 0, "pipefs inode");
    assert_eq!(int_param(&pipe, "flags"), 1 << 12, "PPM_O_CLOEXEC");
    let dup = one("dup3");
    assert_eq!(
        (
            int_param(&dup, "res"),
            int_param(&dup, "oldfd"),
            int_param(&dup, "newfd")
        ),
        (100, rd, 100)
    );
    assert_eq!(int_param(&dup, "flags"), 1 << 12);
    let fcntl = one("fcntl");
    assert!(int_param(&fcntl, "res") >= 200);
    assert_eq!(
        (
            int_param(&fcntl, "fd"),
            int_param(&fcntl, "cmd"),
            int_param(&fcntl, "arg")
        ),
        (wr, 26, 200)
    );

    let dir_bytes = dir.path().as_os_str().as_encoded_bytes();
    let chdir = one("chdir");
    assert_eq!((int_param(&chdir, "res"), str_param(&chdir, "path")), (0, dir_bytes));
    assert_eq!(int_param(&one("fchdir"), "res"), 0);
    let creat = one("creat");
    assert!(int_param(&creat, "fd") >= 0);
    assert_eq!(str_param(&creat, "name"), b"created.txt");
    assert_eq!(int_param(&creat, "mode"), (1 << 8) | (1 << 7), "0600");
    assert_ne!(int_param(&creat, "creat_flags") & (1 << 14), 0, "PPM_O_F_CREATED");
    let link = one("link");
    assert_eq!(
        (str_param(&link, "oldpath"), str_param(&link, "newpath")),
        (&b"created.txt"[..], &b"hard.txt"[..])
    );
    let chmod = one("chmod");
    assert_eq!(
        int_param(&chmod, "mode"),
        (1 << 11) | 0b1_1110_1101,
        "04755: PPM_S_ISUID | rwxr-xr-x"
    );
    let fchmodat = one("fchmodat");
    assert_eq!(
        (str_param(&fchmodat, "filename"), int_param(&fchmodat, "mode")),
        (&b"hard.txt"[..], 0b1_1010_0100),
        "0644"
    );
    let openat2 = one("openat2");
    assert!(int_param(&openat2, "fd") >= 0);
    assert_eq!(int_param(&openat2, "flags") & 0x3, 3, "PPM_O_RDWR");
    assert_eq!(int_param(&openat2, "resolve"), 1, "PPM_RESOLVE_BENEATH");
    let prctl = one("prctl");
    assert_eq!(
        (int_param(&prctl, "option"), str_param(&prctl, "arg2_str")),
        (15, &b"mamoru-renamed"[..])
    );

    let bind = one("bind");
    assert_eq!(int_param(&bind, "res"), 0);
    assert_eq!(
        SockAddr::decode(raw_param(&bind, "addr")),
        Some(SockAddr::Inet {
            ip: Ipv4Addr::LOCALHOST.into(),
            port: udp_port
        })
    );
    let sendto = one("sendto");
    assert_eq!((int_param(&sendto, "res"), int_param(&sendto, "size")), (12, 12));
    assert_eq!(raw_param(&sendto, "data"), b"hello-mamoru");
    let Some(SockTuple::Inet {
        sport: tx_port,
        dip,
        dport,
        ..
    }) = SockTuple::decode(raw_param(&sendto, "tuple"))
    else {
        panic!("sendto tuple");
    };
    assert_eq!(
        (dip, dport),
        (Ipv4Addr::LOCALHOST.into(), udp_port),
        "destination from the sendto address"
    );
    let recvfrom = one("recvfrom");
    assert_eq!(int_param(&recvfrom, "res"), 12);
    assert_eq!(raw_param(&recvfrom, "data"), b"hello-mamoru");
    assert_eq!(
        SockTuple::decode(raw_param(&recvfrom, "tuple")),
        Some(SockTuple::Inet {
            sip: Ipv4Addr::LOCALHOST.into(),
            sport: tx_port,
            dip: Ipv4Addr::LOCALHOST.into(),
            dport: udp_port
        }),
        "inbound datagram: the sender is the source"
    );
    let sendmsg = one("sendmsg");
    assert_eq!((int_param(&sendmsg, "res"), int_param(&sendmsg, "size")), (15, 15));
    assert_eq!(raw_param(&sendmsg, "data"), b"second-datagram");
    let recvmsg = one("recvmsg");
    assert_eq!((int_param(&recvmsg, "res"), int_param(&recvmsg, "size")), (15, 15));
    assert_eq!(raw_param(&recvmsg, "data"), b"second-datagram");
    assert!(
        matches!(SockTuple::decode(raw_param(&recvmsg, "tuple")), Some(SockTuple::Inet { sport, .. }) if sport == tx_port)
    );

    let tgkill = one("tgkill");
    assert_eq!(
        (
            int_param(&tgkill, "pid"),
            int_param(&tgkill, "tid"),
            int_param(&tgkill, "sig")
        ),
        (pid, pid, 0)
    );
    // The result depends on the kernel (EBADF, or ENOSYS without module support): compare with our own call.
    // SAFETY: finit_module on an invalid fd with a valid NUL-terminated parameter string.
    let finit_rc = unsafe { libc::syscall(libc::SYS_finit_module, -1, comm.as_ptr(), 0) };
    assert!(finit_rc < 0);
    let finit_errno = i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    let finit = one("finit_module");
    assert_eq!((int_param(&finit, "res"), int_param(&finit, "fd")), (-finit_errno, -1));
    assert_eq!(str_param(&finit, "uargs"), b"mamoru-renamed");
    let bpf = one("bpf");
    assert!(int_param(&bpf, "fd") < 0);
    assert_eq!(int_param(&bpf, "cmd"), 5);
    let unshare = one("unshare");
    assert_eq!(
        (int_param(&unshare, "res"), int_param(&unshare, "flags")),
        (0, 1 << 7),
        "PPM_CL_CLONE_NEWUTS"
    );
    sensor.stop();
}

#[test]
fn filter_excludes_disabled_syscalls_and_updates_live() {
    let _serial = require_bpf();
    let config = SensorConfig {
        syscalls: syscalls(&["openat"]),
        process_exit: false,
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    let path = c("/etc/hostname");
    let run = || {
        let child = fork_child(|| {
            // SAFETY: raw syscalls on a valid path; getppid has no arguments.
            unsafe {
                let fd = libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY);
                libc::syscall(libc::SYS_close, fd);
                libc::syscall(libc::SYS_getppid);
            }
            0
        });
        wait_child(child);
        i64::from(child)
    };

    let filtered_before = sensor.stats().expect("stats").totals.filtered;
    let first = run();
    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        !c.named(first, "openat").is_empty()
    });
    // The child's close and getppid (at least) were left in the kernel, and counted.
    let filtered_after = sensor.stats().expect("stats").totals.filtered;
    assert!(
        filtered_after >= filtered_before + 2,
        "filtered counter {filtered_before} -> {filtered_after}"
    );
    let names: Vec<&str> = got.of_tid(first).iter().map(|e| e.name()).collect();
    assert!(names.contains(&"openat"), "{names:?}");
    assert!(
        names.iter().all(|n| *n == "openat"),
        "only openat is enabled, got {names:?}"
    );

    // Enable close and getppid (a syscall without a dedicated event: PPME_GENERIC_X) while running.
    sensor
        .set_syscalls(&syscalls(&["openat", "close", "getppid"]))
        .expect("updating the filter");
    let second = run();
    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        !c.named(second, "close").is_empty() && !c.named(second, "syscall").is_empty()
    });
    assert!(!got.named(second, "close").is_empty());
    let generic = &got.named(second, "syscall")[0];
    assert_eq!(int_param(generic, "nativeID"), i64::from(nr("getppid")));
    assert_eq!(int_param(generic, "ID"), 41, "PPM_SC_GETPPID");
    assert!(got.named(second, "procexit").is_empty(), "procexit disabled");
    sensor.stop();
}

#[test]
fn own_events_are_dropped_only_when_asked() {
    let _serial = require_bpf();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("mine.txt");
    std::fs::write(&file, b"x").expect("write file");
    let wanted = file.as_os_str().as_encoded_bytes().to_vec();

    for drop_self in [true, false] {
        let config = SensorConfig {
            syscalls: syscalls(&["openat"]),
            drop_self,
            process_exit: false,
            ..SensorConfig::default()
        };
        let mut sensor = Sensor::start(config).expect("starting the sensor");
        let me = gettid();
        std::fs::File::open(&file).expect("open my file");
        // A marker from another process: once its open is seen, ours would have been seen too.
        let marker = Command::new("/bin/cat")
            .arg("/etc/hostname")
            .output()
            .expect("marker process");
        assert!(marker.status.success());
        let got = collect(&mut sensor, Duration::from_secs(5), |c| {
            c.events()
                .any(|e| e.name() == "openat" && str_param(&e, "name") == b"/etc/hostname")
        });
        let mine = got
            .of_tid(me)
            .into_iter()
            .filter(|e| str_param(e, "name") == wanted.as_slice())
            .count();
        if drop_self {
            assert_eq!(mine, 0, "own events must be dropped");
        } else {
            assert_eq!(mine, 1, "own events are reported when drop_self is off");
        }
        sensor.stop();
    }
}

#[test]
fn tiny_ring_counts_drops_under_a_storm() {
    let _serial = require_bpf();
    let page = 4096;
    let config = SensorConfig {
        ring_buffer_bytes: page,
        syscalls: syscalls(&["getppid"]),
        process_exit: false,
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    const STORM: usize = 50_000;
    // The reader does not poll while the child runs, so the one-page ring overflows.
    let child = fork_child(|| {
        for _ in 0..STORM {
            // SAFETY: getppid has no arguments.
            unsafe { libc::syscall(libc::SYS_getppid) };
        }
        0
    });
    wait_child(child);
    let before = sensor.stats().expect("stats");
    assert!(
        before.totals.dropped_ring_full > 0,
        "a full ring must count drops: {before:?}"
    );
    assert!(before.totals.emitted > 0);
    assert!(before.totals.emitted + before.totals.dropped_ring_full >= STORM as u64);
    let per_cpu_drops: u64 = before.per_cpu.iter().map(|c| c.counters.dropped_ring_full).sum();
    assert_eq!(per_cpu_drops, before.totals.dropped_ring_full);

    let got = collect(&mut sensor, Duration::from_millis(500), |_| false);
    let delivered = got.events().filter(|e| e.tid as i64 == i64::from(child)).count();
    assert!(
        delivered > 0 && delivered < STORM,
        "a page holds only part of the storm: {delivered}"
    );
    let after = sensor.stats().expect("stats");
    assert!(after.delivered >= delivered as u64);
    assert_eq!(after.malformed_records, 0);
    sensor.stop();
}

/// Every other handler, exercised once (mostly failing harmlessly): each must produce its own event type with the
/// table's parameter count, and the kernel must not withhold any event as malformed.
#[test]
fn remaining_handlers_emit_well_formed_events() {
    let _serial = require_bpf();
    let expected = [
        "open",
        "unlink",
        "rename",
        "renameat",
        "rmdir",
        "symlinkat",
        "linkat",
        "fchmod",
        "chown",
        "lchown",
        "fchown",
        "fchownat",
        "dup",
        "dup2",
        "pipe",
        "mount",
        "umount2",
        "chroot",
        "listen",
        "setgid",
        "setresuid",
        "setresgid",
        "setreuid",
        "setregid",
        "capset",
        "setns",
        "tkill",
        "execveat",
        "fork",
        "userfaultfd",
    ];
    let config = SensorConfig {
        syscalls: syscalls(&expected),
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = c(dir.path().join("f").to_str().expect("utf-8"));
    let other = c(dir.path().join("g").to_str().expect("utf-8"));
    let missing = c("/nonexistent/mamoru");
    let arg0 = c("mamoru-arg0");
    let arg1 = c("--flag");
    let argv = [arg0.as_ptr(), arg1.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];

    let child = fork_child(|| {
        // SAFETY (all calls below): raw syscalls whose pointer arguments are NUL-terminated strings or arrays
        // prepared before fork, or stack buffers; failures are expected and harmless.
        unsafe {
            let fd = libc::syscall(libc::SYS_open, file.as_ptr(), libc::O_RDWR | libc::O_CREAT, 0o600);
            libc::syscall(libc::SYS_rename, file.as_ptr(), other.as_ptr());
            libc::syscall(
                libc::SYS_renameat,
                libc::AT_FDCWD,
                other.as_ptr(),
                libc::AT_FDCWD,
                file.as_ptr(),
            );
            libc::syscall(libc::SYS_symlinkat, file.as_ptr(), libc::AT_FDCWD, other.as_ptr());
            libc::syscall(libc::SYS_unlink, other.as_ptr());
            libc::syscall(
                libc::SYS_linkat,
                libc::AT_FDCWD,
                file.as_ptr(),
                libc::AT_FDCWD,
                other.as_ptr(),
                0,
            );
            libc::syscall(libc::SYS_rmdir, missing.as_ptr());
            libc::syscall(libc::SYS_fchmod, fd, 0o600);
            libc::syscall(libc::SYS_chown, file.as_ptr(), 0, 0);
            libc::syscall(libc::SYS_lchown, other.as_ptr(), 0, 0);
            libc::syscall(libc::SYS_fchown, fd, 0, 0);
            libc::syscall(libc::SYS_fchownat, libc::AT_FDCWD, file.as_ptr(), 0, 0, 0);
            let d = libc::syscall(libc::SYS_dup, fd);
            libc::syscall(libc::SYS_dup2, fd, d + 1);
            let mut fds = [0i32; 2];
            libc::syscall(libc::SYS_pipe, fds.as_mut_ptr());
            libc::syscall(
                libc::SYS_mount,
                missing.as_ptr(),
                missing.as_ptr(),
                missing.as_ptr(),
                0,
                0,
            );
            libc::syscall(libc::SYS_umount2, missing.as_ptr(), libc::MNT_DETACH);
            libc::syscall(libc::SYS_chroot, missing.as_ptr());
            libc::syscall(libc::SYS_listen, fd, 5);
            libc::syscall(libc::SYS_setgid, 0);
            libc::syscall(libc::SYS_setresuid, -1, -1, -1);
            libc::syscall(libc::SYS_setresgid, -1, -1, -1);
            libc::syscall(libc::SYS_setreuid, -1, -1);
            libc::syscall(libc::SYS_setregid, -1, -1);
            libc::syscall(libc::SYS_capset, 0usize, 0usize);
            libc::syscall(libc::SYS_setns, -1, 0);
            libc::syscall(libc::SYS_tkill, libc::syscall(libc::SYS_gettid), 0);
            libc::syscall(libc::SYS_userfaultfd, 0);
            libc::syscall(
                libc::SYS_execveat,
                libc::AT_FDCWD,
                missing.as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                0,
            );
            let grandchild = libc::syscall(libc::SYS_fork);
            if grandchild == 0 {
                libc::_exit(0);
            }
            let mut status = 0;
            libc::waitpid(grandchild as i32, &mut status, 0);
        }
        0
    });
    assert_eq!(wait_child(child), 0);
    let pid = i64::from(child);
    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        expected.iter().all(|name| !c.named(pid, name).is_empty())
    });
    for name in expected {
        assert!(!got.named(pid, name).is_empty(), "no {name} event from the child");
    }
    let execveat = &got.named(pid, "execveat")[0];
    assert_eq!(int_param(execveat, "res"), -i64::from(libc::ENOENT));
    assert_eq!(
        str_param(execveat, "exe"),
        b"mamoru-arg0",
        "failed exec: argv[0] from the caller's argv"
    );
    assert_eq!(
        split_nul(raw_param(execveat, "args")).collect::<Vec<_>>(),
        vec![&b"--flag"[..]]
    );
    let fork = got
        .named(pid, "fork")
        .into_iter()
        .find(|e| int_param(e, "res") > 0)
        .expect("parent side of fork");
    assert!(
        got.events()
            .any(|e| e.tid as i64 == int_param(&fork, "res") && e.name() == "fork"),
        "child side of fork"
    );
    let umount = &got.named(pid, "umount2")[0];
    assert_eq!(int_param(umount, "flags"), 2, "PPM_MNT_DETACH");
    let stats = sensor.stats().expect("stats");
    assert_eq!(stats.totals.dropped_malformed, 0, "{stats:?}");
    assert_eq!(stats.totals.tail_call_failures, 0, "{stats:?}");
    sensor.stop();
}

extern "C" fn ignore_signal(_: libc::c_int) {}

#[test]
fn a_signal_interrupts_poll_and_is_reported_as_stop() {
    let _serial = require_bpf();
    // No syscalls and no procexit: the ring stays empty, so poll really waits.
    let config = SensorConfig {
        syscalls: SyscallSet::none(),
        process_exit: false,
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    // SAFETY: installs a handler that does nothing for SIGUSR1 (without SA_RESTART, so poll returns EINTR);
    // the previous disposition is restored below.
    let previous = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore_signal as *const () as libc::sighandler_t;
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGUSR1, &action, &mut old), 0);
        old
    };
    let me = gettid();
    let pid = i64::from(std::process::id());
    let signaller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: sends SIGUSR1 to the polling thread of this process.
        unsafe { libc::syscall(libc::SYS_tgkill, pid, me, libc::SIGUSR1) };
    });
    let started = Instant::now();
    let outcome = sensor.poll(Duration::from_secs(20), |_, _| {}).expect("poll");
    signaller.join().expect("signaller thread");
    // SAFETY: restores the disposition saved above.
    unsafe { libc::sigaction(libc::SIGUSR1, &previous, std::ptr::null_mut()) };
    assert!(
        outcome.interrupted,
        "EINTR must be reported as interrupted: {outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the signal cut the wait short"
    );
    sensor.stop();
}

#[test]
fn start_rejects_bad_configuration() {
    let _serial = require_bpf();
    let bad_ring = SensorConfig {
        ring_buffer_bytes: 3 << 20,
        ..SensorConfig::default()
    };
    assert!(matches!(
        Sensor::start(bad_ring),
        Err(mamoru_sensor::SensorError::Config(_))
    ));
    let bad_snaplen = SensorConfig {
        snaplen: mamoru_sensor::MAX_SNAPLEN + 1,
        ..SensorConfig::default()
    };
    assert!(matches!(
        Sensor::start(bad_snaplen),
        Err(mamoru_sensor::SensorError::Config(_))
    ));
}

#[test]
fn state_only_socket_io_leaves_out_calls_that_teach_the_state_nothing() {
    let _serial = require_bpf();
    let mut set = syscalls(&["socket", "connect", "close"]);
    for name in ["sendto", "recvfrom", "sendmsg", "recvmsg"] {
        set.insert_state_only(nr(name)).expect("syscall number in range");
    }
    let config = SensorConfig {
        syscalls: set,
        process_exit: false,
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(config).expect("starting the sensor");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("tcp listener");
    let tcp_port = listener.local_addr().expect("tcp addr").port();
    let udp = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("udp socket");
    let udp_port = udp.local_addr().expect("udp addr").port();

    let child = fork_child(move || {
        let tcp_addr = loopback(tcp_port);
        let udp_addr = loopback(udp_port);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let mut buf = [0u8; 4];
        // SAFETY: raw socket calls on fds this child owns, with valid buffers and sockaddr pointers.
        unsafe {
            let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            if libc::connect(s, (&tcp_addr as *const libc::sockaddr_in).cast(), len) != 0 {
                return 1;
            }
            // Known connection: neither the send nor the receive is reported.
            if libc::send(s, b"ping".as_ptr().cast(), 4, 0) != 4 || libc::recv(s, buf.as_mut_ptr().cast(), 4, 0) != 4 {
                return 2;
            }
            // A failed receive (nothing pending: EAGAIN) changes nothing either.
            if libc::recv(s, buf.as_mut_ptr().cast(), 4, libc::MSG_DONTWAIT) != -1 {
                return 3;
            }
            // An unconnected UDP socket: user space learns its tuple from the send, so it is reported.
            let u = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
            let sent = libc::sendto(
                u,
                b"x".as_ptr().cast(),
                1,
                0,
                (&udp_addr as *const libc::sockaddr_in).cast(),
                len,
            );
            libc::close(u);
            libc::close(s);
            if sent == 1 {
                0
            } else {
                4
            }
        }
    });
    let (mut conn, _) = listener.accept().expect("accept the child");
    let mut ping = [0u8; 4];
    conn.read_exact(&mut ping).expect("read ping");
    std::io::Write::write_all(&mut conn, b"pong").expect("write pong");
    let mut datagram = [0u8; 1];
    udp.recv(&mut datagram).expect("receive the child's datagram");
    assert_eq!(wait_child(child), 0, "child socket calls");

    let pid = i64::from(child);
    let got = collect(&mut sensor, Duration::from_secs(5), |c| {
        !c.named(pid, "sendto").is_empty()
    });
    let connects = got.named(pid, "connect");
    assert!(
        connects.iter().any(|e| int_param(e, "res") == 0),
        "the connect that makes the socket known is reported"
    );
    let sends = got.named(pid, "sendto");
    assert_eq!(sends.len(), 1, "only the UDP send is reported");
    let Some(SockTuple::Inet { dport, .. }) = SockTuple::decode(raw_param(&sends[0], "tuple")) else {
        panic!("the UDP send carries an IPv4 tuple");
    };
    assert_eq!(dport, udp_port);
    assert!(
        got.named(pid, "recvfrom").is_empty(),
        "known-TCP and failed receives are left out"
    );
    sensor.stop();
}
