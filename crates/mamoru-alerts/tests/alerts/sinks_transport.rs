//! The sink transports not covered in router.rs, each against a real peer: syslog over TCP (RFC 6587 octet
//! counting) and over a local datagram socket, the program sink in both of Falco's modes, and the HTTPS webhook
//! with mutual TLS (a server that demands a client certificate signed by its CA).

use super::{alert, base};
use mamoru_alerts::config::*;
use mamoru_alerts::{Accepted, AlertMetrics, Router};
use mamoru_engine::Alert;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn queued(router: &Router, a: &Alert) -> String {
    match router.send(a) {
        Accepted::Queued(id) => id,
        other => panic!("alert not queued: {other:?}"),
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads one RFC 6587 octet-counted frame: `LEN SP MSG`.
fn read_octet_counted(r: &mut impl BufRead) -> String {
    let mut len = Vec::new();
    r.read_until(b' ', &mut len).unwrap();
    let len: usize = std::str::from_utf8(&len[..len.len() - 1]).unwrap().parse().unwrap();
    let mut msg = vec![0; len];
    r.read_exact(&mut msg).unwrap();
    String::from_utf8(msg).unwrap()
}

fn uuid_of(msg: &str) -> String {
    let json = &msg[msg.find("] ").unwrap() + 2..];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["uuid"].as_str().unwrap().to_string()
}

#[test]
fn syslog_over_tcp_is_octet_counted_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = base(dir.path());
    cfg.syslog = SyslogOutput {
        enabled: true,
        transport: SyslogTransport::Tcp,
        address: listener.local_addr().unwrap().to_string(),
        facility: 4,
        app_name: "mamoru".into(),
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let ids: Vec<String> = (0..3).map(|n| queued(&router, &alert("r", n))).collect();
    let (conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut r = BufReader::new(conn);
    let got: Vec<String> = (0..3).map(|_| read_octet_counted(&mut r)).collect();
    // auth facility (4) * 8 + warning severity (4)
    assert!(got.iter().all(|m| m.starts_with("<36>1 ")), "{got:?}");
    assert_eq!(got.iter().map(|m| uuid_of(m)).collect::<Vec<_>>(), ids);
    router.shutdown(Duration::from_millis(500));
}

#[test]
fn syslog_over_the_local_socket_gets_one_datagram_per_alert() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let rx = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut cfg = base(dir.path());
    cfg.syslog = SyslogOutput {
        enabled: true,
        transport: SyslogTransport::Local,
        address: path.to_string_lossy().into_owned(),
        facility: 1,
        app_name: "mamoru".into(),
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let ids: Vec<String> = (0..2).map(|n| queued(&router, &alert("r", n))).collect();
    let mut buf = [0u8; 65536];
    let mut got = Vec::new();
    for _ in 0..2 {
        let n = rx.recv(&mut buf).unwrap();
        got.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    assert!(
        got.iter()
            .all(|m| m.starts_with("<12>1 ") && m.contains(" test-host mamoru ")),
        "{got:?}"
    );
    assert_eq!(got.iter().map(|m| uuid_of(m)).collect::<Vec<_>>(), ids);
    router.shutdown(Duration::from_millis(500));
}

/// Runs the program sink with `keep_alive` and returns (the alert ids it received in order, distinct shell pids).
fn program_run(keep_alive: bool, alerts: u64) -> (Vec<String>, Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let pids = dir.path().join("pids");
    let mut cfg = base(dir.path());
    cfg.program = ProgramOutput {
        enabled: true,
        keep_alive,
        program: format!("echo $$ >> {}; cat >> {}", pids.display(), out.display()),
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let ids: Vec<String> = (0..alerts).map(|n| queued(&router, &alert("r", n))).collect();
    let lines = || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["uuid"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    wait_for("the program's output", || lines().len() >= ids.len());
    router.shutdown(Duration::from_millis(500));
    let mut shells: Vec<String> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    shells.dedup();
    (ids, lines(), shells)
}

#[test]
fn program_without_keep_alive_runs_once_per_alert_as_falco_does() {
    let (ids, got, shells) = program_run(false, 3);
    assert_eq!(got, ids);
    assert_eq!(shells.len(), 3, "one program run per alert: {shells:?}");
}

#[test]
fn program_with_keep_alive_gets_every_alert_on_one_stdin() {
    let (ids, got, shells) = program_run(true, 5);
    assert_eq!(got, ids);
    assert_eq!(shells.len(), 1, "one long-running program: {shells:?}");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all made with the openssl tool.
struct Pki {
    ca: std::path::PathBuf,
    server_cert: std::path::PathBuf,
    server_key: std::path::PathBuf,
    client_cert: std::path::PathBuf,
    client_key: std::path::PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("openssl is needed to make the test certificates");
    assert!(status.success(), "openssl {args:?}");
}

fn make_pki(dir: &Path) -> Pki {
    let days = ["-days", "1"];
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            days[0],
            days[1],
        ],
    );
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE",
        ),
        ("client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-extfile",
                &format!("{name}.ext"),
                days[0],
                days[1],
            ],
        );
    }
    Pki {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
    }
}

/// What the mTLS test server saw: bodies of authenticated requests, and handshakes it refused.
type Seen = Arc<std::sync::Mutex<(Vec<String>, usize)>>;

/// An HTTPS server that requires a client certificate from `pki.ca`; answers 200 to each POST and reports the
/// bodies of the requests of authenticated clients and the number of refused handshakes.
fn mtls_server(pki: &Pki) -> (String, Seen) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&pki.ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&pki.server_cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(&pki.server_key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/alerts", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let seen = seen2.clone();
            std::thread::spawn(move || {
                let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
                let mut r = BufReader::new(&mut tls);
                loop {
                    let mut len = 0;
                    let mut first = String::new();
                    match r.read_line(&mut first) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(_) => {
                            seen.lock().unwrap().1 += 1;
                            return;
                        }
                    }
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    seen.lock().unwrap().0.push(String::from_utf8(body).unwrap());
                    use std::io::Write;
                    let tls = r.get_mut();
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                    let _ = tls.flush();
                }
            });
        }
    });
    (url, seen)
}

#[test]
fn https_webhook_with_mutual_tls_delivers_and_a_client_without_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (url, seen) = mtls_server(&pki);

    // Without a client certificate the server refuses the handshake: nothing is delivered, the alert waits.
    let mut cfg = base(&dir.path().join("no-cert"));
    cfg.http = HttpOutput {
        enabled: true,
        url: url.clone(),
        ca_cert: Some(pki.ca.clone()),
        ..HttpOutput::default()
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    queued(&router, &alert("r", 0));
    wait_for("a refused handshake", || seen.lock().unwrap().1 >= 1);
    router.shutdown(Duration::from_millis(200));
    assert!(
        seen.lock().unwrap().0.is_empty(),
        "delivered without a client certificate"
    );

    // With the client certificate every alert arrives, in order, in Falco's schema.
    let mut cfg = base(&dir.path().join("mtls"));
    cfg.http = HttpOutput {
        enabled: true,
        url,
        ca_cert: Some(pki.ca.clone()),
        mtls: true,
        client_cert: Some(pki.client_cert.clone()),
        client_key: Some(pki.client_key.clone()),
        ..HttpOutput::default()
    };
    let router = Router::start(&cfg, AlertMetrics::default()).unwrap();
    let ids: Vec<String> = (1..4).map(|n| queued(&router, &alert("r", n))).collect();
    wait_for("three alerts over mTLS", || seen.lock().unwrap().0.len() >= 3);
    router.shutdown(Duration::from_millis(500));
    let got: Vec<serde_json::Value> = seen
        .lock()
        .unwrap()
        .0
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(
        got.iter()
            .map(|v| v["uuid"].as_str().unwrap().to_string())
            .collect::<Vec<_>>(),
        ids
    );
    assert!(got
        .iter()
        .all(|v| v["rule"] == "r" && v["priority"] == "Warning" && v["hostname"] == "test-host"));
}
