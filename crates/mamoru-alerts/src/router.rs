//! The router: takes alerts from the event path without ever waiting on a sink, and delivers them to every sink
//! from that sink's own queue.
//!
//! With the spool enabled, every sink but stdout is durable: [`AlertSender::send`] appends the alert to the spool
//! (one `write`, no fsync on the event path) and each durable sink's worker delivers from its own spool cursor, in
//! order, retrying with backoff while the sink is down; the spool is the bounded queue. Stdout, and every sink when
//! the spool is disabled, gets a bounded in-memory queue; a full queue drops the alert for that sink and counts it.
//! Nothing is dropped without a count in the metrics and a log line.

use crate::config::RouterConfig;
use crate::envelope::Envelope;
use crate::metrics::{sink_label, AlertMetrics};
use crate::ratelimit::RateLimiter;
use crate::sinks::{FileSink, HttpSink, NatsSink, ProgramSink, Sink, SinkError, SyslogSink};
use crate::spool::{Spool, SpoolError, SpoolOptions};
use mamoru_engine::{Alert, FieldJson};
use mamoru_rules::Priority;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use thiserror::Error;
use tokio::sync::{mpsc, Notify};

/// Largest batch a worker hands a sink at once.
const BATCH: usize = 256;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Debug, Error)]
pub enum RouterError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("outputs_queue.capacity must be at least 1")]
    ZeroCapacity,
    #[error("starting the output runtime: {0}")]
    Runtime(std::io::Error),
}

/// What happened to one alert on the way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Queued (durably, where the spool is on) for every sink; the alert's id.
    Queued(String),
    /// Queued, but some sinks dropped it (full queue or full spool), counted in the metrics.
    Partly { id: String, dropped: Vec<&'static str> },
    /// Suppressed by the rule's token bucket (counted and reported).
    RateLimited,
}

struct MemoryQueue {
    name: &'static str,
    tx: mpsc::Sender<Arc<Envelope>>,
}

struct Shared {
    hostname: String,
    limiter: Mutex<RateLimiter>,
    memory: Vec<MemoryQueue>,
    durable: Vec<&'static str>,
    spool: Option<Spool>,
    wake: Arc<Notify>,
    metrics: AlertMetrics,
    stopping: AtomicBool,
    /// Nanoseconds since `started` after which failing sinks give up during shutdown.
    give_up_at: AtomicU64,
    started: Instant,
}

/// A cheap, cloneable handle for handing alerts to the router from any thread.
#[derive(Clone)]
pub struct AlertSender {
    shared: Arc<Shared>,
}

impl AlertSender {
    /// Hands one alert to every sink. Never waits on a sink: at most one `write` to the spool file.
    pub fn send(&self, alert: &Alert) -> Accepted {
        let s = &self.shared;
        s.metrics.alerts_in.inc();
        if !s.lock_limiter().allow(&alert.rule, Instant::now()) {
            s.metrics
                .suppressed
                .get_or_create(&vec![("rule".to_string(), alert.rule.to_string())])
                .inc();
            return Accepted::RateLimited;
        }
        s.route(Envelope::new(alert, &s.hostname))
    }
}

impl Shared {
    fn lock_limiter(&self) -> std::sync::MutexGuard<'_, RateLimiter> {
        self.limiter.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn route(&self, env: Envelope) -> Accepted {
        let mut dropped = Vec::new();
        if let Some(spool) = &self.spool {
            if !self.durable.is_empty() {
                match spool.append(&env.encode()) {
                    Ok(_) => self.wake.notify_waiters(),
                    Err(e) => {
                        let reason = if matches!(e, SpoolError::Full { .. }) {
                            "spool_full"
                        } else {
                            "spool_error"
                        };
                        tracing::error!("alert {} not spooled for {:?}: {e}", env.id, self.durable);
                        for name in &self.durable {
                            self.count_drop(name, reason);
                            dropped.push(*name);
                        }
                    }
                }
            }
        }
        let id = env.id.clone();
        let env = Arc::new(env);
        for q in &self.memory {
            if q.tx.try_send(env.clone()).is_err() {
                tracing::warn!("output queue of {} is full: alert {} dropped for it", q.name, env.id);
                self.count_drop(q.name, "queue_full");
                dropped.push(q.name);
            }
        }
        if dropped.is_empty() {
            Accepted::Queued(id)
        } else {
            Accepted::Partly { id, dropped }
        }
    }

    fn count_drop(&self, sink: &str, reason: &str) {
        self.metrics
            .dropped
            .get_or_create(&vec![
                ("sink".to_string(), sink.to_string()),
                ("reason".to_string(), reason.to_string()),
            ])
            .inc();
    }

    fn past_give_up(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
            && self.started.elapsed().as_nanos() as u64 >= self.give_up_at.load(Ordering::Relaxed)
    }
}

/// The router and the runtime its sink workers run on.
pub struct Router {
    sender: AlertSender,
    runtime: Option<tokio::runtime::Runtime>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Router {
    /// Builds every enabled sink (a configuration problem is an error here, before any alert flows), opens the
    /// spool (recovering whatever a previous run left in it) and starts the workers.
    pub fn start(cfg: &RouterConfig, metrics: AlertMetrics) -> Result<Router, RouterError> {
        if cfg.queue.capacity == 0 {
            return Err(RouterError::ZeroCapacity);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mamoru-alerts")
            .enable_all()
            .build()
            .map_err(RouterError::Runtime)?;
        let sinks = build_sinks(cfg)?;
        let spool_on = cfg.spool.enabled;
        let durable_names: Vec<&'static str> = sinks
            .iter()
            .filter(|s| spool_on && !matches!(s, Sink::Stdout { .. }))
            .map(Sink::name)
            .collect();
        let spool = if spool_on && !durable_names.is_empty() {
            let (spool, recovery) = Spool::open(
                &cfg.spool.directory,
                SpoolOptions {
                    max_bytes: cfg.spool.max_bytes,
                    segment_bytes: cfg.spool.segment_bytes.max(4096),
                },
                &durable_names,
            )?;
            metrics.spool_torn_records.inc_by(recovery.torn_records);
            if recovery.pending > 0 {
                tracing::warn!(
                    "spool {}: {} alerts from a previous run are delivered first",
                    cfg.spool.directory.display(),
                    recovery.pending
                );
            }
            Some(spool)
        } else {
            None
        };
        let mut memory = Vec::new();
        let mut receivers = Vec::new();
        let mut durable_sinks = Vec::new();
        for sink in sinks {
            if durable_names.contains(&sink.name()) {
                durable_sinks.push(sink);
            } else {
                let (tx, rx) = mpsc::channel(cfg.queue.capacity);
                memory.push(MemoryQueue { name: sink.name(), tx });
                receivers.push((sink, rx));
            }
        }
        let shared = Arc::new(Shared {
            hostname: cfg.hostname.clone(),
            limiter: Mutex::new(RateLimiter::new(cfg.rate.rate, cfg.rate.max_burst)),
            memory,
            durable: durable_names,
            spool: spool.clone(),
            wake: Arc::new(Notify::new()),
            metrics,
            stopping: AtomicBool::new(false),
            give_up_at: AtomicU64::new(u64::MAX),
            started: Instant::now(),
        });
        let mut workers = Vec::new();
        for (sink, rx) in receivers {
            workers.push(runtime.spawn(memory_worker(sink, rx, shared.clone())));
        }
        if let Some(spool) = &spool {
            for sink in durable_sinks {
                workers.push(runtime.spawn(durable_worker(sink, spool.clone(), shared.clone())));
            }
        }
        let interval = Duration::from_millis(cfg.spool.fsync_interval_ms.max(1));
        runtime.spawn(housekeeping(shared.clone(), interval));
        Ok(Router {
            sender: AlertSender { shared },
            runtime: Some(runtime),
            workers,
        })
    }

    /// A handle for the event path (and for other components that raise alerts).
    pub fn sender(&self) -> AlertSender {
        self.sender.clone()
    }

    /// Hands one alert to the sinks (see [`AlertSender::send`]).
    pub fn send(&self, alert: &Alert) -> Accepted {
        self.sender.send(alert)
    }

    /// The runtime the sinks run on, for other async services of the agent (the metrics endpoint).
    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.as_ref().map(|r| r.handle().clone())
    }

    /// Stops taking work and waits up to `timeout` for the queues to drain. Sinks still failing then give up:
    /// durable ones keep their alerts in the (fsync'd) spool for the next run; in-memory ones count them dropped.
    pub fn shutdown(mut self, timeout: Duration) {
        let shared = self.sender.shared.clone();
        let deadline = shared.started.elapsed() + timeout;
        shared.give_up_at.store(deadline.as_nanos() as u64, Ordering::Relaxed);
        shared.stopping.store(true, Ordering::Relaxed);
        shared.wake.notify_waiters();
        if let Some(rt) = self.runtime.take() {
            let workers = std::mem::take(&mut self.workers);
            rt.block_on(async {
                for w in workers {
                    let _ = tokio::time::timeout(timeout + Duration::from_secs(1), w).await;
                }
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        }
        if let Some(spool) = &shared.spool {
            if let Err(e) = spool.sync() {
                tracing::error!("spool sync at shutdown: {e}");
            }
        }
    }
}

fn build_sinks(cfg: &RouterConfig) -> Result<Vec<Sink>, SinkError> {
    let json = cfg.json_output;
    let mut sinks = Vec::new();
    if cfg.stdout.enabled {
        sinks.push(Sink::Stdout { json });
    }
    if cfg.file.enabled {
        sinks.push(Sink::File(FileSink::new(&cfg.file, json)?));
    }
    if cfg.syslog.enabled {
        sinks.push(Sink::Syslog(SyslogSink::new(&cfg.syslog, json, &cfg.hostname)?));
    }
    if cfg.http.enabled {
        sinks.push(Sink::Http(HttpSink::new(&cfg.http)?));
    }
    if cfg.program.enabled {
        sinks.push(Sink::Program(ProgramSink::new(&cfg.program, json)?));
    }
    if cfg.nats.enabled {
        sinks.push(Sink::Nats(NatsSink::new(&cfg.nats)?));
    }
    Ok(sinks)
}

/// Delivers `batch` in full, retrying the undelivered rest with backoff; `false` when it gave up (shutdown
/// deadline passed while the sink was failing), with `done` saying how much arrived.
async fn deliver_all(sink: &mut Sink, batch: &[Arc<Envelope>], shared: &Shared, done: &mut usize) -> bool {
    let name = sink.name();
    let label = sink_label(name);
    let mut backoff = Duration::from_millis(50);
    let mut failing = false;
    while *done < batch.len() {
        match sink.deliver(&batch[*done..]).await {
            Ok(()) => {
                shared
                    .metrics
                    .delivered
                    .get_or_create(&label)
                    .inc_by((batch.len() - *done) as u64);
                *done = batch.len();
            }
            Err(p) => {
                *done += p.delivered;
                shared
                    .metrics
                    .delivered
                    .get_or_create(&label)
                    .inc_by(p.delivered as u64);
                shared.metrics.failures.get_or_create(&label).inc();
                shared.metrics.sink_up.get_or_create(&label).set(0);
                if !failing {
                    tracing::warn!("output {name} failing, retrying: {}", p.error);
                    failing = true;
                }
                if shared.past_give_up() {
                    return false;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    if failing {
        tracing::warn!("output {name} delivering again");
    }
    shared.metrics.sink_up.get_or_create(&label).set(1);
    true
}

async fn memory_worker(mut sink: Sink, mut rx: mpsc::Receiver<Arc<Envelope>>, shared: Arc<Shared>) {
    let name = sink.name();
    shared.metrics.sink_up.get_or_create(&sink_label(name)).set(1);
    loop {
        let first = match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(_) if shared.stopping.load(Ordering::Relaxed) && rx.is_empty() => break,
            Err(_) => continue,
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let mut done = 0;
        if !deliver_all(&mut sink, &batch, &shared, &mut done).await {
            let lost = (batch.len() - done) as u64 + rx.len() as u64;
            tracing::error!("output {name}: giving up at shutdown, {lost} alerts not delivered");
            shared
                .metrics
                .dropped
                .get_or_create(&vec![
                    ("sink".to_string(), name.to_string()),
                    ("reason".to_string(), "shutdown".to_string()),
                ])
                .inc_by(lost);
            break;
        }
    }
}

async fn durable_worker(mut sink: Sink, spool: Spool, shared: Arc<Shared>) {
    let name = sink.name();
    let label = sink_label(name);
    let mut reader = spool.reader(name);
    shared.metrics.sink_up.get_or_create(&label).set(1);
    loop {
        // Register for the wake-up before looking, so an append between the look and the wait is not missed.
        let wake = shared.wake.clone();
        let notified = wake.notified();
        let records = match reader.next_batch(BATCH, 4 << 20) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("output {name}: reading the spool: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(last_seq) = records.last().map(|r| r.seq) else {
            if shared.stopping.load(Ordering::Relaxed) {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            continue;
        };
        let batch: Vec<Arc<Envelope>> = records
            .iter()
            .filter_map(|r| {
                let env = Envelope::decode(&r.payload);
                if env.is_none() {
                    tracing::error!("output {name}: spool record {} is not an alert; skipped", r.seq);
                    shared.count_drop(name, "undecodable");
                }
                env.map(Arc::new)
            })
            .collect();
        let mut done = 0;
        if !deliver_all(&mut sink, &batch, &shared, &mut done).await {
            // Whatever was not delivered stays in the spool for the next run.
            tracing::warn!(
                "output {name}: {} alerts left in the spool at shutdown",
                spool.pending(name)
            );
            break;
        }
        if let Err(e) = spool.commit(name, last_seq + 1) {
            tracing::error!("output {name}: saving the spool cursor: {e}");
        }
        shared
            .metrics
            .queue_depth
            .get_or_create(&label)
            .set(spool.pending(name) as i64);
    }
}

/// Batched fsync of the spool, gauges, and the rate-limit report (an alert of its own: suppression is never silent).
async fn housekeeping(shared: Arc<Shared>, fsync_interval: Duration) {
    let mut last_report = Instant::now();
    loop {
        tokio::time::sleep(fsync_interval).await;
        if let Some(spool) = shared.spool.clone() {
            let res = tokio::task::spawn_blocking(move || {
                let r = spool.sync();
                (r, spool.used_bytes(), spool)
            })
            .await;
            if let Ok((r, bytes, spool)) = res {
                if let Err(e) = r {
                    tracing::error!("spool fsync: {e}");
                }
                shared.metrics.spool_bytes.set(bytes as i64);
                for name in &shared.durable {
                    shared
                        .metrics
                        .queue_depth
                        .get_or_create(&sink_label(name))
                        .set(spool.pending(name) as i64);
                }
            }
        }
        for q in &shared.memory {
            let depth = q.tx.max_capacity() - q.tx.capacity();
            shared
                .metrics
                .queue_depth
                .get_or_create(&sink_label(q.name))
                .set(depth as i64);
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            let suppressed = shared.lock_limiter().take_suppressed();
            if let Some(alert) = suppression_alert(&suppressed) {
                tracing::warn!("{}", alert.message);
                shared.route(Envelope::new(&alert, &shared.hostname));
            }
        }
    }
}

/// The alert reporting what the token buckets suppressed in the last interval, per rule.
pub fn suppression_alert(suppressed: &[(Arc<str>, u64)]) -> Option<Alert> {
    if suppressed.is_empty() {
        return None;
    }
    let total: u64 = suppressed.iter().map(|(_, n)| n).sum();
    let per_rule: Vec<String> = suppressed.iter().map(|(r, n)| format!("{r}: {n}")).collect();
    let time_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    Some(Alert {
        time_ns,
        rule: Arc::from("mamoru internal: alerts rate limited"),
        priority: Priority::Warning,
        source: "internal",
        tags: vec!["internal".into(), "mamoru".into()],
        message: format!(
            "mamoru internal: alerts rate limited. {total} alerts suppressed by outputs.rate ({})",
            per_rule.join(", ")
        ),
        output_fields: vec![
            ("n_suppressed".into(), FieldJson::U64(total)),
            (
                "suppressed_rules".into(),
                FieldJson::Array(per_rule.into_iter().map(FieldJson::String).collect()),
            ),
        ],
        subject: None,
    })
}
