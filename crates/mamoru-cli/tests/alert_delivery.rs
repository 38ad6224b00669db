//! No alert lost: a real NATS JetStream server (Debian's nats-server, started here on a free port) is stopped for 30
//! seconds in the middle of a stream of alerts, and the agent producing them is SIGKILLed while the server is down
//! and started again on the same spool. Every alert id the router accepted must be in the stream, in the order it
//! was accepted, and a consumer deduplicating by id must see each exactly once.
//!
//! The producer is `mamoru bench outputs --sink nats --ids FILE`: the real router, sink and spool, with every
//! accepted id written to FILE as soon as `send` returns. Needs `nats-server` (scripts/setup-deps installs it); the
//! test fails, loudly, without it.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const MAMORU: &str = env!("CARGO_BIN_EXE_mamoru");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn nats_server_binary() -> PathBuf {
    for p in [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("nats-server is not installed (scripts/setup-deps installs Debian's nats-server)");
}

/// A nats-server with JetStream on, its store in `store`, killed on drop.
struct NatsServer {
    child: Child,
}

impl NatsServer {
    fn start(port: u16, store: &Path) -> NatsServer {
        let child = Command::new(nats_server_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nats-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on {port}");
            sleep(Duration::from_millis(50));
        }
        NatsServer { child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The alert producer, killed on drop.
struct Producer {
    child: Child,
}

impl Producer {
    fn start(port: u16, dir: &Path, ids: &Path, alerts: u64, rate: u64) -> Producer {
        let child = Command::new(MAMORU)
            .args([
                "bench",
                "outputs",
                "--sink",
                "nats",
                "--no-measure",
                "--drain-seconds",
                "60",
            ])
            .args(["--nats-url", &format!("nats://127.0.0.1:{port}")])
            .args(["--alerts", &alerts.to_string(), "--rate", &rate.to_string()])
            .arg("--dir")
            .arg(dir)
            .arg("--ids")
            .arg(ids)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting mamoru bench outputs");
        Producer { child }
    }

    fn sigkill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }

    fn wait(mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            sleep(Duration::from_millis(100));
        }
        panic!("producer did not finish within {limit:?}");
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_ids(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.len() == 36)
        .map(str::to_string)
        .collect()
}

/// The alert id of every message of the stream, in stream order.
fn stream_contents(port: u16) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(format!("nats://127.0.0.1:{port}")).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("MAMORU_BENCH").await.unwrap();
        let info = stream.info().await.unwrap().clone();
        let mut out = Vec::new();
        for seq in info.state.first_sequence..=info.state.last_sequence {
            let msg = stream.get_raw_message(seq).await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap();
            assert_eq!(v["rule"], "mamoru bench alert", "Falco schema kept");
            assert!(
                msg.subject.as_str().starts_with("mamorubench.syscall.warning"),
                "{}",
                msg.subject
            );
            out.push(v["uuid"].as_str().unwrap().to_string());
        }
        out
    })
}

#[test]
fn every_alert_arrives_across_a_30s_nats_outage_and_an_agent_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let store = tmp.path().join("jetstream");
    let agent_dir = tmp.path().join("agent");
    let (ids1, ids2) = (tmp.path().join("ids1"), tmp.path().join("ids2"));

    let server = NatsServer::start(port, &store);
    // 400 alerts/s for far longer than the test: this producer is killed.
    let p1 = Producer::start(port, &agent_dir, &ids1, 1_000_000, 400);
    sleep(Duration::from_secs(3));
    let before_outage = read_ids(&ids1).len();
    assert!(before_outage > 0, "producer sent nothing before the outage");

    server.stop();
    let outage = Instant::now();
    sleep(Duration::from_secs(12));
    // SIGKILL while the sink is down: the alerts of the outage are only in the spool.
    p1.sigkill();
    let accepted1 = read_ids(&ids1);
    let p2 = Producer::start(port, &agent_dir, &ids2, 6_000, 400);
    let remaining = Duration::from_secs(30).saturating_sub(outage.elapsed());
    sleep(remaining);
    let server = NatsServer::start(port, &store);
    assert!(p2.wait(Duration::from_secs(120)), "second producer failed");
    let accepted2 = read_ids(&ids2);

    let stored = stream_contents(port);
    server.stop();

    let expected: Vec<String> = accepted1.iter().chain(&accepted2).cloned().collect();
    assert!(
        accepted1.len() > before_outage + 3000,
        "first producer ran through the outage"
    );
    assert_eq!(accepted2.len(), 6_000);
    // The consumer deduplicates by id; at-least-once may resend, JetStream's Nats-Msg-Id dedup drops most of that.
    let mut seen = HashSet::new();
    let mut first_arrivals = Vec::new();
    let mut duplicates = 0;
    for uuid in &stored {
        if seen.insert(uuid.clone()) {
            first_arrivals.push(uuid.clone());
        } else {
            duplicates += 1;
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} alerts never arrived, e.g. {:?}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(3)]
    );
    // In order: the accepted ids appear in acceptance order (ids the killed producer spooled but had not yet
    // recorded may sit between them).
    let expected_set: HashSet<&String> = expected.iter().collect();
    let arrived_order: Vec<&String> = first_arrivals.iter().filter(|id| expected_set.contains(id)).collect();
    assert!(
        arrived_order.iter().copied().eq(expected.iter()),
        "alerts arrived out of order"
    );
    eprintln!(
        "delivery: {} accepted ({} before kill, {} after restart), {} stored, {} duplicates removed by the consumer",
        expected.len(),
        accepted1.len(),
        accepted2.len(),
        stored.len(),
        duplicates
    );
}
