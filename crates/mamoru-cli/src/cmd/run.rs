//! `mamoru run`: live detection with the eBPF sensor.

use anyhow::{Context, Result};
use clap::Args;
use mamoru_cli::config::Config;
use mamoru_cli::live::{require_sensor, stop_flag, syscall_set};
use mamoru_cli::pipeline::SyscallPipeline;
use mamoru_engine::{Alert, FieldJson};
use mamoru_event::RawEvent;
use mamoru_output::{hostname, AlertFormat, Renderer};
use mamoru_rules::Priority;
use mamoru_sensor::{Sensor, SensorConfig, SensorStats};
use mamoru_state::{read_proc, State, StateConfig};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Args)]
pub struct RunArgs {
    /// Rules file (repeatable, loaded in order). Default: the bundled rules (Falco's stable ruleset).
    #[arg(short = 'r', long = "rules")]
    pub rules: Vec<PathBuf>,
    /// Alert format.
    #[arg(long)]
    pub format: Option<AlertFormat>,
    /// Override a configuration key (rule_matching=first|all, priority=LEVEL, json_output=true|false).
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Stop after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Kernel ring buffer size in bytes (a power of two).
    #[arg(long, default_value_t = 16 << 20)]
    pub ring_buffer_bytes: usize,
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let mut cfg = Config::default();
    if let Some(f) = args.format {
        cfg.format = f;
    }
    cfg.apply_overrides(&args.overrides)?;
    require_sensor()?;
    let sets = crate::cmd::replay::load_rules(&args.rules, &cfg)?;
    let syscalls = syscall_set(&sets.syscall.needed_event_codes())?;
    let host = hostname();
    let mut state = State::new(StateConfig {
        live: true,
        hostname: host.clone().into_bytes(),
        ..Default::default()
    });
    seed_state(&mut state)?;
    let mut pipeline = SyscallPipeline::new(state, sets.syscall);
    let stop = stop_flag()?;
    let n_syscalls = syscalls.len();
    let mut sensor = Sensor::start(SensorConfig {
        ring_buffer_bytes: args.ring_buffer_bytes,
        syscalls,
        ..SensorConfig::default()
    })
    .context("starting the eBPF sensor")?;
    eprintln!(
        "mamoru: watching {n_syscalls} syscalls with {} active rules; Ctrl-C to stop",
        pipeline.ruleset().rules().iter().filter(|r| r.is_active()).count()
    );
    let renderer = Renderer::new(cfg.format, host);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let deadline = args.duration.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut drops = DropReporter::default();
    let mut last_check = Instant::now();
    let mut parse_errors = 0u64;
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        let mut printed = false;
        let outcome = sensor.poll(Duration::from_millis(100), |cpu, bytes| {
            match RawEvent::parse(bytes, cpu) {
                Ok(raw) => pipeline.on_event(&raw, |alert| {
                    // A closed stdout ends the run through the stop check below, not a panic.
                    let _ = writeln!(out, "{}", renderer.render(&alert));
                    printed = true;
                }),
                Err(e) => {
                    parse_errors += 1;
                    tracing::warn!("undecodable event from the sensor: {e}");
                }
            }
        })?;
        if outcome.interrupted {
            continue;
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            if let Some(alert) = drops.check(&sensor.stats()?) {
                let _ = writeln!(out, "{}", renderer.render(&alert));
                printed = true;
            }
        }
        if printed && out.flush().is_err() {
            break;
        }
    }
    out.flush().ok();
    let stats = sensor.stats()?;
    sensor.stop();
    eprintln!(
        "mamoru: stopped. {}\n  kernel: emitted {}, dropped {} (ring full {}, too large {}, other {}), undecodable {parse_errors}",
        pipeline.stats.summary(),
        stats.totals.emitted,
        stats.totals.dropped(),
        stats.totals.dropped_ring_full,
        stats.totals.dropped_too_large,
        stats.totals.dropped() - stats.totals.dropped_ring_full - stats.totals.dropped_too_large,
    );
    Ok(ExitCode::SUCCESS)
}

/// Processes older than the agent get full context: the state starts from `/proc` and the host's users.
fn seed_state(state: &mut State) -> Result<()> {
    let snap = read_proc(Path::new("/")).context("reading /proc")?;
    if snap.boot_ts != 0 {
        state.set_boot_ts(snap.boot_ts);
    }
    for t in snap.threads {
        state.add_thread(t);
    }
    state.finish_seeding();
    if let Err(e) = state.load_host_users(Path::new("/")) {
        tracing::warn!("host users not loaded: {e}");
    }
    Ok(())
}

/// Turns kernel-side drop counters into alerts, as Falco's `syscall_event_drops` does: one notice for every second
/// in which events were lost, with the counts by reason. Loss is never silent.
#[derive(Default)]
struct DropReporter {
    last: Option<SensorStats>,
}

impl DropReporter {
    fn check(&mut self, now: &SensorStats) -> Option<Alert> {
        let prev = self.last.replace(now.clone());
        let prev = prev?;
        let dropped = now.totals.dropped().saturating_sub(prev.totals.dropped());
        if dropped == 0 {
            return None;
        }
        let emitted = now.totals.emitted.saturating_sub(prev.totals.emitted);
        let ring_full = now
            .totals
            .dropped_ring_full
            .saturating_sub(prev.totals.dropped_ring_full);
        let too_large = now
            .totals
            .dropped_too_large
            .saturating_sub(prev.totals.dropped_too_large);
        let time_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Some(Alert {
            time_ns,
            rule: Arc::from("mamoru internal: syscall event drop"),
            priority: Priority::Critical,
            source: "syscall",
            tags: vec!["mamoru".into(), "internal".into()],
            message: format!(
                "mamoru internal: syscall event drop. {dropped} system calls dropped in last second \
                 (ring full {ring_full}, too large {too_large}; {emitted} delivered)."
            ),
            output_fields: vec![
                ("n_drops".into(), FieldJson::U64(dropped)),
                ("n_drops_buffer".into(), FieldJson::U64(ring_full)),
                ("n_drops_too_large".into(), FieldJson::U64(too_large)),
                ("n_evts".into(), FieldJson::U64(emitted + dropped)),
            ],
        })
    }
}
