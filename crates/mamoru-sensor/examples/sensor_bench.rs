//! Measures the live sensor: events/s delivered to user space, drops, and the busiest event types.
//!
//! ```text
//! sensor-bench [--seconds N] [--ring-mib N] [--wakeup-kib N] [--syscalls a,b,c] [--state-only a,b] [--print N]
//!              [--verifier]
//! ```
//! Run as root. `--syscalls` takes syscall names (default: all); `--state-only` marks some of them as needed by
//! the state engine only (as `mamoru run` does for send/recv when no rule needs them); `--print` decodes and prints the first N
//! events, which is handy to eyeball parameters; `--verifier` lists how many instructions the kernel verifier
//! processed for the largest sensor programs (the limit is 1,000,000 per program).

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mamoru_event::RawEvent;
use mamoru_sensor::{Sensor, SensorConfig, SyscallSet};

struct Args {
    seconds: u64,
    ring_mib: usize,
    wakeup_kib: usize,
    syscalls: Option<Vec<String>>,
    state_only: Vec<String>,
    print: usize,
    verifier: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10,
        ring_mib: 16,
        wakeup_kib: 256,
        syscalls: None,
        state_only: Vec::new(),
        print: 0,
        verifier: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--seconds" => args.seconds = number(value()?)?,
            "--ring-mib" => args.ring_mib = number(value()?)? as usize,
            "--wakeup-kib" => args.wakeup_kib = number(value()?)? as usize,
            "--print" => args.print = number(value()?)? as usize,
            "--verifier" => args.verifier = true,
            "--syscalls" => args.syscalls = Some(value()?.split(',').map(str::to_string).collect()),
            "--state-only" => args.state_only = value()?.split(',').map(str::to_string).collect(),
            "-h" | "--help" => {
                return Err(
                    "usage: sensor-bench [--seconds N] [--ring-mib N] [--wakeup-kib N] [--syscalls a,b] [--state-only a,b] [--print N] [--verifier]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn describe(event: &RawEvent<'_>) -> String {
    let mut out = format!("{} tid={} ", event.name(), event.tid);
    for (i, p) in event.info().params.iter().enumerate() {
        let text = match event.param_type(i) {
            Some(t) if t.fixed_width().is_some() => event.param_i64(i).map(|v| v.to_string()).unwrap_or_default(),
            _ => event
                .param_str(i)
                .map(|b| String::from_utf8_lossy(b).replace('\0', " "))
                .unwrap_or_default(),
        };
        out.push_str(&format!("{}={} ", p.name, text));
    }
    out
}

/// Instructions the verifier processed per sensor program (names are truncated to 15 characters by the kernel).
fn print_verifier_budget() {
    let mut rows: Vec<(u32, String, u32)> = libbpf_rs::query::ProgInfoIter::default()
        .filter(|p| {
            let name = p.name.to_string_lossy();
            name.ends_with("_x") || name.starts_with("sched_ex") || name.starts_with("sys_exit_dispa")
        })
        .map(|p| {
            (
                p.verified_insns,
                p.name.to_string_lossy().into_owned(),
                p.xlated_prog_insns.len() as u32,
            )
        })
        .collect();
    rows.sort();
    let total: u64 = rows.iter().map(|r| u64::from(r.0)).sum();
    println!(
        "verifier: {} programs, {total} instructions processed in total; largest:",
        rows.len()
    );
    for (verified, name, _) in rows.iter().rev().take(8) {
        println!("  {name:<16} {verified:>8} processed");
    }
}

fn run(args: Args) -> Result<(), String> {
    let report = Sensor::probe().map_err(|e| e.to_string())?;
    if !report.ready() {
        return Err(format!("cannot start: missing {}", report.missing().join(", ")));
    }
    let mut syscalls = match &args.syscalls {
        Some(names) => SyscallSet::from_names(names).map_err(|e| e.to_string())?,
        None => SyscallSet::all(),
    };
    for name in &args.state_only {
        let sc = mamoru_sensor::syscall_by_name(name).ok_or_else(|| format!("unknown syscall {name}"))?;
        syscalls.remove(sc.nr);
        syscalls.insert_state_only(sc.nr).map_err(|e| e.to_string())?;
    }
    let config = SensorConfig {
        ring_buffer_bytes: args.ring_mib << 20,
        wakeup_threshold_bytes: args.wakeup_kib << 10,
        syscalls,
        ..SensorConfig::default()
    };
    let started = Instant::now();
    let mut sensor = Sensor::start(config).map_err(|e| e.to_string())?;
    println!("attached in {:?} (kernel {})", started.elapsed(), report.kernel_release);
    if args.verifier {
        print_verifier_budget();
    }

    let mut by_type: HashMap<&'static str, u64> = HashMap::new();
    let mut printed = 0usize;
    let mut parse_errors = 0u64;
    let mut window_start = Instant::now();
    let mut window_events = 0u64;
    let mut total = 0u64;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    while Instant::now() < deadline {
        let outcome = sensor
            .poll(Duration::from_millis(100), |cpu, bytes| {
                match RawEvent::parse(bytes, cpu) {
                    Ok(ev) => {
                        *by_type.entry(ev.name()).or_default() += 1;
                        if printed < args.print {
                            printed += 1;
                            println!("cpu{cpu} {}", describe(&ev));
                        }
                    }
                    Err(_) => parse_errors += 1,
                }
            })
            .map_err(|e| e.to_string())?;
        window_events += outcome.events as u64;
        total += outcome.events as u64;
        if outcome.interrupted {
            break;
        }
        if window_start.elapsed() >= Duration::from_secs(1) {
            let stats = sensor.stats().map_err(|e| e.to_string())?;
            println!(
                "{:>8.0} events/s  emitted={} dropped={} (ring full {}) read_failures={}",
                window_events as f64 / window_start.elapsed().as_secs_f64(),
                stats.totals.emitted,
                stats.totals.dropped(),
                stats.totals.dropped_ring_full,
                stats.totals.read_failures,
            );
            window_start = Instant::now();
            window_events = 0;
        }
    }
    let stats = sensor.stats().map_err(|e| e.to_string())?;
    let secs = args.seconds.max(1) as f64;
    println!(
        "total {total} events in {secs} s ({:.0}/s), kernel emitted {}, dropped {}, parse errors {parse_errors}",
        total as f64 / secs,
        stats.totals.emitted,
        stats.totals.dropped()
    );
    for cpu in &stats.per_cpu {
        println!(
            "  cpu{}: emitted {} dropped {}",
            cpu.cpu,
            cpu.counters.emitted,
            cpu.counters.dropped()
        );
    }
    let mut top: Vec<_> = by_type.into_iter().collect();
    top.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    for (name, n) in top.iter().take(15) {
        println!("  {name:<16} {n}");
    }
    sensor.stop();
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sensor-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
