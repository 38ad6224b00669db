//! The router end to end with real sinks: a stuck sink does not hold back another, full queues and rate limits are
//! counted and reported, syslog and HTTP receive what they should, the metrics endpoint guards itself.

use super::{alert, base};
use mamoru_alerts::config::*;
use mamoru_alerts::{Accepted, AlertMetrics, Health, MetricsRegistry, MetricsServer, Router};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn file_lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_stuck_sink_holds_back_neither_another_sink_nor_the_sender() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alerts.json");
    let mut cfg = base(dir.path());
    cfg.file = FileOutput {
        enabled: true,
        filename: out.clone(),
        ..FileOutput::default()
    };
    // A program that never reads its stdin: its pipe fills and its worker blocks for good.
    cfg.program = ProgramOutput {
        enabled: true,
        keep_alive: true,
        // exec: the child is the sleep itself (killed with the sink); no inherited stdout/stderr, so a stuck child
        // never holds the test runner's output pipe open.
        program: "exec sleep 600 >/dev/null 2>&1".into(),
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let ids: Vec<String> = (0..3000)
        .map(|n| match router.send(&alert("r", n)) {
            Accepted::Queued(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    wait_for("the file sink", || file_lines(&out).len() >= ids.len());
    let got: Vec<String> = file_lines(&out)
        .iter()
        .map(|v| v["uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, ids, "every alert, once, in order");
    router.shutdown(Duration::from_millis(200));
}

#[test]
fn full_memory_queue_drops_are_counted_per_sink() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = base(dir.path());
    cfg.spool.enabled = false;
    cfg.queue.capacity = 4;
    cfg.program = ProgramOutput {
        enabled: true,
        keep_alive: true,
        // exec: the child is the sleep itself (killed with the sink); no inherited stdout/stderr, so a stuck child
        // never holds the test runner's output pipe open.
        program: "exec sleep 600 >/dev/null 2>&1".into(),
    };
    let metrics = AlertMetrics::default();
    let registry = MetricsRegistry::new();
    registry.with(|r| metrics.register_metrics(r));
    let router = Router::start(&cfg, metrics).unwrap();
    let big = "x".repeat(100_000);
    let mut dropped = 0;
    for n in 0..50 {
        let mut a = alert("r", n);
        a.message = big.clone();
        if let Accepted::Partly { dropped: sinks, .. } = router.send(&a) {
            assert_eq!(sinks, vec!["program"]);
            dropped += 1;
        }
    }
    assert!(dropped > 0);
    let text = registry.encode();
    assert!(
        text.contains(&format!(
            "mamoru_alerts_dropped_total{{sink=\"program\",reason=\"queue_full\"}} {dropped}"
        )),
        "{text}"
    );
    router.shutdown(Duration::from_millis(100));
}

#[test]
fn rate_limited_alerts_are_reported_in_an_alert_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alerts.json");
    let mut cfg = base(dir.path());
    cfg.file = FileOutput {
        enabled: true,
        filename: out.clone(),
        ..FileOutput::default()
    };
    cfg.rate = RateLimit {
        rate: 0.001,
        max_burst: 2,
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let results: Vec<Accepted> = (0..10).map(|n| router.send(&alert("noisy", n))).collect();
    assert_eq!(results.iter().filter(|r| **r == Accepted::RateLimited).count(), 8);
    assert!(matches!(router.send(&alert("quiet", 0)), Accepted::Queued(_)));
    wait_for("the suppression report", || {
        file_lines(&out)
            .iter()
            .any(|v| v["rule"] == "mamoru internal: alerts rate limited")
    });
    let report = file_lines(&out)
        .into_iter()
        .find(|v| v["rule"] == "mamoru internal: alerts rate limited")
        .unwrap();
    assert_eq!(report["output_fields"]["n_suppressed"], 8);
    assert_eq!(
        report["output_fields"]["suppressed_rules"],
        serde_json::json!(["noisy: 8"])
    );
    router.shutdown(Duration::from_millis(200));
}

#[test]
fn syslog_over_udp_gets_rfc5424_with_the_alert_id() {
    let dir = tempfile::tempdir().unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut cfg = base(dir.path());
    cfg.syslog = SyslogOutput {
        enabled: true,
        transport: SyslogTransport::Udp,
        address: rx.local_addr().unwrap().to_string(),
        facility: 1,
        app_name: "mamoru".into(),
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let Accepted::Queued(id) = router.send(&alert("r", 1)) else {
        panic!()
    };
    let mut buf = [0u8; 65536];
    let n = rx.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    // user facility (1) * 8 + warning severity (4)
    assert!(msg.starts_with("<12>1 "), "{msg}");
    assert!(msg.contains(" test-host mamoru "), "{msg}");
    assert!(msg.contains(&format!("uuid=\"{id}\"")), "{msg}");
    let json = &msg[msg.find("] ").unwrap() + 2..];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["uuid"], id.as_str());
    router.shutdown(Duration::from_millis(200));
}

/// A one-connection-at-a-time HTTP server: answers 503 to the first request, then 200; returns what it got.
fn webhook() -> (String, std::thread::JoinHandle<Vec<(String, String)>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let mut got = Vec::new();
        for (i, conn) in l.incoming().take(3).enumerate() {
            let mut s = conn.unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0;
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                head.push_str(&line);
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            got.push((head, String::from_utf8(body).unwrap()));
            let status = if i == 0 { "503 Service Unavailable" } else { "200 OK" };
            write!(s, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        }
        got
    });
    (url, h)
}

#[test]
fn http_webhook_gets_falcos_json_with_custom_headers_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    let (url, server) = webhook();
    let mut cfg = base(dir.path());
    cfg.http = HttpOutput {
        enabled: true,
        url,
        custom_headers: [("X-Token".to_string(), "s3cret".to_string())].into(),
        ..HttpOutput::default()
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let Accepted::Queued(id1) = router.send(&alert("r", 1)) else {
        panic!()
    };
    let Accepted::Queued(id2) = router.send(&alert("r", 2)) else {
        panic!()
    };
    let got = server.join().unwrap();
    router.shutdown(Duration::from_millis(200));
    assert_eq!(got.len(), 3);
    let ids: Vec<String> = got
        .iter()
        .map(|(head, body)| {
            let head = head.to_ascii_lowercase();
            assert!(head.starts_with("post /alerts "), "{head}");
            assert!(head.contains("x-token: s3cret"), "{head}");
            assert!(head.contains("content-type: application/json"), "{head}");
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["hostname"], "test-host");
            v["uuid"].as_str().unwrap().to_string()
        })
        .collect();
    // The first POST was refused (503) and sent again: at-least-once, in order.
    assert_eq!(ids, vec![id1.clone(), id1, id2]);
}

fn http_get(addr: std::net::SocketAddr, path: &str, extra: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn metrics_and_health_on_loopback() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let registry = MetricsRegistry::new();
    let metrics = AlertMetrics::default();
    registry.with(|r| metrics.register_metrics(r));
    metrics.alerts_in.inc_by(3);
    let health = Health::default();
    let cfg = WebserverConfig {
        enabled: true,
        listen_port: 0,
        ..WebserverConfig::default()
    };
    let server = rt
        .block_on(MetricsServer::start(&cfg, registry.clone(), health.clone()))
        .unwrap();
    let addr = server.local_addr;
    let body = rt.block_on(async {
        tokio::task::spawn_blocking(move || http_get(addr, "/metrics", ""))
            .await
            .unwrap()
    });
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("mamoru_alerts_received_total 3"), "{body}");
    let down = rt.block_on(async {
        tokio::task::spawn_blocking(move || http_get(addr, "/healthz", ""))
            .await
            .unwrap()
    });
    assert!(down.starts_with("HTTP/1.1 503"), "{down}");
    health.set(true);
    let up = rt.block_on(async {
        tokio::task::spawn_blocking(move || http_get(addr, "/healthz", ""))
            .await
            .unwrap()
    });
    assert!(up.starts_with("HTTP/1.1 200"), "{up}");
}

#[test]
fn exposed_endpoint_needs_tls_and_token_and_checks_the_token() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let exposed = WebserverConfig {
        enabled: true,
        listen_address: "0.0.0.0".into(),
        listen_port: 0,
        ..WebserverConfig::default()
    };
    let err = rt
        .block_on(MetricsServer::start(
            &exposed,
            MetricsRegistry::new(),
            Health::default(),
        ))
        .err()
        .unwrap();
    assert!(err.to_string().contains("not loopback"), "{err}");

    // A self-signed certificate made with the openssl tool.
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is needed to make the test certificate");
    assert!(status.success());
    let token = dir.path().join("token");
    std::fs::write(&token, "tok-123\n").unwrap();
    let cfg = WebserverConfig {
        ssl_enabled: true,
        ssl_certificate: Some(cert.clone()),
        ssl_private_key: Some(key),
        bearer_token_file: Some(token),
        ..exposed
    };
    let server = rt
        .block_on(MetricsServer::start(&cfg, MetricsRegistry::new(), Health::default()))
        .unwrap();
    let port = server.local_addr.port();
    let pem = std::fs::read(&cert).unwrap();
    let get = |auth: &'static str| {
        let pem = pem.clone();
        rt.block_on(async move {
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pemfile_certs(&pem) {
                roots.add(c).unwrap();
            }
            let config =
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth();
            let conn = tokio_rustls::TlsConnector::from(Arc::new(config));
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
            let mut tls = conn.connect(name, tcp).await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            tls.write_all(format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{auth}\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            let _ = tls.read_to_string(&mut out).await;
            out
        })
    };
    assert!(get("").starts_with("HTTP/1.1 401"));
    assert!(get("Authorization: Bearer wrong\r\n").starts_with("HTTP/1.1 401"));
    assert!(get("Authorization: Bearer tok-123\r\n").starts_with("HTTP/1.1 200"));
}

fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls_pki_types::CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.unwrap())
        .collect()
}
