//! Test harness: the evaluator the lead runs in `mamoru run` (a thread draining the batch channel with one
//! `JsonPipeline` per source, committing each batch after evaluating it), fixtures, and helpers.
#![allow(dead_code)]

use mamoru_cli::pipeline::JsonPipeline;
use mamoru_cli::rulesets::{known_sources, Rulesets, BUNDLED_RULES};
use mamoru_engine::{EngineConfig, RuleMatching};
use mamoru_fields::json::JsonContext;
use mamoru_inputs::{batch_channel, BatchReceiver, BatchSender};
use mamoru_records::{Record, RecordSource};
use mamoru_rules::{load_sources, LoadOptions, Priority};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo_file(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The identity of a record, per source (what "no duplicate, no gap" is checked on).
pub fn record_id(source: RecordSource, r: &Record) -> String {
    let v = r.value();
    let key = match source {
        RecordSource::K8sAudit => "/auditID",
        RecordSource::CloudTrail => "/eventID",
        RecordSource::Okta => "/uuid",
        RecordSource::Github => "/after",
        RecordSource::GcpAudit => "/insertId",
    };
    v.pointer(key)
        .and_then(|x| x.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            v.get("webhook_type")
                .and_then(|x| x.as_str())
                .unwrap_or("?")
                .to_string()
        })
}

#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// (source, record id) in evaluation order.
    pub records: Vec<(String, String)>,
    /// (source, rule name, message) in order.
    pub alerts: Vec<(String, String, String)>,
    pub batches: usize,
}

impl Seen {
    pub fn ids(&self, source: &str) -> Vec<String> {
        self.records
            .iter()
            .filter(|(s, _)| s == source)
            .map(|(_, id)| id.clone())
            .collect()
    }

    pub fn rules(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (_, rule, _) in &self.alerts {
            *m.entry(rule.clone()).or_default() += 1;
        }
        m
    }

    pub fn alert_messages(&self, rule: &str) -> Vec<String> {
        self.alerts
            .iter()
            .filter(|(_, r, _)| r == rule)
            .map(|(_, _, m)| m.clone())
            .collect()
    }
}

/// The evaluator thread. `commit_limit`: commit only this many batches, then stop without committing the next
/// one (a crash between reading and evaluating).
pub struct Evaluator {
    pub seen: Arc<Mutex<Seen>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The bundled rules plus `extra` rules files (name, YAML).
pub fn rulesets(extra: &[(&str, &str)]) -> Rulesets {
    let mut files: Vec<(&str, &str)> = BUNDLED_RULES.to_vec();
    files.extend_from_slice(extra);
    let loaded = load_sources(&files, &LoadOptions::with_sources(known_sources()));
    let sets = Rulesets::compile(
        loaded,
        &EngineConfig {
            rule_matching: RuleMatching::All,
            min_priority: Priority::Debug,
        },
    );
    assert!(!sets.has_errors(), "rules compile: {:?}", sets.diagnostics);
    sets
}

impl Evaluator {
    pub fn start(
        rx: BatchReceiver,
        extra_rules: &'static [(&'static str, &'static str)],
        commit_limit: Option<usize>,
    ) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let out = seen.clone();
        let thread = std::thread::spawn(move || {
            let sets = rulesets(extra_rules);
            let mut rx = rx;
            let mut pipelines: BTreeMap<&str, JsonPipeline<'_>> = BTreeMap::new();
            for source in RecordSource::ALL {
                if let Some(rs) = sets.json_ruleset(source.name()) {
                    pipelines.insert(source.name(), JsonPipeline::new(rs, JsonContext::empty()));
                }
            }
            let mut committed = 0usize;
            while let Some(batch) = rx.blocking_recv() {
                if commit_limit.is_some_and(|l| committed >= l) {
                    // Crash: the batch is dropped unevaluated and the channel closes.
                    return;
                }
                let name = batch.source.name();
                let pipeline = pipelines.get_mut(name).expect("pipeline per source");
                for r in &batch.records {
                    let mut alerts = Vec::new();
                    pipeline.on_record(r, |a| alerts.push(a));
                    let mut s = out.lock().unwrap();
                    s.records.push((name.to_string(), record_id(batch.source, r)));
                    for a in alerts {
                        s.alerts.push((name.to_string(), a.rule.to_string(), a.message.clone()));
                    }
                }
                out.lock().unwrap().batches += 1;
                batch.commit();
                committed += 1;
            }
        });
        Evaluator {
            seen,
            thread: Some(thread),
        }
    }

    pub fn snapshot(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `pred` holds on what was evaluated (panics after a generous time).
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        let start = Instant::now();
        loop {
            let s = self.snapshot();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}: {s:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn join(mut self) -> Seen {
        if let Some(t) = self.thread.take() {
            t.join().expect("evaluator thread");
        }
        self.snapshot()
    }
}

pub fn channel() -> (BatchSender, BatchReceiver) {
    batch_channel(4)
}

/// Waits until `pred` holds (for counters), panicking after a generous time.
pub async fn eventually(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Exposition text of the inputs' metrics.
pub fn metrics_text(h: &mamoru_inputs::SourcesHandle) -> String {
    let mut reg = prometheus_client::registry::Registry::default();
    h.register_metrics(&mut reg);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg).unwrap();
    out
}

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, as PEM files in `dir`.
pub struct Pki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_pem: Vec<u8>,
    pub ca_pem: Vec<u8>,
    /// A client certificate from another CA (must be refused).
    pub rogue_client_pem: Vec<u8>,
}

fn ca(name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    let key = rcgen::KeyPair::generate().unwrap();
    (p.self_signed(&key).unwrap(), key)
}

fn leaf(names: &[&str], client: bool, issuer: &rcgen::Certificate, issuer_key: &rcgen::KeyPair) -> (String, String) {
    let mut p = rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.extended_key_usages = vec![if client {
        rcgen::ExtendedKeyUsagePurpose::ClientAuth
    } else {
        rcgen::ExtendedKeyUsagePurpose::ServerAuth
    }];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer, issuer_key).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    pub fn new(dir: &std::path::Path) -> Pki {
        let (ca_cert, ca_key) = ca("mamoru test CA");
        let (server_cert, server_key) = leaf(&["localhost", "127.0.0.1"], false, &ca_cert, &ca_key);
        let (client_cert, client_key) = leaf(&["kube-apiserver"], true, &ca_cert, &ca_key);
        let (rogue_ca, rogue_key) = ca("rogue CA");
        let (rogue_cert, rogue_client_key) = leaf(&["kube-apiserver"], true, &rogue_ca, &rogue_key);
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        Pki {
            ca: write("ca.pem", &ca_cert.pem()),
            server_cert: write("server.pem", &server_cert),
            server_key: write("server-key.pem", &server_key),
            client_pem: format!("{client_cert}{client_key}").into_bytes(),
            ca_pem: ca_cert.pem().into_bytes(),
            rogue_client_pem: format!("{rogue_cert}{rogue_client_key}").into_bytes(),
        }
    }

    /// An HTTPS client trusting the test CA, optionally presenting `identity` (cert + key PEM).
    pub fn client(&self, identity: Option<&[u8]>) -> reqwest::Client {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca_pem).unwrap())
            .timeout(Duration::from_secs(60));
        if let Some(id) = identity {
            b = b.identity(reqwest::Identity::from_pem(id).unwrap());
        }
        b.build().unwrap()
    }
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// moto's S3-compatible server, started on a free port and killed on drop.
pub struct Moto {
    child: std::process::Child,
    pub endpoint: String,
}

impl Moto {
    pub async fn start() -> Moto {
        let port = free_port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("moto_server not runnable ({e}): run scripts/setup-deps (pip install 'moto[server]')")
            });
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let start = Instant::now();
        while client.get(format!("{}/", moto.endpoint)).send().await.is_err() {
            assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto
    }

    /// Unsigned PUT (moto does not check signatures unless configured to).
    pub async fn put(&self, path: &str, body: Vec<u8>) {
        let r = reqwest::Client::new()
            .put(format!("{}/{path}", self.endpoint))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "PUT {path}: {}", r.status());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
