//! `mamoru run`: live detection with the eBPF sensor.

use anyhow::{Context, Result};
use clap::Args;
use mamoru_alerts::{AlertMetrics, Health, MetricsRegistry, MetricsServer, Router};
use mamoru_cli::agent_metrics::{AgentMetrics, LATENCY_SAMPLE_EVERY};
use mamoru_cli::config::Config;
use mamoru_cli::containers::LiveContainers;
use mamoru_cli::live::{require_sensor, stop_flag, syscall_set};
use mamoru_cli::live_sources::LiveSources;
use mamoru_cli::pipeline::SyscallPipeline;
use mamoru_cli::response::{DriftWatch, ResponseActions};
use mamoru_container::MetadataConfig;
use mamoru_engine::{Alert, FieldJson};
use mamoru_event::RawEvent;
use mamoru_fields::syscall::{Syscall, SyscallCatalog};
use mamoru_fields::Catalog;
use mamoru_k8s::K8sWatcher;
use mamoru_output::{hostname, AlertFormat};
use mamoru_rules::Priority;
use mamoru_sensor::{Sensor, SensorConfig, SensorStats};
use mamoru_state::{read_proc, State, StateConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Args)]
pub struct RunArgs {
    /// Configuration file (YAML; see config/mamoru.yaml for every key and its default).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rules file (repeatable, loaded in order; replaces the configuration's rules_files). Default: the bundled
    /// rules (Falco's stable ruleset).
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
    /// Kernel ring buffer size in bytes (a power of two; default: limits.ring_buffer_bytes, 16 MiB).
    #[arg(long)]
    pub ring_buffer_bytes: Option<usize>,
    /// containerd socket for container metadata (repeatable; default: /run/containerd/containerd.sock and k3s's).
    #[arg(long = "containerd-socket", value_name = "PATH")]
    pub containerd_sockets: Vec<PathBuf>,
    /// Do not ask container runtimes for metadata (container.* and k8s.* beyond id and type stay <NA>).
    #[arg(long)]
    pub no_container_metadata: bool,
}

/// The configuration file, then `--format`, then `-o` overrides: errors here stop the agent before it starts.
fn load_config(args: &RunArgs) -> Result<Config> {
    let mut cfg = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(f) = args.format {
        cfg.format = f;
    }
    cfg.apply_overrides(&args.overrides)?;
    if let Some(n) = args.ring_buffer_bytes {
        cfg.limits.ring_buffer_bytes = n;
    }
    Ok(cfg)
}

/// The alert router and, when enabled, the metrics/health endpoint on the router's runtime.
fn start_outputs(
    cfg: &Config,
    host: &str,
    registry: &MetricsRegistry,
    health: &Health,
) -> Result<(Router, Option<MetricsServer>)> {
    let alert_metrics = AlertMetrics::default();
    registry.with(|r| alert_metrics.register_metrics(r));
    let router = Router::start(&cfg.router(host.to_string()), alert_metrics).context("starting the outputs")?;
    let server = if cfg.webserver.enabled {
        let handle = router.handle().context("outputs runtime")?;
        let server = handle.block_on(MetricsServer::start(&cfg.webserver, registry.clone(), health.clone()))?;
        eprintln!("mamoru: metrics and health on {}", server.local_addr);
        Some(server)
    } else {
        None
    };
    Ok((router, server))
}

/// Starts the Kubernetes API watcher when `k8s_api.enabled`; a configuration that cannot work stops the agent.
fn start_k8s_api(cfg: &Config) -> Result<Option<K8sWatcher>> {
    if !cfg.k8s_api.enabled {
        return Ok(None);
    }
    let w = K8sWatcher::start(&cfg.k8s_api).context("starting the Kubernetes API enrichment (k8s_api)")?;
    Ok(Some(w))
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let cfg = load_config(&args)?;
    let rules = if args.rules.is_empty() {
        cfg.rules_files.clone()
    } else {
        args.rules.clone()
    };
    let host = hostname();
    let registry = MetricsRegistry::new();
    let health = Health::default();
    let (router, server) = start_outputs(&cfg, &host, &registry, &health)?;
    let alerts = router.sender();
    require_sensor()?;
    // Kubernetes API enrichment: its own thread; the syscall fields read its snapshot, never the network.
    let k8s_api = start_k8s_api(&cfg)?;
    let syscall_catalog: Arc<dyn Catalog<Syscall>> = match &k8s_api {
        Some(w) => {
            registry.with(|r| w.meta().register_metrics(r));
            Arc::new(SyscallCatalog::with_k8s_api(Arc::new(w.meta())))
        }
        None => mamoru_cli::rulesets::syscall_catalog(),
    };
    let mut sets = crate::cmd::replay::load_rules_with(&rules, &cfg, syscall_catalog)?;
    let to_router: Arc<dyn Fn(Alert) + Send + Sync> = {
        let alerts = alerts.clone();
        Arc::new(move |a: Alert| {
            alerts.send(&a);
        })
    };
    let actions = ResponseActions::start(&cfg.response, to_router.clone()).context("starting response actions")?;
    let mut drift = DriftWatch::start(&cfg.response, to_router).context("starting drift control")?;
    // Cloud, identity and SaaS inputs: their own runtime and evaluator thread; they share only the alert sender.
    let sources = match cfg.sources.clone() {
        Some(sources_cfg) => {
            let json_sets = std::mem::take(&mut sets.json);
            let alerts = alerts.clone();
            let live = LiveSources::start(sources_cfg, json_sets, move |a| {
                alerts.send(&a);
            })
            .context("starting the sources")?;
            registry.with(|r| live.register_metrics(r));
            Some(live)
        }
        None => None,
    };
    let syscalls = syscall_set(&sets.syscall.needed_event_codes())?;
    let mut state = State::new(StateConfig {
        live: true,
        hostname: host.clone().into_bytes(),
        ..Default::default()
    });
    seed_state(&mut state)?;
    let mut pipeline = SyscallPipeline::new(state, sets.syscall);
    // Container metadata lookups run on their own thread; see mamoru_container::gate for what alerts wait for.
    let mut containers = if args.no_container_metadata {
        LiveContainers::disabled()
    } else {
        let mut meta = MetadataConfig::default();
        if !args.containerd_sockets.is_empty() {
            meta.containerd_sockets = args.containerd_sockets.clone();
        }
        LiveContainers::start(&meta)
    };
    let stop = stop_flag()?;
    let n_syscalls = syscalls.len();
    let mut sensor = Sensor::start(SensorConfig {
        ring_buffer_bytes: cfg.limits.ring_buffer_bytes,
        syscalls,
        ..SensorConfig::default()
    })
    .context("starting the eBPF sensor")?;
    let mut metrics = AgentMetrics::default();
    registry.with(|r| metrics.register_metrics(r));
    health.set(true);
    eprintln!(
        "mamoru: watching {n_syscalls} syscalls with {} active rules; Ctrl-C to stop",
        pipeline.ruleset().rules().iter().filter(|r| r.is_active()).count()
    );
    let deadline = args.duration.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut drops = DropReporter::default();
    let mut last_check = Instant::now();
    let mut parse_errors = 0u64;
    let mut n_events = 0u64;
    let mut last_ts = 0u64;
    // The event path hands alerts to the router, which never waits on a sink (bounded queues and the spool).
    let rule_metrics = metrics.clone();
    let mut emit = |alert: Alert| {
        rule_metrics.rule_matched(&alert.rule);
        actions.on_alert(&alert);
        alerts.send(&alert);
    };
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        let outcome =
            sensor.poll(
                containers.poll_timeout(Duration::from_millis(100)),
                |cpu, bytes| match RawEvent::parse(bytes, cpu) {
                    Ok(raw) => {
                        n_events += 1;
                        last_ts = raw.ts;
                        if n_events.is_multiple_of(LATENCY_SAMPLE_EVERY) {
                            let t0 = Instant::now();
                            containers.on_event(&mut pipeline, &raw, &mut emit);
                            metrics.evaluation_seconds.observe(t0.elapsed().as_secs_f64());
                        } else {
                            containers.on_event(&mut pipeline, &raw, &mut emit);
                        }
                    }
                    Err(e) => {
                        parse_errors += 1;
                        metrics.undecodable.inc();
                        tracing::warn!("undecodable event from the sensor: {e}");
                    }
                },
            )?;
        containers.poll(&mut pipeline, &mut emit);
        if outcome.interrupted {
            continue;
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            let stats = sensor.stats()?;
            metrics.events_in.inc_by(n_events - metrics.events_in.get());
            metrics.observe_sensor(&stats);
            metrics.observe_state(&pipeline.state.stats());
            drift.sync_containers(&pipeline.state);
            if last_ts != 0 {
                metrics.observe_lag("syscall", last_ts, now_ns());
            }
            if let Some(alert) = drops.check(&stats) {
                emit(alert);
            }
        }
    }
    containers.flush(&mut pipeline, &mut emit);
    if let Some(live) = sources {
        let n = live.stop();
        eprintln!("mamoru: sources: {n} records evaluated");
    }
    actions.stop();
    drift.stop();
    health.set(false);
    eprintln!("mamoru: {}", containers.summary());
    if let Some(w) = k8s_api {
        let s = w.meta().stats();
        eprintln!(
            "mamoru: k8s_api: {} pods known, {} lists ({} after 410 Gone), {} watch events, {} errors, {} objects dropped",
            s.pods, s.lists, s.gone, s.watch_events, s.errors, s.dropped
        );
    }
    let stats = sensor.stats()?;
    sensor.stop();
    drop(server);
    router.shutdown(Duration::from_millis(cfg.limits.shutdown_timeout_ms));
    eprintln!(
        "mamoru: stopped. {}\n  kernel: emitted {}, filtered {} (not needed {}, no state change {}), dropped {} (ring full {}, too large {}, other {}), undecodable {parse_errors}",
        pipeline.stats.summary(),
        stats.totals.emitted,
        stats.totals.filtered + stats.totals.filtered_state_only,
        stats.totals.filtered,
        stats.totals.filtered_state_only,
        stats.totals.dropped(),
        stats.totals.dropped_ring_full,
        stats.totals.dropped_too_large,
        stats.totals.dropped() - stats.totals.dropped_ring_full - stats.totals.dropped_too_large,
    );
    Ok(ExitCode::SUCCESS)
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
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
            subject: None,
        })
    }
}
