//! `mamoru bench engine` (and `mamoru bench json`, in [`crate::cmd::bench_json`]): the full stable ruleset over a realistic mix of synthetic syscall events, decoded from
//! scap bytes with the state kept, on one core. Reports events per second, nanoseconds per event by event type and
//! allocations per event (non-matching events separately).

use anyhow::{bail, Result};
use clap::Subcommand;
use mamoru_cli::config::Config;
use mamoru_cli::pipeline::SyscallPipeline;
use mamoru_cli::synth::realistic_workload;
use mamoru_event::RawEvent;
use mamoru_state::{State, StateConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::alloc_count::allocations;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Rule engine throughput on the syscall source.
    Engine {
        /// Number of events.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Plant a sensitive-file read every N events (0: none).
        #[arg(long, default_value_t = 10_000)]
        match_every: u64,
        /// Rules files (default: the bundled stable ruleset).
        #[arg(short = 'r', long = "rules")]
        rules: Vec<PathBuf>,
        /// Timed passes over the events (the best is reported).
        #[arg(long, default_value_t = 3)]
        passes: usize,
    },
    /// Raw JSON to alerts for a cloud source (aws_cloudtrail or k8s_audit) with its rules, on one core.
    Json {
        /// Source: aws_cloudtrail or k8s_audit.
        #[arg(long)]
        source: String,
        /// Number of records.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Rules files (default: the bundled rules).
        #[arg(short = 'r', long = "rules")]
        rules: Vec<PathBuf>,
        /// Timed passes over the records (the best is reported).
        #[arg(long, default_value_t = 3)]
        passes: usize,
    },
    /// Alert delivery through the router to the file or NATS JetStream sink: throughput and event-to-sink latency.
    Outputs(crate::cmd::bench_outputs::OutputsArgs),
}

pub fn run(cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Engine {
            events,
            match_every,
            rules,
            passes,
        } => engine(events, match_every, &rules, passes),
        BenchCommand::Json {
            source,
            records,
            rules,
            passes,
        } => crate::cmd::bench_json::run(&source, records, &rules, passes),
        BenchCommand::Outputs(args) => crate::cmd::bench_outputs::run(args),
    }
}

struct PassResult {
    secs: f64,
    /// CPU time of the evaluating thread: on a shared machine, the figure that does not count time spent waiting
    /// for the core.
    cpu_secs: f64,
    alerts: u64,
    allocs_total: u64,
    allocs_nonmatching: u64,
    nonmatching_events: u64,
}

fn engine(n: usize, match_every: u64, rules: &[PathBuf], passes: usize) -> Result<ExitCode> {
    if n == 0 || passes == 0 {
        bail!("--events and --passes must be positive");
    }
    let cfg = Config::default();
    let work = realistic_workload(n, 42, match_every);
    let bytes = work.events.len();
    println!(
        "workload: {} events ({} bytes of scap events), {} planted matches",
        work.len(),
        bytes,
        work.planted_matches
    );
    let mut best: Option<PassResult> = None;
    for pass in 0..passes {
        let sets = crate::cmd::replay::load_rules(rules, &cfg)?;
        let mut pipeline = SyscallPipeline::new(State::new(StateConfig::default()), sets.syscall);
        for t in &work.threads {
            pipeline.state.add_thread(t.clone());
        }
        let r = timed_pass(&mut pipeline, &work)?;
        println!(
            "pass {}: {:.3} s wall, {:.3} s thread CPU, {:.0} events/s by CPU time, {} alerts, allocations/event {:.3} \
             (non-matching events: {:.3})",
            pass + 1,
            r.secs,
            r.cpu_secs,
            work.len() as f64 / r.cpu_secs,
            r.alerts,
            r.allocs_total as f64 / work.len() as f64,
            r.allocs_nonmatching as f64 / r.nonmatching_events.max(1) as f64,
        );
        if best.as_ref().is_none_or(|b| r.cpu_secs < b.cpu_secs) {
            best = Some(r);
        }
    }
    let best = best.expect("at least one pass");
    println!(
        "best: {:.0} events/s on one core by thread CPU time ({:.1} ns/event); wall clock {:.0} events/s",
        work.len() as f64 / best.cpu_secs,
        best.cpu_secs * 1e9 / work.len() as f64,
        work.len() as f64 / best.secs,
    );
    per_type(&cfg, rules, &work)?;
    Ok(ExitCode::SUCCESS)
}

fn timed_pass(pipeline: &mut SyscallPipeline, work: &mamoru_cli::synth::Workload) -> Result<PassResult> {
    let mut alerts = 0u64;
    let mut allocs_nonmatching = 0u64;
    let mut nonmatching_events = 0u64;
    let start_allocs = allocations();
    let start_cpu = thread_cpu_secs();
    let start = Instant::now();
    for i in 0..work.len() {
        let raw = RawEvent::parse(work.event(i), 0)?;
        let before = allocations();
        let mut matched = false;
        pipeline.on_event(&raw, |_| matched = true);
        if matched {
            alerts += 1;
        } else {
            nonmatching_events += 1;
            allocs_nonmatching += allocations() - before;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = thread_cpu_secs() - start_cpu;
    Ok(PassResult {
        secs,
        cpu_secs,
        alerts,
        allocs_total: allocations() - start_allocs,
        allocs_nonmatching,
        nonmatching_events,
    })
}

/// A single event timed longer than this was descheduled part-way: even an execve takes a few microseconds.
const PREEMPTED_NS: f64 = 200_000.0;

/// CPU time consumed by the calling thread, in seconds.
fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given; CLOCK_THREAD_CPUTIME_ID exists on every Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Nanoseconds per event by event type: each event timed on its own, minus the cost of reading the clock.
fn per_type(cfg: &Config, rules: &[PathBuf], work: &mamoru_cli::synth::Workload) -> Result<()> {
    let sets = crate::cmd::replay::load_rules(rules, cfg)?;
    let mut pipeline = SyscallPipeline::new(State::new(StateConfig::default()), sets.syscall);
    for t in &work.threads {
        pipeline.state.add_thread(t.clone());
    }
    let clock_cost = {
        let t0 = Instant::now();
        for _ in 0..100_000 {
            std::hint::black_box(Instant::now());
        }
        t0.elapsed().as_nanos() as f64 / 100_000.0
    };
    // Per type: events timed, nanoseconds, and allocations by non-matching events in the second half of the
    // workload (the first half warms the tables and buffer pools up).
    let mut by_type: BTreeMap<&'static str, (u64, f64, u64)> = BTreeMap::new();
    let mut preempted = 0u64;
    let warm = work.len() / 2;
    for i in 0..work.len() {
        let raw = RawEvent::parse(work.event(i), 0)?;
        let allocs_before = allocations();
        let mut matched = false;
        let t0 = Instant::now();
        pipeline.on_event(&raw, |_| matched = true);
        let ns = t0.elapsed().as_nanos() as f64 - clock_cost;
        let e = by_type.entry(raw.name()).or_default();
        if i >= warm && !matched {
            e.2 += allocations() - allocs_before;
        }
        if ns > PREEMPTED_NS {
            // The thread lost the core in between (a shared machine): the sample measures the scheduler.
            preempted += 1;
            continue;
        }
        e.0 += 1;
        e.1 += ns.max(0.0);
    }
    if preempted > 0 {
        println!("({preempted} samples longer than {PREEMPTED_NS} ns left out as preempted)");
    }
    println!("per event type (state update + rule evaluation, decode excluded):");
    println!(
        "  {:<12} {:>10} {:>12} {:>28}",
        "type", "events", "ns/event", "allocs (non-matching, warm)"
    );
    for (name, (count, total, allocs)) in by_type {
        println!(
            "  {name:<12} {count:>10} {:>12.1} {allocs:>28}",
            total / count.max(1) as f64
        );
    }
    Ok(())
}
