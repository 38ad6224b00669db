//! `mamoru capture`: record the live event stream as a scap capture.

use anyhow::{Context, Result};
use clap::Args;
use mamoru_cli::live::{require_sensor, stop_flag, syscall_set};
use mamoru_event::RawEvent;
use mamoru_output::hostname;
use mamoru_scap::{MachineInfo, ScapWriter, WriterOptions};
use mamoru_sensor::{Sensor, SensorConfig};
use mamoru_state::{host_users, read_proc};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct CaptureArgs {
    /// Output file (`.gz` suffix: gzip-compressed).
    #[arg(short = 'w', long = "write")]
    pub write: PathBuf,
    /// Stop after this many seconds (default: until SIGINT/SIGTERM).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Rules files whose syscalls to record, in addition to what the state engine needs (default: the bundled
    /// rules), so that replaying the capture gives what a live run with those rules gives.
    #[arg(short = 'r', long = "rules")]
    pub rules: Vec<PathBuf>,
    /// Record every syscall, not only those the rules and the state engine need.
    #[arg(long)]
    pub all: bool,
}

pub fn run(args: CaptureArgs) -> Result<ExitCode> {
    require_sensor()?;
    let syscalls = if args.all {
        mamoru_sensor::SyscallSet::all()
    } else {
        let sets = crate::cmd::replay::load_rules(&args.rules, &mamoru_cli::config::Config::default())?;
        syscall_set(&sets.syscall.needed_event_codes())?
    };
    let file = File::create(&args.write).with_context(|| format!("creating {}", args.write.display()))?;
    let gzip = args.write.extension().is_some_and(|e| e == "gz");
    let mut writer = ScapWriter::new(
        BufWriter::new(file),
        WriterOptions {
            gzip,
            ..WriterOptions::default()
        },
    )?;
    write_initial_state(&mut writer)?;
    let stop = stop_flag()?;
    let n_syscalls = syscalls.len();
    let mut sensor = Sensor::start(SensorConfig {
        syscalls,
        ..SensorConfig::default()
    })?;
    eprintln!(
        "mamoru: recording {n_syscalls} syscalls to {}; Ctrl-C to stop",
        args.write.display()
    );
    let deadline = args.duration.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut write_error = None;
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) && write_error.is_none() {
        sensor.poll(Duration::from_millis(100), |cpu, bytes| {
            if write_error.is_some() {
                return;
            }
            match RawEvent::parse(bytes, cpu) {
                Ok(raw) => {
                    if let Err(e) = writer.write_event(cpu, &raw) {
                        write_error = Some(e);
                    }
                }
                Err(e) => tracing::warn!("undecodable event from the sensor: {e}"),
            }
        })?;
    }
    let stats = sensor.stats()?;
    sensor.stop();
    let events = writer.events_written();
    writer.finish().context("finishing the capture")?;
    if let Some(e) = write_error {
        return Err(e).context("writing the capture");
    }
    eprintln!(
        "mamoru: wrote {events} events to {} (kernel dropped {})",
        args.write.display(),
        stats.totals.dropped()
    );
    Ok(ExitCode::SUCCESS)
}

/// The machine, the users and groups, and every process with its open fds, as they are when capture starts.
fn write_initial_state<W: std::io::Write>(writer: &mut ScapWriter<W>) -> Result<()> {
    let snap = read_proc(Path::new("/")).context("reading /proc")?;
    writer.write_machine_info(&MachineInfo {
        num_cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_size_bytes: 0,
        max_pid: 0,
        hostname: hostname().into_bytes(),
        boot_ts_epoch: (snap.boot_ts != 0).then_some(snap.boot_ts),
        flags: 0,
    })?;
    match host_users(Path::new("/")) {
        Ok((users, groups)) => writer.write_users(&users, &groups)?,
        Err(e) => tracing::warn!("host users not recorded: {e}"),
    }
    let mut threads = snap.threads;
    let fds: Vec<(i64, Vec<mamoru_event::FdRecord>)> = threads
        .iter_mut()
        .map(|t| (t.tid, std::mem::take(&mut t.fds)))
        .collect();
    writer.write_threads(&threads)?;
    for (tid, fds) in fds {
        if !fds.is_empty() {
            writer.write_fds(tid, &fds)?;
        }
    }
    Ok(())
}
