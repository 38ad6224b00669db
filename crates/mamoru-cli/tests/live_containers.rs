//! Real containers end to end (needs root, the eBPF sensor, and containerd/runc/umoci/busybox-static from
//! scripts/setup-deps). The test starts its own containerd (own root, state and socket), builds a busybox OCI
//! image with umoci (no registry), imports it, runs one container with Kubernetes-style labels and one without,
//! and checks that `mamoru run` fills container.* and k8s.* on real alerts: a terminal shell in a container, a
//! binary dropped into a container's writable layer and executed, and /etc/shadow read inside a container. Users
//! are resolved from the container's own /etc/passwd. Missing tools or privileges fail the test loudly.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const MAMORU: &str = env!("CARGO_BIN_EXE_mamoru");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn euid() -> u32 {
    // /proc/self/status names the effective uid without unsafe code.
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("Uid line")
}

fn require_tools() {
    assert_eq!(
        euid(),
        0,
        "container tests need root (containerd, runc, the eBPF sensor); CI runs them as root"
    );
    for tool in ["containerd", "ctr", "runc", "umoci", "busybox"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "{tool} not found: run scripts/setup-deps (containerd, runc, umoci, busybox-static)"
        );
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A containerd of the test's own, with the containers it ran; everything is torn down on drop.
struct Containerd {
    dir: tempfile::TempDir,
    daemon: Child,
    containers: Vec<String>,
}

impl Containerd {
    fn start() -> Containerd {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("containerd.log")).expect("log file");
        let daemon = Command::new("containerd")
            .arg("--root")
            .arg(dir.path().join("root"))
            .arg("--state")
            .arg(dir.path().join("state"))
            .arg("--address")
            .arg(dir.path().join("state/c.sock"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn containerd");
        let c = Containerd {
            dir,
            daemon,
            containers: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Command::new("ctr")
            .arg("--address")
            .arg(c.socket())
            .arg("version")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "containerd did not come up; see its log");
            thread::sleep(Duration::from_millis(100));
        }
        c
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("state/c.sock")
    }

    fn ctr(&self) -> Command {
        let mut c = Command::new("ctr");
        c.arg("--address").arg(self.socket());
        c
    }

    /// Builds the busybox image with umoci and imports it as `probe/bb:bb`.
    fn import_busybox_image(&self) {
        let d = self.dir.path();
        let img = format!("{}/img", d.display());
        let bundle = d.join("bundle");
        run(Command::new("umoci").args(["init", "--layout", &img]));
        run(Command::new("umoci").args(["new", "--image", &format!("{img}:bb")]));
        run(Command::new("umoci")
            .args(["unpack", "--image", &format!("{img}:bb")])
            .arg(&bundle));
        let rootfs = bundle.join("rootfs");
        for sub in ["bin", "etc", "tmp", "root"] {
            std::fs::create_dir_all(rootfs.join(sub)).expect("mkdir rootfs");
        }
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("copy busybox");
        for applet in ["sh", "cat", "cp", "sleep", "id", "echo"] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).expect("applet link");
        }
        // The container's own users: uid 1000 is `appuser` here (and someone else, or nobody, on the host).
        std::fs::write(
            rootfs.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/tmp:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\napp:x:1000:\n").expect("group");
        std::fs::write(rootfs.join("etc/shadow"), "root:*:19000:0:99999:7:::\n").expect("shadow");
        run(Command::new("umoci")
            .args(["repack", "--image", &format!("{img}:bb")])
            .arg(&bundle));
        run(Command::new("umoci").args([
            "config",
            "--image",
            &format!("{img}:bb"),
            "--config.cmd",
            "/bin/sh",
            "--config.env",
            "PATH=/bin",
        ]));
        let tar = d.join("bb-oci.tar");
        run(Command::new("tar").arg("cf").arg(&tar).arg("-C").arg(&img).arg("."));
        run(self
            .ctr()
            .args(["image", "import", "--base-name", "probe/bb", "--digests"])
            .arg(&tar));
    }

    fn run_container(&mut self, name: &str, labels: &[(&str, &str)]) {
        let mut cmd = self.ctr();
        cmd.args(["run", "-d"]);
        for (k, v) in labels {
            cmd.arg("--label").arg(format!("{k}={v}"));
        }
        cmd.args(["probe/bb:bb", name, "/bin/sleep", "600"]);
        run(&mut cmd);
        self.containers.push(name.to_string());
    }

    fn exec(&self, container: &str, exec_id: &str, user: Option<&str>, argv: &[&str]) {
        let mut cmd = self.ctr();
        cmd.args(["task", "exec", "--exec-id", exec_id]);
        if let Some(u) = user {
            cmd.args(["--user", u]);
        }
        cmd.arg(container).args(argv);
        run(&mut cmd);
    }

    /// `ctr task exec -t` under `script`, so the shell gets a pseudo-terminal as `kubectl exec -it` gives one.
    fn exec_tty(&self, container: &str, exec_id: &str, user: &str, script: &str) {
        let line = format!(
            "ctr --address {} task exec -t --exec-id {exec_id} --user {user} {container} /bin/sh -c '{script}'",
            self.socket().display()
        );
        let out = Command::new("script")
            .args(["-qc", &line, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("spawn script (bsdutils)");
        assert!(
            out.status.success(),
            "tty exec failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.ctr().args(["task", "kill", "-s", "SIGKILL", c]).output();
        }
        for c in &self.containers {
            for _ in 0..50 {
                let done = self
                    .ctr()
                    .args(["task", "delete", c])
                    .output()
                    .map(|o| o.status.success());
                if done.unwrap_or(false) {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            let _ = self.ctr().args(["container", "delete", c]).output();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// `mamoru run` with stdout collected and stderr watched.
struct Agent {
    child: Child,
    stdout: thread::JoinHandle<String>,
    stderr: mpsc::Receiver<String>,
}

impl Agent {
    fn start(args: &[&str]) -> Agent {
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
        agent.wait_for("Ctrl-C to stop", Duration::from_secs(120));
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
        panic!("mamoru did not print '{marker}' in time; stderr:\n{}", seen.join("\n"));
    }

    /// Stops the agent (SIGINT) and returns its alerts and the rest of its stderr.
    fn stop(mut self) -> (Vec<Value>, Vec<String>) {
        let pid = self.child.id().to_string();
        run(Command::new("kill").args(["-INT", &pid]));
        let tail = self.wait_for("mamoru: stopped", Duration::from_secs(60));
        let _ = self.child.wait();
        let out = self.stdout.join().expect("stdout reader");
        let alerts = out
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("alert is not JSON ({e}): {l}")))
            .collect();
        (alerts, tail)
    }
}

/// The bundled rules, with the three rules' outputs extended by the container and Kubernetes fields under test
/// (Falco users add them the same way, or through `append_output`).
fn rules_with_container_fields(dir: &Path) -> PathBuf {
    let extra = " container_id=%container.id container_name=%container.name image=%container.image.repository \
                 image_tag=%container.image.tag pod=%k8s.pod.name ns=%k8s.ns.name pod_uid=%k8s.pod.uid";
    let mut yaml = String::new();
    for rule in [
        "Terminal shell in container",
        "Drop and execute new binary in container",
        "Read sensitive file untrusted",
    ] {
        yaml.push_str(&format!(
            "- rule: {rule}\n  output: \"{extra}\"\n  override:\n    output: append\n"
        ));
    }
    let path = dir.join("container-fields.yaml");
    std::fs::write(&path, yaml).expect("write rules overlay");
    path
}

fn field<'a>(alert: &'a Value, name: &str) -> Option<&'a str> {
    alert.get("output_fields")?.get(name)?.as_str()
}

fn find<'a>(alerts: &'a [Value], rule: &str, container: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["rule"] == rule && field(a, "container.id") == Some(container))
        .unwrap_or_else(|| {
            let seen: Vec<String> = alerts
                .iter()
                .map(|a| format!("{} [{}]", a["rule"], field(a, "container.id").unwrap_or("-")))
                .collect();
            panic!("no '{rule}' alert from container {container}; alerts: {seen:#?}")
        })
}

#[test]
fn container_and_k8s_fields_on_real_alerts() {
    require_tools();
    let mut ctrd = Containerd::start();
    ctrd.import_busybox_image();
    // runc keeps its state per containerd namespace under /run/containerd/runc, shared by every containerd on the
    // host: ids unique to this run (and short enough to be their own 12-character container.id).
    let web = format!("w{}", std::process::id());
    let plain = format!("p{}", std::process::id());
    let (web, plain) = (web.as_str(), plain.as_str());
    ctrd.run_container(
        web,
        &[
            ("io.kubernetes.pod.name", "web-0"),
            ("io.kubernetes.pod.namespace", "prod"),
            ("io.kubernetes.pod.uid", "6f1c2a34-uid"),
            ("io.kubernetes.container.name", "web"),
            ("app", "web"),
        ],
    );
    ctrd.run_container(plain, &[]);
    let overlay = rules_with_container_fields(ctrd.dir.path());
    let bundled = format!("{REPO}/../../rules/falco_rules.yaml");
    let socket = ctrd.socket();
    let agent = Agent::start(&[
        "run",
        "-r",
        &bundled,
        "-r",
        overlay.to_str().expect("utf-8 path"),
        "--containerd-socket",
        socket.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    ctrd.exec(web, "shadow1", None, &["/bin/cat", "/etc/shadow"]);
    ctrd.exec(plain, "shadow2", None, &["/bin/cat", "/etc/shadow"]);
    // Dropped into the writable (upper) layer, then executed: busybox picks its applet from the name.
    ctrd.exec(web, "drop1", None, &["/bin/cp", "/bin/busybox", "/tmp/id"]);
    ctrd.exec(web, "drop2", None, &["/tmp/id"]);
    ctrd.exec_tty(web, "tty1", "1000", "echo in-a-terminal");
    thread::sleep(Duration::from_secs(2));
    let (alerts, tail) = agent.stop();

    let shadow = find(&alerts, "Read sensitive file untrusted", web);
    assert_eq!(
        field(shadow, "container.name"),
        Some("web"),
        "k8s container name wins: {shadow}"
    );
    assert_eq!(field(shadow, "container.image.repository"), Some("probe/bb"));
    assert_eq!(field(shadow, "container.image.tag"), Some("bb"));
    assert_eq!(field(shadow, "k8s.pod.name"), Some("web-0"));
    assert_eq!(field(shadow, "k8s.ns.name"), Some("prod"));
    assert_eq!(field(shadow, "k8s.pod.uid"), Some("6f1c2a34-uid"));
    assert_eq!(field(shadow, "fd.name"), Some("/etc/shadow"));

    let plain_alert = find(&alerts, "Read sensitive file untrusted", plain);
    assert_eq!(
        field(plain_alert, "container.name"),
        Some(plain),
        "containerd's id names a plain container"
    );
    assert_eq!(field(plain_alert, "container.image.repository"), Some("probe/bb"));
    assert_eq!(
        field(plain_alert, "k8s.pod.name"),
        None,
        "no pod labels, no pod: {plain_alert}"
    );
    assert_eq!(field(plain_alert, "k8s.ns.name"), None);

    let drop = find(&alerts, "Drop and execute new binary in container", web);
    assert_eq!(field(drop, "proc.exepath"), Some("/tmp/id"));
    assert_eq!(field(drop, "container.name"), Some("web"));
    assert_eq!(field(drop, "container.image.repository"), Some("probe/bb"));
    assert_eq!(field(drop, "k8s.pod.name"), Some("web-0"));
    assert_eq!(field(drop, "k8s.ns.name"), Some("prod"));

    let shell = find(&alerts, "Terminal shell in container", web);
    assert_eq!(field(shell, "container.name"), Some("web"));
    assert_eq!(field(shell, "container.image.repository"), Some("probe/bb"));
    assert_eq!(field(shell, "k8s.pod.name"), Some("web-0"));
    assert_eq!(field(shell, "k8s.ns.name"), Some("prod"));
    // uid 1000 resolved in the container's /etc/passwd, not the host's.
    assert_eq!(field(shell, "user.name"), Some("appuser"), "{shell}");
    assert_eq!(shell["output_fields"]["user.uid"], Value::from(1000));

    let summary = tail.join("\n");
    assert!(summary.contains("containers: "), "metadata summary printed: {summary}");
    assert!(!summary.contains(" 0 resolved"), "lookups resolved: {summary}");
}
