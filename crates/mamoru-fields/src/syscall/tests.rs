//! Binding and extraction over events built as the drivers lay them out, parsed into a state first.

use super::*;
use crate::value::{Value, Values};
use mamoru_event::{EventBuilder, SockAddr, SockTuple, ThreadRecord, UserRecord};
use std::net::IpAddr;

enum V<'a> {
    N(i64),
    S(&'a str),
    B(Vec<u8>),
}

fn code(enum_name: &str) -> u16 {
    event_table()
        .iter()
        .find(|e| e.enum_name == enum_name)
        .map(|e| e.code)
        .unwrap_or(u16::MAX)
}

fn build(enum_name: &str, ts: u64, tid: u64, vals: &[V]) -> Vec<u8> {
    let c = code(enum_name);
    let info = &event_table()[c as usize];
    assert_eq!(info.params.len(), vals.len(), "{enum_name}");
    let mut b = EventBuilder::new(c, ts, tid);
    for (p, v) in info.params.iter().zip(vals) {
        b = match v {
            V::S(s) => b.str(s),
            V::B(x) => b.bytes(x),
            V::N(n) => match p.ty.fixed_width() {
                Some(1) => b.u8(*n as u8),
                Some(2) => b.u16(*n as u16),
                Some(4) => b.u32(*n as u32),
                _ => b.u64(*n as u64),
            },
        };
    }
    b.finish()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn rec(tid: i64, ptid: i64, comm: &str, args: &[&str]) -> ThreadRecord {
    ThreadRecord {
        tid,
        pid: tid,
        ptid,
        sid: 50,
        vpgid: tid,
        pgid: tid,
        comm: comm.as_bytes().to_vec(),
        exe: format!("/usr/bin/{comm}").into_bytes(),
        exepath: format!("/usr/bin/{comm}").into_bytes(),
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        env: vec![b"HOME=/home/alice".to_vec(), b"LANG=C".to_vec()],
        cwd: b"/home/alice".to_vec(),
        uid: 1000,
        gid: 1000,
        loginuid: u32::MAX,
        vtid: tid,
        vpid: tid,
        cap_effective: (1 << 21) | (1 << 12),
        ..Default::default()
    }
}

/// systemd(1) → sshd(50) → bash(100) → cat(200), with user alice.
fn lineage() -> State {
    let mut st = State::default();
    st.add_thread(rec(1, 0, "systemd", &[]));
    st.add_thread(rec(50, 1, "sshd", &["-D"]));
    st.add_thread(rec(100, 50, "bash", &[]));
    st.add_thread(rec(200, 100, "cat", &["/etc/hosts", "-n"]));
    st.add_user(UserRecord {
        uid: 1000,
        gid: 1000,
        name: b"alice".to_vec(),
        home: b"/home/alice".to_vec(),
        shell: b"/bin/bash".to_vec(),
        container_id: Vec::new(),
    });
    st
}

struct Probe {
    cat: SyscallCatalog,
    values: Values,
}

impl Probe {
    fn new() -> Self {
        Probe {
            cat: SyscallCatalog::new(),
            values: Values::new(),
        }
    }

    fn get(&mut self, ev: &SysEvent<'_>, name: &str, arg: Option<&str>) -> Vec<Value<'_>> {
        let bound = match self.cat.bind(name, arg) {
            Ok(b) => b,
            Err(e) => panic!("bind {name}: {e}"),
        };
        self.values.clear();
        bound.extractor.extract(ev, &mut self.values);
        self.values.range(0..self.values.len()).collect()
    }
}

fn s(v: &str) -> Value<'_> {
    Value::Bytes(v.as_bytes())
}

/// Processes `bytes` into `st` and returns them for a [`SysEvent`].
fn feed(st: &mut State, bytes: &[u8]) {
    let raw = RawEvent::parse(bytes, 3).expect("valid event");
    st.process_event(&raw);
}

#[test]
fn binds_names_arguments_and_reports_errors() {
    let c = SyscallCatalog::new();
    assert_eq!(c.source_name(), "syscall");
    assert!(c.bind("proc.name", None).is_ok());
    let b = c.bind("evt.arg.flags", None).expect("dotted evt.arg");
    assert_eq!((b.info.name, b.arg.as_deref()), ("evt.arg", Some("flags")));
    assert!(c.bind("evt.arg", Some("flags")).is_ok());
    assert!(c.bind("evt.arg", Some("1")).is_ok());
    let aname = c.bind("proc.aname", None).expect("aname");
    assert!(aname.any_of);
    assert!(!c.bind("proc.aname", Some("2")).expect("aname[2]").any_of);
    assert_eq!(
        c.bind("evt.rawarg.res", None).expect("rawarg").info.ty,
        crate::FieldType::Int64
    );
    assert_eq!(
        c.bind("evt.rawarg.name", None).expect("rawarg").info.ty,
        crate::FieldType::Fspath
    );
    assert_eq!(
        c.bind("k8s.pod.label.app.kubernetes.io/name", None)
            .expect("label")
            .arg
            .as_deref(),
        Some("app.kubernetes.io/name")
    );
    assert!(matches!(c.bind("proc.nosuch", None), Err(BindError::UnknownField(_))));
    assert!(matches!(
        c.bind("proc.name", Some("x")),
        Err(BindError::ArgNotAllowed { .. })
    ));
    assert!(matches!(c.bind("evt.arg", None), Err(BindError::ArgRequired { .. })));
    assert!(matches!(
        c.bind("evt.arg.nosuchparam", None),
        Err(BindError::BadArg { .. })
    ));
    assert!(matches!(c.bind("proc.aname", Some("x")), Err(BindError::BadArg { .. })));
    // Every listed field binds (with an argument where one is required).
    for f in c.fields() {
        let arg = match f.arg {
            ArgSpec::Required(_) => Some(if f.name == "evt.arg" || f.name == "evt.rawarg" {
                "fd"
            } else {
                "x"
            }),
            _ => None,
        };
        let arg = if f.name == "evt.abspath" { None } else { arg };
        assert!(c.bind(f.name, arg).is_ok(), "{} does not bind", f.name);
    }
}

#[test]
fn ancestors_by_index_and_any() {
    let mut st = lineage();
    let close = build("PPME_SYSCALL_CLOSE_X", 1_000, 200, &[V::N(-9), V::N(7)]);
    feed(&mut st, &close);
    let raw = RawEvent::parse(&close, 3).expect("event");
    let ev = SysEvent::new(&raw, &st, 1);
    let mut p = Probe::new();
    assert_eq!(p.get(&ev, "proc.aname", Some("2")), vec![s("sshd")]);
    assert_eq!(p.get(&ev, "proc.aname", Some("0")), vec![s("cat")]);
    assert_eq!(p.get(&ev, "proc.aname", Some("9")), vec![]);
    assert_eq!(p.get(&ev, "proc.aname", None), vec![s("bash"), s("sshd"), s("systemd")]);
    assert_eq!(p.get(&ev, "proc.apid", Some("1")), vec![Value::I64(100)]);
    assert_eq!(p.get(&ev, "proc.pname", None), vec![s("bash")]);
    assert_eq!(p.get(&ev, "proc.pcmdline", None), vec![s("bash")]);
    assert_eq!(p.get(&ev, "proc.cmdline", None), vec![s("cat /etc/hosts -n")]);
    assert_eq!(p.get(&ev, "proc.args", None), vec![s("/etc/hosts -n")]);
    assert_eq!(p.get(&ev, "proc.args", Some("1")), vec![s("-n")]);
    assert_eq!(p.get(&ev, "proc.exeline", None), vec![s("/usr/bin/cat /etc/hosts -n")]);
    assert_eq!(p.get(&ev, "proc.env", Some("HOME")), vec![s("/home/alice")]);
    assert_eq!(p.get(&ev, "proc.cwd", None), vec![s("/home/alice/")]);
    assert_eq!(p.get(&ev, "proc.sname", None), vec![s("sshd")]);
    assert_eq!(p.get(&ev, "proc.loginshellid", None), vec![Value::I64(100)]);
    assert_eq!(
        p.get(&ev, "thread.cap_effective", None),
        vec![s("CAP_NET_ADMIN CAP_SYS_ADMIN")]
    );
    assert_eq!(p.get(&ev, "user.name", None), vec![s("alice")]);
    assert_eq!(p.get(&ev, "user.shell", None), vec![s("/bin/bash")]);
    assert_eq!(p.get(&ev, "user.loginuid", None), vec![Value::I64(-1)]);
    assert_eq!(p.get(&ev, "user.loginname", None), vec![]);
    assert_eq!(p.get(&ev, "container.id", None), vec![s("host")]);
    assert_eq!(p.get(&ev, "container.name", None), vec![s("host")]);
    assert_eq!(p.get(&ev, "container.image", None), vec![]);
    assert_eq!(p.get(&ev, "evt.rawarg.res", None), vec![Value::I64(-9)]);
    assert_eq!(p.get(&ev, "evt.rawres", None), vec![Value::I64(-9)]);
    assert_eq!(p.get(&ev, "evt.res", None), vec![s("EBADF")]);
    assert_eq!(p.get(&ev, "evt.failed", None), vec![Value::Bool(true)]);
    assert_eq!(p.get(&ev, "evt.type", None), vec![s("close")]);
    assert_eq!(p.get(&ev, "evt.num", None), vec![Value::U64(1)]);
    assert_eq!(p.get(&ev, "evt.cpu", None), vec![Value::I64(3)]);
    assert_eq!(p.get(&ev, "evt.dir", None), vec![s("<")]);
    assert_eq!(p.get(&ev, "fd.num", None), vec![Value::I64(7)]);
    assert_eq!(
        p.get(&ev, "fd.name", None),
        vec![s("")],
        "no fd 7: creator name of a non-creating event is empty"
    );
}

#[test]
fn open_flags_and_file_fields() {
    let mut st = lineage();
    let open = build(
        "PPME_SYSCALL_OPENAT_2_X",
        5_000,
        200,
        &[
            V::N(3),
            V::N(-100),
            V::S("notes//todo.txt"),
            V::N(1 | (1 << 12)),
            V::N(0),
            V::N(0x803),
            V::N(42),
        ],
    );
    feed(&mut st, &open);
    let raw = RawEvent::parse(&open, 0).expect("event");
    let ev = SysEvent::new(&raw, &st, 2);
    let mut p = Probe::new();
    assert_eq!(p.get(&ev, "evt.arg.flags", None), vec![s("O_RDONLY|O_CLOEXEC")]);
    assert_eq!(p.get(&ev, "evt.arg", Some("flags")), vec![s("O_RDONLY|O_CLOEXEC")]);
    assert_eq!(p.get(&ev, "evt.rawarg.flags", None), vec![Value::U64(1 | (1 << 12))]);
    assert_eq!(p.get(&ev, "fd.typechar", None), vec![s("f")]);
    assert_eq!(p.get(&ev, "fd.type", None), vec![s("file")]);
    assert_eq!(p.get(&ev, "fd.name", None), vec![s("/home/alice/notes/todo.txt")]);
    assert_eq!(p.get(&ev, "fd.nameraw", None), vec![s("notes/todo.txt")]);
    assert_eq!(p.get(&ev, "fd.directory", None), vec![s("/home/alice/notes")]);
    assert_eq!(p.get(&ev, "fd.filename", None), vec![s("todo.txt")]);
    assert_eq!(p.get(&ev, "fd.ino", None), vec![Value::I64(42)]);
    assert_eq!(p.get(&ev, "fd.num", None), vec![Value::I64(3)]);
    assert_eq!(p.get(&ev, "fs.path.name", None), vec![s("/home/alice/notes/todo.txt")]);
    assert_eq!(p.get(&ev, "fs.path.nameraw", None), vec![s("notes//todo.txt")]);
    assert_eq!(p.get(&ev, "evt.abspath", None), vec![s("/home/alice/notes/todo.txt")]);
    assert_eq!(p.get(&ev, "evt.is_open_read", None), vec![Value::Bool(true)]);
    assert_eq!(p.get(&ev, "evt.is_open_write", None), vec![Value::Bool(false)]);
    assert_eq!(p.get(&ev, "evt.res", None), vec![s("SUCCESS")]);
    assert_eq!(p.get(&ev, "evt.category", None), vec![s("file")]);
    assert_eq!(p.get(&ev, "fd.types", None), vec![s("file")]);
    assert_eq!(p.get(&ev, "proc.fdopencount", None), vec![Value::U64(1)]);
    let args = p.get(&ev, "evt.args", None);
    assert!(
        matches!(args.first(), Some(Value::Bytes(b)) if b.starts_with(b"fd=3(<f>/home/alice/notes/todo.txt) dirfd="))
    );

    // A failed open has no fd, but fd.name still names what was attempted.
    let fail = build(
        "PPME_SYSCALL_OPENAT_2_X",
        5_100,
        200,
        &[
            V::N(-2),
            V::N(-100),
            V::S("/etc/shadow"),
            V::N(1),
            V::N(0),
            V::N(0),
            V::N(0),
        ],
    );
    feed(&mut st, &fail);
    let raw = RawEvent::parse(&fail, 0).expect("event");
    let ev = SysEvent::new(&raw, &st, 3);
    assert_eq!(p.get(&ev, "fd.name", None), vec![s("/etc/shadow")]);
    assert_eq!(p.get(&ev, "fd.typechar", None), vec![s("f")]);
    // libsinsp reports fd.num = -1 for a failed open (sysdig prints it so; `open_file_failed` tests fd.num=-1).
    assert_eq!(p.get(&ev, "fd.num", None), vec![Value::I64(-1)]);
    assert_eq!(p.get(&ev, "evt.res", None), vec![s("ENOENT")]);
}

#[test]
fn connected_socket_fields() {
    let mut st = lineage();
    feed(
        &mut st,
        &build(
            "PPME_SOCKET_SOCKET_X",
            10,
            200,
            &[V::N(5), V::N(2), V::N(1), V::N(0), V::N(0)],
        ),
    );
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
    let connect = build(
        "PPME_SOCKET_CONNECT_X",
        11,
        200,
        &[V::N(0), V::B(tuple), V::N(5), V::B(addr)],
    );
    feed(&mut st, &connect);
    let raw = RawEvent::parse(&connect, 0).expect("event");
    let ev = SysEvent::new(&raw, &st, 4);
    let mut p = Probe::new();
    assert_eq!(
        p.get(&ev, "fd.name", None),
        vec![s("10.0.0.2:40000->93.184.216.34:443")]
    );
    assert_eq!(p.get(&ev, "fd.sip", None), vec![Value::Ip(ip("93.184.216.34"))]);
    assert_eq!(p.get(&ev, "fd.sport", None), vec![Value::U64(443)]);
    assert_eq!(p.get(&ev, "fd.cip", None), vec![Value::Ip(ip("10.0.0.2"))]);
    assert_eq!(p.get(&ev, "fd.cport", None), vec![Value::U64(40000)]);
    assert_eq!(p.get(&ev, "fd.lip", None), vec![Value::Ip(ip("10.0.0.2"))]);
    assert_eq!(p.get(&ev, "fd.rport", None), vec![Value::U64(443)]);
    assert_eq!(p.get(&ev, "fd.sproto", None), vec![s("443")]);
    assert_eq!(p.get(&ev, "fd.typechar", None), vec![s("4")]);
    assert_eq!(p.get(&ev, "fd.l4proto", None), vec![s("tcp")]);
    assert_eq!(p.get(&ev, "fd.sockfamily", None), vec![s("ip")]);
    assert_eq!(p.get(&ev, "fd.is_server", None), vec![Value::Bool(false)]);
    assert_eq!(p.get(&ev, "fd.connected", None), vec![Value::Bool(true)]);
    assert_eq!(p.get(&ev, "fd.name_changed", None), vec![Value::Bool(true)]);
    assert_eq!(
        p.get(&ev, "fd.ip", None),
        vec![Value::Ip(ip("10.0.0.2")), Value::Ip(ip("93.184.216.34"))]
    );
    assert!(p.cat.bind("fd.ip", None).expect("fd.ip").any_of);
    assert_eq!(p.get(&ev, "fd.sip.name", None), vec![]);
    assert_eq!(p.get(&ev, "evt.category", None), vec![s("net")]);
    assert_eq!(
        p.get(&ev, "fd.containername", None),
        vec![s("host:10.0.0.2:40000->93.184.216.34:443")]
    );
}

#[test]
fn generic_events_get_synthetic_codes() {
    let c = SyscallCatalog::new();
    let Some(sc) = ppm_sc::syscall_code("mlock2").or_else(|| ppm_sc::syscall_code("getuid")) else {
        return;
    };
    let name = ppm_sc::syscall_name(sc).unwrap_or("");
    let mut st = lineage();
    let g = build("PPME_GENERIC_X", 20, 200, &[V::N(i64::from(sc)), V::N(0)]);
    feed(&mut st, &g);
    let raw = RawEvent::parse(&g, 0).expect("event");
    let ev = SysEvent::new(&raw, &st, 5);
    assert_eq!(c.event_code(&ev), PPM_EVENT_MAX + sc);
    assert!((c.event_code(&ev) as usize) < c.num_event_codes());
    assert!(c
        .event_codes_for(name)
        .is_some_and(|v| v.contains(&(PPM_EVENT_MAX + sc))));
    let mut p = Probe::new();
    assert_eq!(p.get(&ev, "evt.type", None), vec![s(name)]);
    assert_eq!(p.get(&ev, "evt.type.is", Some(name)), vec![Value::U64(1)]);
    // Dedicated events: every version and direction of the name.
    let opens = c.event_codes_for("open").unwrap_or_default();
    assert!(opens.contains(&code("PPME_SYSCALL_OPEN_E")) && opens.contains(&code("PPME_SYSCALL_OPEN_X")));
    let execs = c.event_codes_for("execve").unwrap_or_default();
    assert!(execs.contains(&code("PPME_SYSCALL_EXECVE_19_X")) && execs.contains(&code("PPME_SYSCALL_EXECVE_8_X")));
    assert!(c.event_codes_for("no_such_event_type").is_none());
    let close = build("PPME_SYSCALL_CLOSE_X", 21, 200, &[V::N(0), V::N(3)]);
    let raw = RawEvent::parse(&close, 0).expect("event");
    assert_eq!(c.event_code(&SysEvent::new(&raw, &st, 6)), code("PPME_SYSCALL_CLOSE_X"));
}

#[test]
fn container_fields_from_cgroups_and_metadata() {
    let id = "3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";
    let mut st = lineage();
    let mut r = rec(300, 100, "nginx", &[]);
    r.cgroups = vec![(b"cpuset".to_vec(), format!("/docker/{id}").into_bytes())];
    r.pidns_init_start_ts = 77;
    st.add_thread(r);
    let ev_bytes = build("PPME_SYSCALL_CLOSE_X", 100, 300, &[V::N(0), V::N(3)]);
    feed(&mut st, &ev_bytes);
    {
        let raw = RawEvent::parse(&ev_bytes, 0).expect("event");
        let ev = SysEvent::new(&raw, &st, 1);
        let mut p = Probe::new();
        assert_eq!(p.get(&ev, "container.id", None), vec![s(&id[..12])]);
        assert_eq!(p.get(&ev, "container.full_id", None), vec![s(id)]);
        assert_eq!(p.get(&ev, "container.type", None), vec![s("docker")]);
        assert_eq!(p.get(&ev, "container.name", None), vec![]);
        assert_eq!(p.get(&ev, "container.start_ts", None), vec![Value::U64(77)]);
        assert_eq!(p.get(&ev, "container.duration", None), vec![Value::U64(23)]);
    }
    st.set_container(mamoru_state::ContainerInfo {
        id: id.as_bytes()[..12].to_vec(),
        name: Some(b"web".to_vec()),
        image_repository: Some(b"nginx".to_vec()),
        privileged: Some(true),
        labels: vec![
            (b"io.kubernetes.pod.name".to_vec(), b"web-1".to_vec()),
            (b"tier".to_vec(), b"front".to_vec()),
        ],
        mounts: vec![mamoru_state::ContainerMount {
            source: b"/var/run/docker.sock".to_vec(),
            dest: b"/run/docker.sock".to_vec(),
            mode: b"".to_vec(),
            rdwr: true,
            propagation: b"rprivate".to_vec(),
        }],
        from_engine: true,
        ..Default::default()
    });
    let raw = RawEvent::parse(&ev_bytes, 0).expect("event");
    let ev = SysEvent::new(&raw, &st, 1);
    let mut p = Probe::new();
    assert_eq!(p.get(&ev, "container.name", None), vec![s("web")]);
    assert_eq!(p.get(&ev, "container.image.repository", None), vec![s("nginx")]);
    assert_eq!(p.get(&ev, "container.privileged", None), vec![Value::Bool(true)]);
    assert_eq!(p.get(&ev, "k8s.pod.name", None), vec![s("web-1")]);
    assert_eq!(p.get(&ev, "container.label.tier", None), vec![s("front")]);
    assert_eq!(p.get(&ev, "container.labels", None), vec![s("tier:front")]);
    assert_eq!(
        p.get(&ev, "container.mount.dest", Some("/var/run/*.sock")),
        vec![s("/run/docker.sock")]
    );
    assert_eq!(p.get(&ev, "container.mount", Some("/nope")), vec![s("none")]);
    assert_eq!(
        p.get(&ev, "container.mount", Some("0")),
        vec![s("/var/run/docker.sock:/run/docker.sock::true:rprivate")]
    );
}

#[test]
fn time_fields() {
    let mut st = lineage();
    let a = build(
        "PPME_SYSCALL_CLOSE_X",
        1_700_000_000_000_000_000,
        200,
        &[V::N(0), V::N(3)],
    );
    let b = build(
        "PPME_SYSCALL_CLOSE_X",
        1_700_000_000_123_456_789,
        200,
        &[V::N(0), V::N(4)],
    );
    feed(&mut st, &a);
    feed(&mut st, &b);
    let raw = RawEvent::parse(&b, 0).expect("event");
    let ev = SysEvent::new(&raw, &st, 2);
    let mut p = Probe::new();
    assert_eq!(
        p.get(&ev, "evt.time.iso8601", None),
        vec![s("2023-11-14T22:13:20.123456789Z")]
    );
    assert_eq!(p.get(&ev, "evt.time", None), vec![s("22:13:20.123456789")]);
    assert_eq!(p.get(&ev, "evt.reltime", None), vec![Value::U64(123_456_789)]);
    assert_eq!(p.get(&ev, "evt.deltatime", None), vec![Value::U64(123_456_789)]);
    assert_eq!(p.get(&ev, "evt.rawtime.s", None), vec![Value::U64(1_700_000_000)]);
    assert_eq!(p.get(&ev, "evt.latency", None), vec![Value::U64(0)]);
}
