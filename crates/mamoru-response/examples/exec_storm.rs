//! Enforcement cost on an exec storm: N × fork+exec of /bin/true inside an overlay root filesystem covered by
//! drift control, per mechanism (fanotify, bpf_kill) with blocking on and off, against no enforcement.
//!
//! `cargo run --release -p mamoru-response --example exec-storm -- [N] [ROUNDS] [MODES]` (root; MODES is a
//! comma-separated list of indices into the table below, default every mode once per round). The storm process chroots
//! into the overlay, so both the fanotify mark (the overlay's superblock) and the BPF scope (the task's root
//! filesystem) apply to it exactly as to a container. /bin/true is from the lower layer: it is allowed, so what is
//! measured is the cost of the check on every exec.

use mamoru_response::config::{DriftConfig, DriftMode, MemfdMode};
use mamoru_response::drift::{probe, ContainerMeta, ContainerRootfs, DriftControl, Mechanism};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--storm") {
        if let Err(e) = storm(Path::new(&args[2]), args[3].parse().unwrap_or(20_000)) {
            eprintln!("storm: {e}");
            std::process::exit(1);
        }
        return;
    }
    let n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    // Optional: which modes (indices into MODES, comma-separated, repeats allowed) make up a round.
    let order: Vec<usize> = match args.get(3) {
        Some(list) => list
            .split(',')
            .filter_map(|i| i.parse().ok())
            .filter(|i| *i < MODES.len())
            .collect(),
        None => (0..MODES.len()).collect(),
    };
    if let Err(e) = bench(n, runs, &order) {
        eprintln!("exec-storm: {e}");
        std::process::exit(1);
    }
}

/// The storm itself, in its own process: chroot into the overlay, then fork+exec /bin/true n times.
fn storm(root: &Path, n: u32) -> Result<(), String> {
    std::os::unix::fs::chroot(root).map_err(|e| format!("chroot {}: {e}", root.display()))?;
    std::env::set_current_dir("/").map_err(|e| e.to_string())?;
    for i in 0..n {
        let status = Command::new("/bin/true")
            .status()
            .map_err(|e| format!("exec {i}: {e}"))?;
        if !status.success() {
            return Err(format!("exec {i}: /bin/true exited {status}"));
        }
    }
    Ok(())
}

struct Overlay {
    dir: tempfile::TempDir,
    merged: PathBuf,
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.merged).status();
    }
}

fn overlay() -> Result<Overlay, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let p = |s: &str| dir.path().join(s);
    for d in ["lower/bin", "upper", "work", "merged"] {
        std::fs::create_dir_all(p(d)).map_err(|e| e.to_string())?;
    }
    std::fs::copy("/bin/busybox", p("lower/bin/busybox")).map_err(|e| format!("/bin/busybox: {e}"))?;
    symlink("busybox", p("lower/bin/true")).map_err(|e| e.to_string())?;
    let opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        p("lower").display(),
        p("upper").display(),
        p("work").display()
    );
    let ok = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts])
        .arg(p("merged"))
        .status()
        .map_err(|e| e.to_string())?
        .success();
    if !ok {
        return Err("mounting the overlay failed".into());
    }
    let merged = p("merged");
    Ok(Overlay { dir, merged })
}

/// Wall time and CPU time (user + system, of the storm and every /bin/true it reaped) of one storm.
fn time_storm(root: &Path, n: u32) -> Result<(f64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let cpu_before = children_cpu();
    let start = Instant::now();
    let status = Command::new(exe)
        .arg("--storm")
        .arg(root)
        .arg(n.to_string())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("storm failed: {status}"));
    }
    Ok((start.elapsed().as_secs_f64(), children_cpu() - cpu_before))
}

fn children_cpu() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

type Mode = (&'static str, Option<(Mechanism, DriftMode)>);

const MODES: [Mode; 5] = [
    ("none", None),
    ("fanotify, blocking off", Some((Mechanism::Fanotify, DriftMode::Detect))),
    ("fanotify, blocking on", Some((Mechanism::Fanotify, DriftMode::Block))),
    ("bpf_kill, blocking off", Some((Mechanism::BpfKill, DriftMode::Detect))),
    ("bpf_kill, blocking on", Some((Mechanism::BpfKill, DriftMode::Block))),
];

fn start_mode(mode: Mode, ov: &Overlay, state: &Path) -> Result<Option<DriftControl>, String> {
    let Some((mechanism, drift_mode)) = mode.1 else {
        return Ok(None);
    };
    let cfg = DriftConfig {
        enabled: true,
        mode: drift_mode,
        memfd: MemfdMode::Off,
        state_dir: state.to_path_buf(),
        ..DriftConfig::default()
    };
    let mut report = probe(&cfg);
    report.new_binary = Some(mechanism);
    report.memfd = None;
    let control = DriftControl::start_with(&cfg, report, Arc::new(|_| {})).map_err(|e| e.to_string())?;
    let rootfs = ContainerRootfs::from_mount(
        ContainerMeta {
            id: "bench".into(),
            ..ContainerMeta::default()
        },
        &ov.merged,
    )
    .map_err(|e| e.to_string())?;
    control.add_container(rootfs).map_err(|e| e.to_string())?;
    Ok(Some(control))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// Modes interleaved round by round, so that load changes on the shared machine hit every mode alike.
fn bench(n: u32, runs: usize, order: &[usize]) -> Result<(), String> {
    let ov = overlay()?;
    let state = ov.dir.path().join("state");
    let mut wall = vec![Vec::new(); MODES.len()];
    let mut cpu = vec![Vec::new(); MODES.len()];
    for round in 0..runs {
        for &i in order {
            let mode = &MODES[i];
            let control = start_mode(*mode, &ov, &state)?;
            let (w, c) = time_storm(&ov.merged, n)?;
            if let Some(c) = control {
                c.stop();
            }
            eprintln!("round {round}: {}: wall {w:.2} s, cpu {c:.2} s", mode.0);
            wall[i].push(w);
            cpu[i].push(c);
        }
    }
    println!("exec storm: {n} × fork+exec of /bin/true (busybox, static) in a covered overlay root, {runs} interleaved rounds");
    println!("| enforcement | wall, runs (s) | wall median (s) | per exec (µs) | wall vs none | storm CPU median (s) | CPU vs none |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    if wall[0].is_empty() {
        return Err("the modes must include 0 (none), the baseline".into());
    }
    let (base_wall, base_cpu) = (median(&wall[0]), median(&cpu[0]));
    for (i, mode) in MODES.iter().enumerate().filter(|(i, _)| !wall[*i].is_empty()) {
        let (w, c) = (median(&wall[i]), median(&cpu[i]));
        println!(
            "| {} | {} | {w:.2} | {:.0} | {:.2}× | {c:.2} | {:.2}× |",
            mode.0,
            wall[i].iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>().join(" "),
            w * 1e6 / f64::from(n),
            w / base_wall,
            c / base_cpu
        );
    }
    Ok(())
}
