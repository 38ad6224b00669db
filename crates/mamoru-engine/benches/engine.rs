//! Rule evaluation throughput on the test source, with ~25 rules shaped like Falco's stable ruleset (event-type
//! gates, shell/binary lists, path prefixes, `contains` chains, ancestor checks, exceptions). Most events match no
//! rule, as in production. Run with `cargo bench -p mamoru-engine`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use mamoru_engine::Scratch;
use mamoru_fields::IpNet;

const SHELLS: &str = "(ash, bash, csh, ksh, sh, tcsh, zsh, dash, fish)";
const SENSITIVE: &str = "(/etc/shadow, /etc/sudoers, /etc/pam.conf, /etc/security/pwquality.conf, /root/.ssh)";
const PKG_MGMT: &str = "(dpkg, dpkg-preconfigu, rpm, rpmkey, yum, apt, apt-get, aptitude, apk, pip, pip3, npm, gem)";

fn conditions() -> Vec<String> {
    let open_read = "evt.type in (open, openat) and evt.is_open = true and fd.name exists";
    let spawned = "evt.type = execve and evt.res = 0";
    vec![
        format!("{spawned} and proc.name in {SHELLS} and proc.aname in (sshd, containerd-shim) and not proc.args intersects (-c)"),
        format!("{open_read} and fd.name pmatch {SENSITIVE} and not proc.name in {PKG_MGMT}"),
        format!("{open_read} and fd.name startswith /etc/ and proc.name = passwd_reader"),
        format!("{spawned} and proc.name in {PKG_MGMT} and proc.aname[2] = cron"),
        format!("{spawned} and (proc.name contains xmrig or proc.name contains minerd or proc.name contains stratum)"),
        format!("{spawned} and proc.exepath endswith /nc and proc.args intersects (-e, --exec, -c)"),
        "evt.type = connect and fd.net in (169.254.169.254/32) and not proc.name in (aws, curl_allowed)".to_string(),
        "evt.type = connect and fd.port in (3333, 4444, 5555, 14444) and fd.ip != 127.0.0.1".to_string(),
        format!("{open_read} and fd.name glob '/proc/*/environ' and not proc.name in {SHELLS}"),
        format!("{open_read} and tolower(basename(fd.name)) in (id_rsa, id_ed25519, authorized_keys)"),
        format!("{spawned} and proc.name regex 'kworker[0-9]+x'"),
        format!("{open_read} and fd.name icontains '/.aws/credentials' and user.uid != 0"),
        "evt.type = mmap and evt.rate > 1000".to_string(),
        format!("{spawned} and proc.env[LD_PRELOAD] exists and not proc.name in {PKG_MGMT}"),
        format!("{open_read} and fd.name = val(proc.exepath)"),
        format!("{spawned} and proc.name = kubectl and proc.aname in {SHELLS}"),
        "evt.type = accept and fd.ips intersects (10.99.0.1, 10.99.0.2)".to_string(),
        format!("{open_read} and fd.name startswith anyof (/boot, /lib/modules, /usr/lib/modules)"),
        format!("{spawned} and proc.name in (mount, umount) and proc.aname != systemd"),
        "evt.type = connect and evt.buffer bcontains 5353482d".to_string(),
        format!("{spawned} and (proc.args intersects (--privileged) or proc.name = nsenter)"),
        format!("{open_read} and fd.name contains /var/run/docker.sock and not proc.name in (dockerd, containerd)"),
        format!("{spawned} and b64(proc.env[PAYLOAD]) contains 'curl'"),
        "evt.type in (open, openat, execve, connect) and proc.name = definitely_not_running".to_string(),
        format!("{spawned} and user.uid = 0 and proc.aname[1] in {SHELLS} and proc.name in (chmod, chown)"),
    ]
}

fn events() -> Vec<Ev> {
    let types = ["open", "openat", "execve", "connect", "close", "mmap", "accept"];
    (0..256u32)
        .map(|i| Ev {
            proc_name: Some(format!("worker{}", i % 17)),
            pid: Some(1000 + i as i64),
            res: Some(0),
            exepath: Some(format!("/usr/local/bin/worker{}", i % 17)),
            fd_name: Some(format!("/var/lib/app/data/{i}.db")),
            ancestors: vec!["runc".into(), "containerd-shim".into(), "systemd".into()],
            args: vec!["--config".into(), format!("/etc/app/{i}.yaml")],
            ip: Some("10.1.2.3".parse().unwrap()),
            net: IpNet::parse("10.1.2.3"),
            ips: vec!["10.1.2.3".parse().unwrap()],
            port: Some(8080),
            is_open: Some(true),
            uid: Some(1000),
            rate: Some(10.0),
            buffer: Some(b"GET /health HTTP/1.1\r\n".to_vec()),
            ..Ev::new(types[i as usize % types.len()])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let defs = conditions()
        .iter()
        .enumerate()
        .map(|(i, cond)| rule(&format!("rule{i}"), cond, "%proc.name %fd.name"))
        .collect();
    let (rs, diags) = compile(defs);
    assert!(
        diags
            .iter()
            .all(|d| d.severity == mamoru_rules::loaded::Severity::Warning),
        "{diags:?}"
    );
    let evs = events();
    let mut scratch = Scratch::new();

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(evs.len() as u64));
    group.bench_function("non_matching_mix", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for ev in &evs {
                rs.evaluate(black_box(ev), &mut scratch, |_| hits += 1);
            }
            black_box(hits)
        })
    });
    group.finish();

    c.bench_function("compile_25_rules", |b| {
        b.iter(|| {
            let defs = conditions()
                .iter()
                .enumerate()
                .map(|(i, cond)| rule(&format!("rule{i}"), cond, "%proc.name %fd.name"))
                .collect();
            black_box(compile(defs))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
