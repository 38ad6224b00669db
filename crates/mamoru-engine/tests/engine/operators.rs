//! Every operator on every field type class, missing values, list and any-of fields, modifiers, transformers and
//! field-to-field comparisons, evaluated through compiled rules.

use crate::common;

use common::*;
use mamoru_engine::Scratch;
use mamoru_fields::IpNet;
use mamoru_rules::ast::{CmpOp, Expr, Operand, Pos, Rhs};
use mamoru_rules::loaded::Severity;

/// Compiles `cond` as one rule and evaluates it on `ev` (directly, regardless of the event-type index).
fn eval(cond: &str, ev: &Ev) -> bool {
    let (rs, diags) = compile(vec![rule("r", cond, "out")]);
    let errors: Vec<_> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{cond}: {errors:?}");
    let r = rs.rule("r").unwrap_or_else(|| panic!("{cond}: not compiled"));
    r.matches(ev, &mut Scratch::new())
}

fn proc_ev(name: &str) -> Ev {
    Ev::new("execve").proc(name)
}

#[test]
fn string_comparisons() {
    let e = proc_ev("bash");
    assert!(eval("proc.name = bash", &e));
    assert!(eval("proc.name == bash", &e));
    assert!(!eval("proc.name = sh", &e));
    assert!(eval("proc.name != sh", &e));
    assert!(!eval("proc.name != bash", &e));
    // The grammar only takes numbers after `<`, `>`...: string ordering is built directly as a syntax tree.
    assert!(eval_ast("proc.name", CmpOp::Lt, "bz", &e));
    assert!(eval_ast("proc.name", CmpOp::Le, "bash", &e));
    assert!(!eval_ast("proc.name", CmpOp::Lt, "bash", &e));
    assert!(eval_ast("proc.name", CmpOp::Gt, "ash", &e));
    assert!(eval_ast("proc.name", CmpOp::Ge, "bash", &e));
    assert!(!eval_ast("proc.name", CmpOp::Gt, "bash", &e));
    assert!(eval("proc.name > 1", &e), "letters sort after digits");
}

fn eval_ast(field: &str, op: CmpOp, value: &str, ev: &Ev) -> bool {
    let expr = Expr::Compare {
        lhs: Operand::Field {
            name: field.into(),
            arg: None,
            pos: Pos::default(),
        },
        op,
        modifier: None,
        rhs: Rhs::Value(value.into()),
        pos: Pos::default(),
    };
    let (rs, diags) = compile(vec![rule_from_expr("r", "hand-built", expr, "out")]);
    assert!(diags.iter().all(|d| d.severity != Severity::Error), "{diags:?}");
    rs.rules()[0].matches(ev, &mut Scratch::new())
}

#[test]
fn string_substrings_and_affixes() {
    let e = Ev::new("open").fd("/etc/shadow");
    assert!(eval("fd.name contains shad", &e));
    assert!(!eval("fd.name contains SHAD", &e));
    assert!(eval("fd.name icontains SHAD", &e));
    assert!(eval("fd.name icontains /ETC/", &e));
    assert!(!eval("fd.name icontains passwd", &e));
    assert!(eval("fd.name startswith /etc/", &e));
    assert!(!eval("fd.name startswith /usr", &e));
    assert!(eval("fd.name endswith dow", &e));
    assert!(!eval("fd.name endswith /etc", &e));
    assert!(eval("fd.name contains ''", &e), "the empty string is in every string");
}

#[test]
fn globs() {
    let e = Ev::new("open").fd("/etc/ssh/sshd_config");
    assert!(eval("fd.name glob '/etc/*'", &e));
    assert!(eval("fd.name glob '/etc/ssh/sshd_confi?'", &e));
    assert!(eval("fd.name glob '/etc/ssh/[rs]shd_*'", &e));
    assert!(!eval("fd.name glob '/etc/ssh/[!s]shd_*'", &e));
    assert!(!eval("fd.name glob '/ETC/*'", &e));
    assert!(eval("fd.name iglob '/ETC/*'", &e));
    assert!(!eval("fd.name glob '/etc'", &e), "glob matches the whole string");
}

#[test]
fn regex_is_a_full_match() {
    let e = proc_ev("python3.11");
    assert!(eval("proc.name regex 'python[0-9.]+'", &e));
    assert!(!eval("proc.name regex 'python'", &e), "anchored at both ends");
    assert!(eval("proc.name regex 'py.*'", &e));
    assert!(!eval("proc.name regex 'ython.*'", &e));
    assert!(
        eval("proc.name regex 'a|python3.11'", &e),
        "alternation stays inside the anchors"
    );
    let odd = Ev {
        proc_name: Some(String::from_utf8_lossy(b"x\xffy").into_owned()),
        ..Ev::new("execve")
    };
    assert!(eval("proc.name regex 'x.y'", &odd));
}

#[test]
fn in_intersects_and_pmatch_on_strings() {
    let e = proc_ev("nc");
    assert!(eval("proc.name in (ncat, nc, netcat)", &e));
    assert!(!eval("proc.name in (ncat, netcat)", &e));
    assert!(!eval("proc.name in ()", &e));
    assert!(eval("proc.name intersects (nc, x)", &e));
    let many: Vec<String> = (0..50).map(|i| format!("bin{i}")).collect();
    assert!(eval(&format!("proc.name in ({}, nc)", many.join(", ")), &e));
    assert!(!eval(&format!("proc.name in ({})", many.join(", ")), &e));

    let f = Ev::new("open").fd("/opt/dir/subdir/file.txt");
    assert!(eval("fd.name pmatch (/opt/dir)", &f));
    assert!(!eval("fd.name pmatch (/opt/di)", &f));
    assert!(eval("fd.name pmatch (/var, /opt/*/subdir)", &f));
    assert!(!eval("fd.name pmatch (/var, /usr)", &f));
}

#[test]
fn exists() {
    let e = proc_ev("bash");
    assert!(eval("proc.name exists", &e));
    assert!(!eval("fd.name exists", &e));
    assert!(eval("not fd.name exists", &e));
    assert!(!eval("proc.args exists", &e));
    let with_args = Ev {
        args: vec!["-c".into()],
        ..e
    };
    assert!(eval("proc.args exists", &with_args));
}

#[test]
fn missing_values_make_comparisons_false() {
    let e = Ev::new("execve");
    for cond in [
        "proc.name = bash",
        "proc.name != bash",
        "proc.name contains a",
        "proc.name in (a, b)",
        "proc.name glob '*'",
        "proc.name regex '.*'",
        "proc.pid > 0",
        "proc.pid != 1",
        "fd.ip = 1.2.3.4",
        "fd.ip != 1.2.3.4",
        "evt.is_open != true",
        "proc.args intersects (a)",
        "proc.args in (a)",
        "proc.aname != x",
    ] {
        assert!(!eval(cond, &e), "{cond} on a missing value");
        assert!(eval(&format!("not {cond}"), &e), "not {cond} on a missing value");
    }
}

#[test]
fn byte_buffers() {
    let e = Ev {
        buffer: Some(b"GET / HTTP/1.1\r\n\x00\x01".to_vec()),
        ..Ev::new("connect")
    };
    assert!(eval("evt.buffer contains HTTP", &e));
    assert!(eval("evt.buffer startswith GET", &e));
    assert!(eval("evt.buffer bcontains 48545450", &e));
    assert!(eval("evt.buffer bcontains 0d0a0001", &e));
    assert!(!eval("evt.buffer bcontains 0d0a0002", &e));
    assert!(eval("evt.buffer bstartswith 474554", &e));
    assert!(!eval("evt.buffer bstartswith 4854", &e));
    assert!(eval("evt.buffer bcontains 0001", &e));
    assert!(!eval("evt.buffer endswith HTTP", &e));
    assert!(eval("evt.buffer != GET", &e));
    let short = Ev {
        buffer: Some(b"ping".to_vec()),
        ..Ev::new("connect")
    };
    assert!(eval("evt.buffer = ping", &short));
    assert!(eval("evt.buffer in (pong, ping)", &short));
    assert!(eval("evt.buffer endswith ng", &short));
}

#[test]
fn unsigned_signed_and_double_numbers() {
    let e = Ev {
        uid: Some(0),
        pid: Some(-5),
        res: Some(-2),
        rate: Some(2.5),
        port: Some(443),
        ..Ev::new("connect")
    };
    assert!(eval("user.uid = 0", &e));
    assert!(eval("user.uid < 1", &e));
    assert!(eval("user.uid != 1000", &e));
    assert!(eval("user.uid in (0, 1000)", &e));
    assert!(eval("user.uid = 0x0", &e));
    assert!(eval("proc.pid < 0", &e));
    assert!(eval("proc.pid >= -5", &e));
    assert!(!eval("proc.pid > -5", &e));
    assert!(eval("proc.pid in (-5, 7)", &e));
    assert!(eval("evt.res < 0", &e));
    assert!(eval("evt.res = -2", &e));
    assert!(eval("evt.rate > 2", &e));
    assert!(eval("evt.rate <= 2.5", &e));
    assert!(eval("evt.rate in (1, 2.5)", &e));
    assert!(eval("fd.port = 443", &e));
    assert!(eval("fd.port in (80, 443)", &e));
    assert!(eval("fd.port > 100", &e));
    let max = Ev {
        uid: Some(u32::MAX),
        ..Ev::new("open")
    };
    assert!(
        eval("user.uid = -1", &max),
        "an unsigned 32-bit field reads -1 as 4294967295"
    );
}

#[test]
fn booleans() {
    let e = Ev {
        is_open: Some(true),
        ..Ev::new("open")
    };
    assert!(eval("evt.is_open = true", &e));
    assert!(eval("evt.is_open != false", &e));
    assert!(!eval("evt.is_open = false", &e));
    assert!(eval("evt.is_open in (true)", &e));
    assert!(!eval("evt.is_open in (false)", &e));
}

#[test]
fn addresses_and_networks() {
    let v4 = Ev {
        ip: Some("10.1.2.3".parse().unwrap()),
        net: IpNet::parse("10.1.2.3"),
        ..Ev::new("connect")
    };
    assert!(eval("fd.ip = 10.1.2.3", &v4));
    assert!(!eval("fd.ip = 10.1.2.4", &v4));
    assert!(eval("fd.ip != 10.1.2.4", &v4));
    assert!(eval("fd.ip != ::1", &v4), "the other family is unequal");
    assert!(!eval("fd.ip = ::1", &v4));
    assert!(eval("fd.ip in (1.1.1.1, 10.1.2.3)", &v4));
    assert!(eval("fd.net = 10.0.0.0/8", &v4));
    assert!(!eval("fd.net = 192.168.0.0/16", &v4));
    assert!(eval("fd.net != 192.168.0.0/16", &v4));
    assert!(eval("fd.net in (192.168.0.0/16, 10.1.0.0/16)", &v4));
    assert!(!eval("fd.net in (fd00::/8)", &v4));
    assert!(eval("fd.v4 = 10.1.2.3", &v4));
    let v6 = Ev {
        ip: Some("fd00::1".parse().unwrap()),
        net: IpNet::parse("fd00::1"),
        ..Ev::new("connect")
    };
    assert!(eval("fd.ip = fd00::1", &v6));
    assert!(eval("fd.net = fd00::/8", &v6));
    assert!(!eval("fd.net = 10.0.0.0/8", &v6));
}

#[test]
fn list_fields() {
    let e = Ev {
        args: vec!["-c".into(), "id".into()],
        ips: vec!["1.1.1.1".parse().unwrap(), "8.8.8.8".parse().unwrap()],
        fds: vec![3, 4],
        ..Ev::new("execve")
    };
    assert!(
        eval("proc.args in (-c, id, whoami)", &e),
        "in: every element is in the set"
    );
    assert!(!eval("proc.args in (-c, whoami)", &e));
    assert!(
        eval("proc.args intersects (whoami, id)", &e),
        "intersects: some element is in the set"
    );
    assert!(!eval("proc.args intersects (whoami)", &e));
    assert!(eval("fd.ips intersects (8.8.8.8)", &e));
    assert!(!eval("fd.ips in (8.8.8.8)", &e));
    assert!(eval("proc.fds in (3, 4, 5)", &e));
    assert!(eval("proc.fds intersects (4)", &e));
}

#[test]
fn any_of_fields_match_any_ancestor() {
    let e = Ev {
        proc_name: Some("sh".into()),
        ancestors: vec!["bash".into(), "sshd".into(), "systemd".into()],
        ..Ev::new("execve")
    };
    assert!(eval("proc.aname = sshd", &e));
    assert!(eval("proc.aname in (nginx, systemd)", &e));
    assert!(!eval("proc.aname = nginx", &e));
    assert!(eval("proc.aname != bash", &e), "some ancestor is not bash");
    assert!(eval("proc.aname[0] = sh", &e));
    assert!(eval("proc.aname[1] = bash", &e));
    assert!(eval("proc.aname[2] = sshd", &e));
    assert!(!eval("proc.aname[2] = bash", &e));
    assert!(!eval("proc.aname[9] exists", &e));
    assert!(eval("proc.aname startswith ss", &e));
}

#[test]
fn modifiers() {
    let e = Ev::new("open").fd("/etc/shadow");
    assert!(eval("fd.name startswith anyof (/usr, /etc)", &e));
    assert!(!eval("fd.name startswith anyof (/usr, /var)", &e));
    assert!(eval("fd.name contains allof (etc, shadow)", &e));
    assert!(!eval("fd.name contains allof (etc, passwd)", &e));
    assert!(eval("fd.name contains oneof (etc, passwd)", &e));
    assert!(!eval("fd.name contains oneof (etc, shadow)", &e), "oneof: exactly one");
    assert!(eval("fd.name = anyof (/etc/passwd, /etc/shadow)", &e));
    assert!(!eval("fd.name != allof (/etc/passwd, /etc/shadow)", &e));
    assert!(eval("fd.name != allof (/etc/passwd, /etc/group)", &e));
    assert!(eval("fd.name contains anyof (x, y, z, sha)", &e));
    assert!(!eval("fd.name contains anyof (x, y, z, q)", &e));
    assert!(eval("fd.name endswith oneof (dow, xyz)", &e));
    assert!(eval("fd.name glob anyof ('/usr/*', '/etc/*')", &e));
    assert!(eval("fd.name regex anyof ('/usr/.*', '/etc/s.*')", &e));
    assert!(!eval("fd.name startswith anyof ()", &e));
    assert!(
        !eval("fd.name startswith allof ()", &e),
        "a modifier over no values never matches"
    );
}

#[test]
fn transformers() {
    let e = Ev {
        proc_name: Some("BaSh".into()),
        fd_name: Some("/usr/bin/Python3".into()),
        exepath: Some("/usr/bin/bash".into()),
        args: vec!["-c".into(), "echo hi".into()],
        env: vec![("PAYLOAD".into(), "aGVsbG8=".into()), ("BAD".into(), "%%".into())],
        ..Ev::new("execve")
    };
    assert!(eval("tolower(proc.name) = bash", &e));
    assert!(eval("toupper(proc.name) = BASH", &e));
    assert!(eval("basename(fd.name) = Python3", &e));
    assert!(eval("tolower(basename(fd.name)) = python3", &e));
    assert!(eval("b64(proc.env[PAYLOAD]) = hello", &e));
    assert!(
        !eval("b64(proc.env[BAD]) exists", &e),
        "an undecodable value has no value"
    );
    assert!(eval("len(proc.name) = 4", &e));
    assert!(eval("len(proc.args) = 2", &e), "len of a list counts its elements");
    assert!(eval("len(fd.name) > 10", &e));
    assert!(eval("concat(proc.name, '-', proc.exepath) = 'BaSh-/usr/bin/bash'", &e));
    assert!(eval("join(' ', proc.args) = '-c echo hi'", &e));
    assert!(eval("proc.name = toupper(proc.name)", &Ev::new("execve").proc("SH")));
    assert!(eval("tolower(proc.name) = tolower(proc.name)", &e));
}

#[test]
fn field_to_field_comparisons() {
    let same = Ev {
        fd_name: Some("/usr/bin/bash".into()),
        exepath: Some("/usr/bin/bash".into()),
        ..Ev::new("open")
    };
    let other = Ev {
        exepath: Some("/bin/sh".into()),
        ..same.clone()
    };
    assert!(eval("fd.name = val(proc.exepath)", &same));
    assert!(!eval("fd.name = val(proc.exepath)", &other));
    assert!(eval("fd.name != val(proc.exepath)", &other));
    assert!(eval("fd.name startswith val(proc.exepath)", &same));
    assert!(eval("fd.name in val(proc.exepath)", &same));
    assert!(!eval("fd.name in val(proc.exepath)", &other));
    assert!(eval("fd.name glob val(proc.exepath)", &same));
    let no_rhs = Ev {
        exepath: None,
        ..same.clone()
    };
    assert!(
        !eval("fd.name = val(proc.exepath)", &no_rhs),
        "a missing right side is false"
    );
    assert!(!eval("fd.name != val(proc.exepath)", &no_rhs));
    let nums = Ev {
        pid: Some(7),
        res: Some(7),
        ..Ev::new("open")
    };
    assert!(!eval("proc.pid exists", &Ev::new("open")));
    assert!(eval("proc.pid exists", &nums));
}

#[test]
fn evt_type_and_dotted_arguments() {
    let e = Ev::new("openat").fd("/tmp/x").proc("cat");
    assert!(eval("evt.type = openat", &e));
    assert!(eval("evt.type in (open, openat)", &e));
    assert!(eval("evt.arg.fd = /tmp/x", &e));
    assert!(eval("evt.arg[fd] = /tmp/x", &e));
    assert!(eval("evt.arg[0] = /tmp/x", &e));
    assert!(eval("evt.arg.name = cat", &e));
}

#[test]
fn or_chains_of_equal_and_contains_merge_without_changing_results() {
    let cond = "proc.name = a or proc.name = b or proc.name contains xy or proc.name contains zz or fd.name = q";
    assert!(eval(cond, &proc_ev("b")));
    assert!(eval(cond, &proc_ev("1xy2")));
    assert!(eval(cond, &proc_ev("zz")));
    assert!(!eval(cond, &proc_ev("c")));
    assert!(eval(cond, &Ev::new("open").fd("q")));
    assert!(!eval(&format!("not ({cond})"), &proc_ev("a")));

    let prefixes = "fd.name startswith /etc or fd.name startswith /usr/lib or fd.name startswith /boot or fd.name = /x";
    assert!(eval(prefixes, &Ev::new("open").fd("/usr/lib/x")));
    assert!(eval(prefixes, &Ev::new("open").fd("/boot")));
    assert!(eval(prefixes, &Ev::new("open").fd("/x")));
    assert!(!eval(prefixes, &Ev::new("open").fd("/usr/bin/x")));
    assert!(!eval(prefixes, &Ev::new("open").fd("")));
    assert!(!eval(prefixes, &Ev::new("open")));
}
