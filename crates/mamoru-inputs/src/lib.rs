//! Live inputs for mamoru's JSON sources, each running on its own tokio task and feeding batches of
//! [`mamoru_records::Record`]s into one bounded channel that the evaluator drains (with `JsonPipeline::on_record`):
//! the Kubernetes audit webhook (HTTPS, mTLS or bearer token) and audit-log tail (rotation-safe), CloudTrail files
//! from a directory, an S3 bucket listing or S3 event notifications on an SQS queue (SigV4, standard credential
//! chain), the Okta System Log API (`since`/`after` paging, rate limits), GitHub webhooks (HMAC-verified, pushed
//! diffs scanned for secrets) and GCP audit logs (Pub/Sub push with OIDC verification, LogEntry files). Every input
//! resumes exactly where it stopped: its cursor (or its webhook spool, or its SQS message) moves only after the
//! evaluator committed a batch ([`Batch::commit`]), and is written atomically. Malformed records are logged with their byte offset and counted; memory stays bounded by the
//! channel capacity, the batch size and the body/file limits. Metrics: [`SourcesHandle::register_metrics`].

mod batch;
mod config;
mod cursor;
mod error;
mod files;
mod frame;
mod gcp;
mod github;
mod http;
mod jwt;
mod k8s;
mod metrics;
mod okta;
mod s3;
pub mod secrets;
mod spool;
mod sqs;
mod tail;
mod time;

pub use batch::{batch_channel, drain_blocking, Batch, BatchReceiver, BatchSender};
pub use config::{
    CloudTrailConfig, DirectoryConfig, GcpConfig, GcpPushConfig, GithubConfig, K8sAuditConfig, K8sWebhookConfig,
    ListenConfig, OktaConfig, S3Config, SourcesConfig, SqsConfig, StaticCredentials, TailConfig, TlsConfig,
};
pub use cursor::CursorStore;
pub use error::InputError;
pub use files::FileCursor;
pub use github::signature_valid;
pub use jwt::{verify as verify_jwt, Expectations as JwtExpectations, Jwks, JwtError};
pub use metrics::{InputMetrics, SourceMetrics};
pub use okta::{next_link, OktaCursor};
pub use s3::{sign as sigv4_sign, sign_request as sigv4_sign_request, Credentials as AwsCredentials, SignInput};
pub use tail::TailCursor;

use crate::error::Result;
use crate::files::{file_limits, DirStore, FileSource};
use crate::http::Endpoint;
use crate::spool::Spool;
use mamoru_records::{Limits, RecordSource};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The running inputs.
pub struct SourcesHandle {
    metrics: Arc<InputMetrics>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<(String, Result<()>)>,
    addrs: BTreeMap<String, SocketAddr>,
}

impl SourcesHandle {
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.metrics.register_metrics(registry);
    }

    pub fn metrics(&self) -> &Arc<InputMetrics> {
        &self.metrics
    }

    /// The bound address of an endpoint: `k8s_audit`, `github` or `gcp_auditlog` (port 0 in the config picks one).
    pub fn local_addr(&self, source: &str) -> Option<SocketAddr> {
        self.addrs.get(source).copied()
    }

    /// Waits for the next input task to end (an input ends early only on a fatal error: it is logged and returned).
    pub async fn next_exit(&mut self) -> Option<(String, Result<()>)> {
        loop {
            match self.tasks.join_next().await? {
                Ok(done) => return Some(done),
                Err(e) if e.is_panic() => return Some(("?".into(), Err(InputError::Config(format!("panic: {e}"))))),
                Err(_) => continue,
            }
        }
    }

    /// Asks every input to stop after its current batch and waits for them; the first error is returned. The
    /// evaluator must keep draining the channel until this returns (or until the channel closes).
    pub async fn stop(mut self) -> Result<()> {
        let _ = self.shutdown.send(true);
        let mut first = Ok(());
        while let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok((_, Err(e))) if first.is_ok() => first = Err(e),
                Err(e) if e.is_panic() && first.is_ok() => first = Err(InputError::Config(format!("panic: {e}"))),
                _ => {}
            }
        }
        first
    }
}

/// Starts every configured input; records go to `sink` (see [`batch_channel`]). Endpoints are bound and
/// cursors/spools opened before this returns, so configuration errors surface here.
pub async fn run_sources(cfg: SourcesConfig, sink: BatchSender) -> Result<SourcesHandle> {
    cfg.validate()?;
    let metrics = Arc::new(InputMetrics::default());
    let (shutdown, stop) = watch::channel(false);
    let mut h = SourcesHandle {
        metrics: metrics.clone(),
        shutdown,
        tasks: JoinSet::new(),
        addrs: BTreeMap::new(),
    };
    let cursors = CursorStore::open(&cfg.state_dir)?;
    let ctx = Ctx {
        cfg: &cfg,
        metrics: &metrics,
        cursors: &cursors,
        sink: &sink,
        stop: &stop,
    };
    if let Some(k) = &cfg.k8s_audit {
        ctx.k8s(k, &mut h).await?;
    }
    if let Some(c) = &cfg.aws_cloudtrail {
        ctx.cloudtrail(c, &mut h)?;
    }
    if let Some(o) = &cfg.okta {
        ctx.okta(o, &mut h)?;
    }
    if let Some(g) = &cfg.github {
        ctx.github(g, &mut h).await?;
    }
    if let Some(g) = &cfg.gcp_auditlog {
        ctx.gcp(g, &mut h).await?;
    }
    Ok(h)
}

struct Ctx<'a> {
    cfg: &'a SourcesConfig,
    metrics: &'a Arc<InputMetrics>,
    cursors: &'a CursorStore,
    sink: &'a BatchSender,
    stop: &'a watch::Receiver<bool>,
}

fn spawn<F>(h: &mut SourcesHandle, name: String, fut: F)
where
    F: std::future::Future<Output = Result<()>> + Send + 'static,
{
    h.tasks.spawn(async move {
        let r = fut.await;
        match &r {
            Ok(()) => tracing::info!(input = %name, "input stopped"),
            Err(e) => tracing::error!(input = %name, error = %e, "input failed"),
        }
        (name, r)
    });
}

fn cursor_name(parts: &[&str]) -> String {
    parts
        .join(".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| InputError::Http(e.to_string()))
}

impl Ctx<'_> {
    /// A webhook's endpoint server and spool drain, as two tasks.
    #[allow(clippy::too_many_arguments)]
    async fn webhook<F, Fut>(
        &self,
        h: &mut SourcesHandle,
        source: RecordSource,
        endpoint: &ListenConfig,
        spool: Arc<Spool>,
        limits: Limits,
        app: axum::Router,
        prepare: F,
    ) -> Result<()>
    where
        F: Fn(Vec<u8>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Vec<u8>> + Send,
    {
        let bound = Endpoint::bind(endpoint).await?;
        tracing::info!(%source, addr = %bound.addr, tls = endpoint.tls.is_some(), "endpoint listening");
        h.addrs.insert(source.name().to_string(), bound.addr);
        spawn(h, format!("{source}/endpoint"), bound.serve(app, self.stop.clone()));
        let (sink, stop) = (self.sink.clone(), self.stop.clone());
        spawn(h, format!("{source}/spool"), async move {
            spool.drain(source, limits, sink, stop, prepare).await
        });
        Ok(())
    }

    fn spool(&self, source: RecordSource, max_bytes: u64, metrics: &SourceMetrics) -> Result<Arc<Spool>> {
        let dir = self.cfg.state_dir.join("spool").join(source.name());
        Ok(Arc::new(Spool::open(dir, max_bytes, metrics.clone())?))
    }

    async fn k8s(&self, k: &K8sAuditConfig, h: &mut SourcesHandle) -> Result<()> {
        let source = RecordSource::K8sAudit;
        if let Some(w) = &k.webhook {
            let m = self.metrics.input(source.name(), "webhook");
            let spool = self.spool(source, w.spool_max_bytes, &m)?;
            let app = k8s::router(w, spool.clone(), m);
            let limits = Limits {
                max_record_bytes: w.max_event_bytes,
                ..Limits::default()
            };
            self.webhook(h, source, &w.endpoint, spool, limits, app, |b| async move { b })
                .await?;
        }
        for t in &k.tail {
            let path = t.path.display().to_string();
            let tail = tail::Tail {
                cfg: t.clone(),
                source,
                cursor_name: cursor_name(&[source.name(), "tail", &path]),
                store: self.cursors.clone(),
                metrics: self.metrics.input(source.name(), "tail"),
            };
            spawn(
                h,
                format!("{source}/tail:{path}"),
                tail.run(self.sink.clone(), self.stop.clone()),
            );
        }
        Ok(())
    }

    fn directory(&self, h: &mut SourcesHandle, source: RecordSource, d: &DirectoryConfig) {
        let files = FileSource {
            store: DirStore { root: d.path.clone() },
            source,
            limits: file_limits(d.max_file_bytes),
            cursors: self.cursors.clone(),
            cursor_name: cursor_name(&[source.name(), "directory", &d.path.display().to_string()]),
            metrics: self.metrics.input(source.name(), "directory"),
            batch_records: self.cfg.batch_records,
            poll: Duration::from_secs(d.poll_interval_s.max(1)),
        };
        spawn(
            h,
            format!("{source}/directory"),
            files.run(self.sink.clone(), self.stop.clone()),
        );
    }

    fn cloudtrail(&self, c: &CloudTrailConfig, h: &mut SourcesHandle) -> Result<()> {
        let source = RecordSource::CloudTrail;
        if let Some(d) = &c.directory {
            self.directory(h, source, d);
        }
        if let Some(s) = &c.s3 {
            let files = FileSource {
                store: s3::S3Store::new(s.clone())?,
                source,
                limits: file_limits(s.max_file_bytes),
                cursors: self.cursors.clone(),
                cursor_name: cursor_name(&[source.name(), "s3", &s.bucket, &s.prefix]),
                metrics: self.metrics.input(source.name(), "s3"),
                batch_records: self.cfg.batch_records,
                poll: Duration::from_secs(s.poll_interval_s.max(1)),
            };
            spawn(
                h,
                format!("{source}/s3"),
                files.run(self.sink.clone(), self.stop.clone()),
            );
        }
        if let Some(q) = &c.sqs {
            let input = sqs::SqsInput::new(
                q.clone(),
                file_limits(q.max_file_bytes),
                self.metrics.input(source.name(), "sqs"),
                self.cfg.batch_records,
                http_client()?,
            )?;
            spawn(
                h,
                format!("{source}/sqs"),
                input.run(self.sink.clone(), self.stop.clone()),
            );
        }
        Ok(())
    }

    fn okta(&self, o: &OktaConfig, h: &mut SourcesHandle) -> Result<()> {
        let token = config::secret(&o.api_token, &o.api_token_env)
            .ok_or_else(|| InputError::Config("okta: no API token".into()))?;
        let poller = okta::OktaPoller {
            cfg: o.clone(),
            token,
            store: self.cursors.clone(),
            metrics: self.metrics.input("okta", "api"),
            client: http_client()?,
        };
        spawn(h, "okta/api".into(), poller.run(self.sink.clone(), self.stop.clone()));
        Ok(())
    }

    async fn github(&self, g: &GithubConfig, h: &mut SourcesHandle) -> Result<()> {
        let source = RecordSource::Github;
        let secret =
            config::secret(&g.secret, &g.secret_env).ok_or_else(|| InputError::Config("github: no secret".into()))?;
        let m = self.metrics.input(source.name(), "webhook");
        let spool = self.spool(source, g.spool_max_bytes, &m)?;
        let app = github::router(g, secret, spool.clone(), m.clone());
        let enricher = match config::secret(&g.token, &g.token_env) {
            Some(token) => Some(Arc::new(github::DiffEnricher {
                api_url: g.api_url.clone(),
                token,
                client: http_client()?,
                matcher: Arc::new(secrets::BuiltinMatcher::new()),
                metrics: m,
            })),
            None => None,
        };
        let limits = Limits {
            max_record_bytes: g.max_body_bytes + (1 << 20),
            ..Limits::default()
        };
        let prepare = move |body: Vec<u8>| {
            let enricher = enricher.clone();
            async move {
                match enricher {
                    Some(e) => e.enrich(body).await,
                    None => body,
                }
            }
        };
        self.webhook(h, source, &g.endpoint, spool, limits, app, prepare).await
    }

    async fn gcp(&self, g: &GcpConfig, h: &mut SourcesHandle) -> Result<()> {
        let source = RecordSource::GcpAudit;
        if let Some(p) = &g.push {
            let m = self.metrics.input(source.name(), "push");
            let spool = self.spool(source, p.spool_max_bytes, &m)?;
            let keys = gcp::KeySet::load(p, http_client()?).await?;
            let shared = config::secret(&p.shared_token, &p.shared_token_env);
            let app = gcp::router(p, keys, shared, spool.clone(), m);
            self.webhook(
                h,
                source,
                &p.endpoint,
                spool,
                Limits::default(),
                app,
                |b| async move { b },
            )
            .await?;
        }
        if let Some(d) = &g.directory {
            self.directory(h, source, d);
        }
        Ok(())
    }
}
