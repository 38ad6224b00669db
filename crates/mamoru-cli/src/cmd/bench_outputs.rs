//! `mamoru bench outputs`: alert delivery through the real router to the file or NATS JetStream sink, with the
//! spool on. Alerts are generated at a fixed rate (or as fast as the router takes them), each stamped with its
//! creation time as `evt.time`; a consumer (a tail of the file, or a NATS subscriber) takes them off the sink and
//! measures event-to-sink latency (p50/p99) and throughput.
//!
//! With `--ids FILE` and `--no-measure` it is the load generator of the delivery tests: every alert id the router
//! accepted is appended to FILE as soon as `send` returns, so a test can kill the process at any point and still
//! know which alerts must arrive.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use mamoru_alerts::config::{FileOutput, NatsOutput, SpoolConfig, StdoutOutput};
use mamoru_alerts::{Accepted, AlertMetrics, Router, RouterConfig};
use mamoru_engine::{Alert, FieldJson};
use mamoru_rules::Priority;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, ValueEnum)]
pub enum BenchSink {
    File,
    Nats,
}

#[derive(Args)]
pub struct OutputsArgs {
    #[arg(long, value_enum)]
    pub sink: BenchSink,
    /// Alerts to send.
    #[arg(long, default_value_t = 100_000)]
    pub alerts: u64,
    /// Alerts per second (0: as fast as the router takes them).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Working directory: spool, and the file sink's file (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Append each accepted alert id to this file as soon as it is accepted.
    #[arg(long)]
    pub ids: Option<PathBuf>,
    /// Only generate (no consumer, no latency figures).
    #[arg(long)]
    pub no_measure: bool,
    /// How long the end of the run waits for the sink to drain.
    #[arg(long, default_value_t = 60.0)]
    pub drain_seconds: f64,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn bench_alert(n: u64) -> Alert {
    Alert {
        time_ns: now_ns(),
        rule: Arc::from("mamoru bench alert"),
        priority: Priority::Warning,
        source: "syscall",
        tags: vec!["bench".into()],
        message: format!(
            "Benchmark alert {n} (proc.cmdline=bench --flag value fd.name=/etc/shadow user.name=root container.id=host)"
        ),
        output_fields: vec![
            ("bench.n".into(), FieldJson::U64(n)),
            ("container.id".into(), FieldJson::String("host".into())),
            ("fd.name".into(), FieldJson::String("/etc/shadow".into())),
            ("proc.cmdline".into(), FieldJson::String("bench --flag value".into())),
            ("user.name".into(), FieldJson::String("root".into())),
        ],
        subject: None,
    }
}

pub fn run(args: OutputsArgs) -> Result<ExitCode> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().context("temporary directory")?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let file_path = dir.join("alerts.json");
    let mut cfg = RouterConfig {
        json_output: true,
        hostname: "bench".into(),
        stdout: StdoutOutput { enabled: false },
        spool: SpoolConfig {
            directory: dir.join("spool"),
            ..SpoolConfig::default()
        },
        ..RouterConfig::default()
    };
    match args.sink {
        BenchSink::File => {
            cfg.file = FileOutput {
                enabled: true,
                filename: file_path.clone(),
                max_size_mb: 0,
                ..FileOutput::default()
            }
        }
        BenchSink::Nats => {
            cfg.nats = NatsOutput {
                enabled: true,
                url: args.nats_url.clone(),
                stream: "MAMORU_BENCH".into(),
                subject_prefix: "mamorubench".into(),
                ..NatsOutput::default()
            }
        }
    }
    let metrics = AlertMetrics::default();
    let router = Router::start(&cfg, metrics.clone())?;
    let done = Arc::new(AtomicBool::new(false));
    let (lat_tx, lat_rx) = mpsc::channel::<(u64, u64)>();
    // The consumer says when it is listening, so that it sees the first alert too (a core NATS subscriber that
    // connects late misses what was published before it).
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let consumer = if args.no_measure {
        None
    } else {
        let done = done.clone();
        let expect = args.alerts;
        Some(match args.sink {
            BenchSink::File => {
                let _ = ready_tx.send(());
                std::thread::spawn(move || tail_file(file_path, expect, done, lat_tx))
            }
            BenchSink::Nats => {
                let handle = router.handle().context("runtime")?;
                let url = args.nats_url.clone();
                std::thread::spawn(move || handle.block_on(subscribe_nats(url, expect, done, lat_tx, ready_tx)))
            }
        })
    };
    if consumer.is_some() && ready_rx.recv_timeout(Duration::from_secs(10)).is_err() {
        bail!("the benchmark's consumer did not start (see the message above)");
    }
    let mut ids = match &args.ids {
        Some(p) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| p.display().to_string())?,
        ),
        None => None,
    };
    let start = Instant::now();
    let mut refused = 0u64;
    for n in 0..args.alerts {
        if args.rate > 0.0 {
            let due = start + Duration::from_secs_f64(n as f64 / args.rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        match router.send(&bench_alert(n)) {
            Accepted::Queued(id) => {
                if let Some(f) = ids.as_mut() {
                    // One write per id: it must be on record even if the process is killed right after.
                    f.write_all(format!("{id}\n").as_bytes()).context("ids file")?;
                }
            }
            Accepted::Partly { .. } | Accepted::RateLimited => refused += 1,
        }
    }
    let sent_in = start.elapsed();
    let mut latencies = Vec::with_capacity(args.alerts as usize);
    let mut last_arrival = start;
    if let Some(consumer) = consumer {
        let deadline = Instant::now() + Duration::from_secs_f64(args.drain_seconds);
        while (latencies.len() as u64) < args.alerts - refused && Instant::now() < deadline {
            if let Ok((_, lat)) = lat_rx.recv_timeout(Duration::from_millis(100)) {
                latencies.push(lat);
                last_arrival = Instant::now();
            }
        }
        done.store(true, Ordering::Relaxed);
        let _ = consumer.join();
    }
    router.shutdown(Duration::from_secs_f64(args.drain_seconds));
    println!(
        "sent {} alerts in {:.3} s ({:.0}/s offered); refused {refused}",
        args.alerts,
        sent_in.as_secs_f64(),
        args.alerts as f64 / sent_in.as_secs_f64().max(1e-9)
    );
    if args.no_measure {
        return Ok(ExitCode::SUCCESS);
    }
    if latencies.is_empty() {
        bail!("no alert reached the sink");
    }
    let received = latencies.len();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((received as f64 - 1.0) * p).round() as usize] as f64 / 1e6;
    let span = last_arrival.duration_since(start).as_secs_f64();
    println!(
        "sink {}: received {received} of {}; throughput {:.0} alerts/s; latency event->sink p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        match args.sink {
            BenchSink::File => "file",
            BenchSink::Nats => "nats",
        },
        args.alerts,
        received as f64 / span.max(1e-9),
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    Ok(if received as u64 == args.alerts - refused {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The `evt.time` of a JSON alert and the latency to now.
fn latency_of(json: &[u8]) -> Option<(u64, u64)> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let n = v["output_fields"]["bench.n"].as_u64()?;
    let t = v["output_fields"]["evt.time"].as_u64()?;
    Some((n, now_ns().saturating_sub(t)))
}

fn tail_file(path: PathBuf, expect: u64, done: Arc<AtomicBool>, tx: mpsc::Sender<(u64, u64)>) {
    let mut seen = 0u64;
    let mut pos = 0u64;
    let mut partial = Vec::new();
    while seen < expect && !done.load(Ordering::Relaxed) {
        let Ok(mut f) = std::fs::File::open(&path) else {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        };
        if f.seek(SeekFrom::Start(pos)).is_err() {
            continue;
        }
        let mut r = BufReader::new(f);
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    pos += n as u64;
                    if line.ends_with(b"\n") {
                        partial.extend_from_slice(&line);
                        if let Some(m) = latency_of(&partial) {
                            seen += 1;
                            let _ = tx.send(m);
                        }
                        partial.clear();
                    } else {
                        partial.extend_from_slice(&line);
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

async fn subscribe_nats(
    url: String,
    expect: u64,
    done: Arc<AtomicBool>,
    tx: mpsc::Sender<(u64, u64)>,
    ready: mpsc::Sender<()>,
) {
    let client = match async_nats::connect(url.as_str()).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: consumer cannot connect to {url}: {e}");
            return;
        }
    };
    let mut sub = match client.subscribe("mamorubench.>").await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: subscribe: {e}");
            return;
        }
    };
    // The subscription is registered with the server once a flush round trip completes.
    if let Err(e) = client.flush().await {
        eprintln!("bench: flush: {e}");
        return;
    }
    let _ = ready.send(());
    let mut seen = 0u64;
    while seen < expect && !done.load(Ordering::Relaxed) {
        use futures_lite_next::next;
        match tokio::time::timeout(Duration::from_millis(100), next(&mut sub)).await {
            Ok(Some(msg)) => {
                if let Some(m) = latency_of(&msg.payload) {
                    seen += 1;
                    let _ = tx.send(m);
                }
            }
            Ok(None) => break,
            Err(_) => {}
        }
    }
}

/// `StreamExt::next` without another dependency: the subscriber is a `futures` Stream.
mod futures_lite_next {
    use std::future::poll_fn;
    use std::pin::Pin;

    pub async fn next<S: futures_core::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
        poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
    }
}
