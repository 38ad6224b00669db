//! Real containers for the tests: a busybox OCI image built with umoci, run by runc on an overlay root filesystem
//! (lower = the unpacked image, upper = the container's writable layer), as containerd's overlay snapshotter does.
//! Needs root, umoci, runc, busybox-static and a C compiler with static libc (scripts/setup-deps installs them):
//! without them the tests fail with the reason, they never skip.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use mamoru_engine::Alert;

pub fn require_root_and_tools() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "these tests need root (containers, fanotify, BPF)"
    );
    for tool in ["umoci", "runc", "cc"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "{tool} not found: run scripts/setup-deps");
    }
    assert!(
        Path::new(BUSYBOX).exists(),
        "{BUSYBOX} missing: install busybox-static (scripts/setup-deps)"
    );
}

pub const BUSYBOX: &str = "/bin/busybox";

fn run_ok(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("running {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// An OCI image layout with one tag `bb`: busybox (+ applet links), a copy of it as /shipped/echo, and the
/// memfd-exec helper.
pub struct Image {
    pub dir: tempfile::TempDir,
}

impl Image {
    pub fn layout(&self) -> PathBuf {
        self.dir.path().join("img")
    }
}

pub fn build_image() -> Image {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("img");
    let bundle = dir.path().join("build");
    run_ok(Command::new("umoci").args(["init", "--layout"]).arg(&layout));
    run_ok(
        Command::new("umoci")
            .args(["new", "--image"])
            .arg(format!("{}:bb", layout.display())),
    );
    run_ok(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:bb", layout.display()))
            .arg(&bundle),
    );
    let rootfs = bundle.join("rootfs");
    for d in ["bin", "proc", "dev", "sys", "tmp"] {
        fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    fs::copy(BUSYBOX, rootfs.join("bin/busybox")).unwrap();
    // The image ships the very binary the tests later drop into the writable layer, under an applet name.
    fs::create_dir_all(rootfs.join("shipped")).unwrap();
    fs::copy(BUSYBOX, rootfs.join("shipped/echo")).unwrap();
    for applet in ["sh", "true", "sleep", "cp", "cat", "echo", "chmod", "ls"] {
        symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/memfd_exec.c");
    run_ok(
        Command::new("cc")
            .args(["-static", "-O2", "-o"])
            .arg(rootfs.join("bin/memfd-exec"))
            .arg(&src),
    );
    run_ok(
        Command::new("umoci")
            .args(["repack", "--image"])
            .arg(format!("{}:bb", layout.display()))
            .arg(&bundle),
    );
    Image { dir }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A running runc container on an overlay rootfs. Killed, deleted and unmounted on drop.
pub struct Container {
    pub id: String,
    pub runc_root: PathBuf,
    pub merged: PathBuf,
    pub upper: PathBuf,
    dir: tempfile::TempDir,
}

impl Container {
    pub fn start(image: &Image, name: &str) -> Container {
        let dir = tempfile::tempdir().unwrap();
        let id = format!(
            "mamoru-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let bundle = dir.path().join("bundle");
        run_ok(
            Command::new("umoci")
                .args(["unpack", "--image"])
                .arg(format!("{}:bb", image.layout().display()))
                .arg(&bundle),
        );
        let (upper, work, merged) = (
            dir.path().join("upper"),
            dir.path().join("work"),
            dir.path().join("merged"),
        );
        for d in [&upper, &work, &merged] {
            fs::create_dir_all(d).unwrap();
        }
        let opts = format!(
            "lowerdir={},upperdir={},workdir={}",
            bundle.join("rootfs").display(),
            upper.display(),
            work.display()
        );
        run_ok(
            Command::new("mount")
                .args(["-t", "overlay", "overlay", "-o", &opts])
                .arg(&merged),
        );
        let cfg_path = bundle.join("config.json");
        let mut cfg: serde_json::Value = serde_json::from_slice(&fs::read(&cfg_path).unwrap()).unwrap();
        cfg["root"] = serde_json::json!({ "path": merged, "readonly": false });
        cfg["process"]["terminal"] = serde_json::Value::Bool(false);
        cfg["process"]["args"] = serde_json::json!(["/bin/sleep", "600"]);
        cfg["process"]["env"] = serde_json::json!(["PATH=/bin"]);
        fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
        let runc_root = dir.path().join("runc");
        let container = Container {
            id,
            runc_root,
            merged,
            upper,
            dir,
        };
        run_ok(
            container
                .runc()
                .args(["run", "--detach", "--bundle"])
                .arg(&bundle)
                .arg(&container.id)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        container
    }

    pub fn runc(&self) -> Command {
        let mut c = Command::new("runc");
        c.arg("--root").arg(&self.runc_root);
        c
    }

    /// Runs a shell command in the container; returns (stdout+stderr, exit code of the shell).
    pub fn sh(&self, script: &str) -> (String, i32) {
        let out = self
            .runc()
            .args(["exec", &self.id, "/bin/sh", "-c", script])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (text, out.status.code().unwrap_or(-1))
    }

    /// The `status` field of `runc state`.
    pub fn status(&self) -> String {
        let out = self.runc().args(["state", &self.id]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["status"].as_str().unwrap_or("gone").to_string()
    }

    /// Host pid of the container's init.
    pub fn init_pid(&self) -> i64 {
        let out = run_ok(self.runc().args(["state", &self.id]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["pid"].as_i64().unwrap()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.runc().args(["kill", &self.id, "KILL"]).output();
        let _ = self.runc().args(["delete", "--force", &self.id]).output();
        let _ = Command::new("umount").arg("-l").arg(&self.merged).output();
    }
}

/// Collects alerts from the enforcers' threads.
#[derive(Clone, Default)]
pub struct Alerts(pub Arc<Mutex<Vec<Alert>>>);

impl Alerts {
    pub fn sink(&self) -> mamoru_response::drift::AlertSink {
        let inner = Arc::clone(&self.0);
        Arc::new(move |a| inner.lock().unwrap().push(a))
    }

    /// Waits up to 5 s for an alert satisfying `pred`.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&Alert) -> bool) -> Alert {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if let Some(a) = self.0.lock().unwrap().iter().find(|a| pred(a)) {
                return a.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no alert {what}; got: {:#?}",
                self.0.lock().unwrap().iter().map(|a| &a.message).collect::<Vec<_>>()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn all(&self) -> Vec<Alert> {
        self.0.lock().unwrap().clone()
    }
}

pub fn field<'a>(alert: &'a Alert, key: &str) -> Option<&'a mamoru_engine::FieldJson> {
    alert.output_fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

pub fn field_str(alert: &Alert, key: &str) -> String {
    match field(alert, key) {
        Some(mamoru_engine::FieldJson::String(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}
