//! Prometheus metrics (a registry every component adds its own to) and the `/metrics` + health HTTP endpoint.
//!
//! The endpoint binds to loopback by default. Bound anywhere else it refuses to start without TLS (rustls) and a
//! bearer token, so metrics never leave the node in clear or unauthenticated.

use crate::config::WebserverConfig;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Label set of the per-sink and per-rule families.
pub type Labels = Vec<(String, String)>;

/// The shared registry: components register their metrics here; the endpoint encodes it on each scrape.
#[derive(Clone, Default)]
pub struct MetricsRegistry {
    inner: Arc<Mutex<Registry>>,
}

impl MetricsRegistry {
    pub fn new() -> Self {
        MetricsRegistry {
            inner: Arc::new(Mutex::new(Registry::with_prefix("mamoru"))),
        }
    }

    /// Runs `f` with the registry (to register metrics).
    pub fn with<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// The registry in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &g);
        out
    }
}

/// The router's metrics.
#[derive(Clone, Default)]
pub struct AlertMetrics {
    pub alerts_in: Counter,
    pub delivered: Family<Labels, Counter>,
    pub failures: Family<Labels, Counter>,
    pub dropped: Family<Labels, Counter>,
    pub suppressed: Family<Labels, Counter>,
    pub queue_depth: Family<Labels, Gauge>,
    pub sink_up: Family<Labels, Gauge>,
    pub spool_bytes: Gauge,
    pub spool_torn_records: Counter,
}

pub(crate) fn sink_label(sink: &str) -> Labels {
    vec![("sink".to_string(), sink.to_string())]
}

impl AlertMetrics {
    /// Registers every metric of the router.
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register("alerts_received", "Alerts handed to the router", self.alerts_in.clone());
        registry.register("alerts_delivered", "Alerts a sink accepted", self.delivered.clone());
        registry.register(
            "alert_delivery_failures",
            "Failed delivery attempts",
            self.failures.clone(),
        );
        registry.register(
            "alerts_dropped",
            "Alerts lost: in-memory queue full or spool full (by sink and reason)",
            self.dropped.clone(),
        );
        registry.register(
            "alerts_rate_limited",
            "Alerts suppressed by the per-rule token bucket",
            self.suppressed.clone(),
        );
        registry.register(
            "output_queue_depth",
            "Alerts waiting for each sink",
            self.queue_depth.clone(),
        );
        registry.register(
            "output_up",
            "1 while the sink delivers, 0 while it fails",
            self.sink_up.clone(),
        );
        registry.register(
            "spool_bytes",
            "Bytes held in the on-disk spool",
            self.spool_bytes.clone(),
        );
        registry.register(
            "spool_torn_records",
            "Torn or corrupt spool records cut off at start-up",
            self.spool_torn_records.clone(),
        );
    }
}

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("webserver: bound to {0}, which is not loopback: ssl_enabled with ssl_certificate and bearer_token_file are required")]
    Exposed(IpAddr),
    #[error("webserver: listen_address '{0}' is not an IP address")]
    Address(String),
    #[error("webserver: {what} {path}: {message}")]
    File {
        what: &'static str,
        path: String,
        message: String,
    },
    #[error("webserver: binding {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("webserver: ssl_enabled needs ssl_certificate")]
    NoCertificate,
}

/// Whether the health endpoint reports healthy (set by the agent once it runs, cleared when it stops).
#[derive(Clone, Default)]
pub struct Health(Arc<AtomicBool>);

impl Health {
    pub fn set(&self, ok: bool) {
        self.0.store(ok, Ordering::Relaxed);
    }
    pub fn ok(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The running endpoint.
pub struct MetricsServer {
    pub local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Served {
    registry: MetricsRegistry,
    health: Health,
    healthz: String,
    metrics_enabled: bool,
    token: Option<String>,
}

impl MetricsServer {
    /// Validates the configuration and starts serving on the current tokio runtime.
    pub async fn start(
        cfg: &WebserverConfig,
        registry: MetricsRegistry,
        health: Health,
    ) -> Result<MetricsServer, ServerError> {
        let ip: IpAddr = cfg
            .listen_address
            .parse()
            .map_err(|_| ServerError::Address(cfg.listen_address.clone()))?;
        if !ip.is_loopback() && (!cfg.ssl_enabled || cfg.ssl_certificate.is_none() || cfg.bearer_token_file.is_none()) {
            return Err(ServerError::Exposed(ip));
        }
        let token = match &cfg.bearer_token_file {
            Some(p) => {
                let t = read_file("bearer_token_file", p)?;
                let t = String::from_utf8_lossy(&t).trim().to_string();
                if t.is_empty() {
                    return Err(ServerError::File {
                        what: "bearer_token_file",
                        path: p.display().to_string(),
                        message: "is empty".into(),
                    });
                }
                Some(t)
            }
            None => None,
        };
        let tls = if cfg.ssl_enabled {
            let cert = cfg.ssl_certificate.as_ref().ok_or(ServerError::NoCertificate)?;
            let key = cfg.ssl_private_key.as_ref().unwrap_or(cert);
            Some(tls_acceptor(cert, key)?)
        } else {
            None
        };
        let addr = SocketAddr::new(ip, cfg.listen_port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let served = Arc::new(Served {
            registry,
            health,
            healthz: cfg.k8s_healthz_endpoint.clone(),
            metrics_enabled: cfg.prometheus_metrics_enabled,
            token,
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let served = served.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let res = match tls {
                        Some(acc) => match acc.accept(stream).await {
                            Ok(s) => serve(s, &served).await,
                            Err(e) => Err(e),
                        },
                        None => serve(stream, &served).await,
                    };
                    if let Err(e) = res {
                        tracing::debug!("webserver connection: {e}");
                    }
                });
            }
        });
        Ok(MetricsServer { local_addr, task })
    }
}

fn read_file(what: &'static str, p: &Path) -> Result<Vec<u8>, ServerError> {
    std::fs::read(p).map_err(|e| ServerError::File {
        what,
        path: p.display().to_string(),
        message: e.to_string(),
    })
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, ServerError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &'static str, p: &Path, m: String| ServerError::File {
        what,
        path: p.display().to_string(),
        message: m,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("ssl_certificate", cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("ssl_certificate", cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("ssl_certificate", cert, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("ssl_private_key", key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("ssl_certificate", cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("ssl_certificate", cert, e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Answers one GET request (the endpoint serves nothing else) and closes the connection.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, served: &Served) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request timeout"))??;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 16 << 10 {
            return respond(&mut s, "431 Request Header Fields Too Large", "text/plain", "").await;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or("");
    let mut parts = request.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    if let Some(token) = &served.token {
        let authorized = lines.any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("authorization") && constant_eq(v.trim(), &format!("Bearer {token}"))
            })
        });
        if !authorized {
            return respond(&mut s, "401 Unauthorized", "text/plain", "unauthorized\n").await;
        }
    }
    if method != "GET" {
        return respond(&mut s, "405 Method Not Allowed", "text/plain", "").await;
    }
    if path == served.healthz {
        if served.health.ok() {
            respond(&mut s, "200 OK", "application/json", "{\"status\":\"ok\"}\n").await
        } else {
            respond(
                &mut s,
                "503 Service Unavailable",
                "application/json",
                "{\"status\":\"down\"}\n",
            )
            .await
        }
    } else if path == "/metrics" && served.metrics_enabled {
        let body = served.registry.encode();
        respond(
            &mut s,
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            &body,
        )
        .await
    } else {
        respond(&mut s, "404 Not Found", "text/plain", "not found\n").await
    }
}

/// Token comparison whose time does not depend on where the strings differ.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn respond<S: AsyncWrite + Unpin>(s: &mut S, status: &str, ctype: &str, body: &str) -> std::io::Result<()> {
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(resp.as_bytes()).await?;
    s.shutdown().await
}
