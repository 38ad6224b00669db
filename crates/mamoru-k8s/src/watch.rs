//! The reflectors: per kind, LIST then WATCH from the list's resource version, following bookmarks, re-listing on
//! `410 Gone` and after `resync_secs`, and backing off exponentially on errors. They run on a thread of their own
//! (a current-thread tokio runtime), so the agent's other work never waits on the API server.

use crate::client::{ApiClient, Kind, Query, WatchEvent};
use crate::config::{ClusterConfig, K8sApiConfig};
use crate::store::{K8sMeta, Shared};
use crate::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a watch may stay silent beyond its own timeout before the connection is presumed dead.
const SILENCE_GRACE: Duration = Duration::from_secs(60);
/// The watch timeout asked for when no resync is configured.
const DEFAULT_WATCH_SECS: u64 = 300;

/// What a reflector needs besides its kind.
struct Reflector {
    client: Arc<ApiClient>,
    shared: Arc<Shared>,
    kind: Kind,
    field_selector: Option<String>,
    resync: Option<Duration>,
}

/// Why a watch ended.
enum WatchEnd {
    /// Closed by the server (its timeout): watch again from the last resource version.
    Closed,
    /// `410 Gone`: the resource version is too old, re-list.
    Gone,
    /// Time for the periodic full re-list.
    Resync,
    /// A transport or decoding error: back off, then watch again.
    Failed(Error),
}

fn next_backoff(b: Duration) -> Duration {
    (b * 2).min(BACKOFF_MAX)
}

impl Reflector {
    fn query(&self) -> Query<'_> {
        Query {
            kind: self.kind,
            field_selector: self.field_selector.as_deref(),
        }
    }

    fn counters(&self) -> &crate::store::Counters {
        &self.shared.counters
    }

    fn failed(&self, what: &str, e: &Error) {
        self.counters().errors.inc();
        tracing::warn!(kind = self.kind.name(), "k8s_api: {what} failed: {e}");
    }

    /// Runs until the process ends (the runtime is dropped).
    async fn run(self) {
        let mut backoff = BACKOFF_MIN;
        loop {
            let list = match self.client.list(&self.query()).await {
                Ok(l) => l,
                Err(e) => {
                    self.failed("list", &e);
                    tokio::time::sleep(backoff).await;
                    backoff = next_backoff(backoff);
                    continue;
                }
            };
            self.counters().lists.inc();
            tracing::debug!(kind = self.kind.name(), items = list.items.len(), rv = %list.resource_version, "k8s_api: listed");
            self.shared.replace(self.kind, list.items);
            let listed_at = Instant::now();
            let mut rv = list.resource_version;
            loop {
                match self.watch_once(&mut rv, listed_at).await {
                    WatchEnd::Closed => backoff = BACKOFF_MIN,
                    WatchEnd::Gone => {
                        self.counters().gone.inc();
                        tracing::info!(kind = self.kind.name(), "k8s_api: resource version gone, re-listing");
                        break;
                    }
                    WatchEnd::Resync => break,
                    WatchEnd::Failed(e) => {
                        self.failed("watch", &e);
                        tokio::time::sleep(backoff).await;
                        backoff = next_backoff(backoff);
                    }
                }
            }
        }
    }

    fn watch_secs(&self, listed_at: Instant) -> u64 {
        match self.resync {
            Some(r) => r.saturating_sub(listed_at.elapsed()).as_secs().max(1),
            None => DEFAULT_WATCH_SECS,
        }
    }

    /// One WATCH request, applied event by event.
    async fn watch_once(&self, rv: &mut String, listed_at: Instant) -> WatchEnd {
        if self.resync.is_some_and(|r| listed_at.elapsed() >= r) {
            return WatchEnd::Resync;
        }
        let secs = self.watch_secs(listed_at);
        let mut stream = match self.client.watch(&self.query(), rv, secs).await {
            Ok(s) => s,
            Err(Error::Gone) => return WatchEnd::Gone,
            Err(e) => return WatchEnd::Failed(e),
        };
        let silence = Duration::from_secs(secs) + SILENCE_GRACE;
        loop {
            let ev = match tokio::time::timeout(silence, stream.next()).await {
                Err(_) => {
                    return WatchEnd::Failed(Error::Http {
                        url: self.kind.path().into(),
                        why: format!("watch silent for {}s", silence.as_secs()),
                    })
                }
                Ok(Err(e)) => return WatchEnd::Failed(e),
                Ok(Ok(None)) => return WatchEnd::Closed,
                Ok(Ok(Some(ev))) => ev,
            };
            self.counters().watch_events.inc();
            match ev {
                WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                    *rv = o.resource_version.clone();
                    self.shared.upsert(self.kind, o);
                }
                WatchEvent::Deleted(o) => {
                    *rv = o.resource_version.clone();
                    self.shared.remove(self.kind, &o.uid);
                }
                WatchEvent::Bookmark(v) => {
                    self.counters().bookmarks.inc();
                    *rv = v;
                }
                WatchEvent::Error { code: 410, .. } => return WatchEnd::Gone,
                WatchEvent::Error { code, message } => {
                    return WatchEnd::Failed(Error::Status {
                        url: self.kind.path().into(),
                        status: code as u16,
                        body: message,
                    })
                }
            }
        }
    }
}

/// Rebuilds the snapshot whenever a reflector changed a store; changes that arrive while it rebuilds are folded
/// into the next rebuild.
async fn publisher(shared: Arc<Shared>) {
    loop {
        shared.dirty.notified().await;
        shared.publish();
    }
}

/// The running enrichment: its thread and the handle lookups use. Dropping it stops the thread.
pub struct K8sWatcher {
    meta: K8sMeta,
    stop: Option<watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl K8sWatcher {
    /// Resolves the cluster and node from `cfg` and starts watching.
    pub fn start(cfg: &K8sApiConfig) -> Result<K8sWatcher, Error> {
        let cluster = cfg.cluster()?;
        let node = cfg.resolved_node_name()?;
        K8sWatcher::start_with(&cluster, &node, cfg)
    }

    /// Starts watching `cluster` for the pods of `node` (the `enabled`, `kubeconfig` and `node_name` keys of `cfg`
    /// are not consulted).
    pub fn start_with(cluster: &ClusterConfig, node: &str, cfg: &K8sApiConfig) -> Result<K8sWatcher, Error> {
        let client = Arc::new(ApiClient::new(cluster)?);
        let shared = Arc::new(Shared::new(cfg.max_objects));
        let resync = (cfg.resync_secs > 0).then(|| Duration::from_secs(cfg.resync_secs));
        let pod_selector = format!("spec.nodeName={node}");
        let reflectors: Vec<Reflector> = Kind::ALL
            .iter()
            .map(|&kind| Reflector {
                client: client.clone(),
                shared: shared.clone(),
                kind,
                field_selector: (kind == Kind::Pod).then(|| pod_selector.clone()),
                resync,
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config {
                what: "k8s_api runtime".into(),
                why: e.to_string(),
            })?;
        let (stop, mut stopped) = watch::channel(false);
        let pub_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("k8s-api".into())
            .spawn(move || {
                rt.block_on(async move {
                    tokio::spawn(publisher(pub_shared));
                    for r in reflectors {
                        tokio::spawn(r.run());
                    }
                    // Either the stop signal or the sender being dropped ends the thread.
                    let _ = stopped.wait_for(|s| *s).await;
                });
            })
            .map_err(|e| Error::Config {
                what: "k8s_api thread".into(),
                why: e.to_string(),
            })?;
        tracing::info!(server = %cluster.server, node, "k8s_api: watching pods, replicasets, deployments, replicationcontrollers, services, namespaces");
        Ok(K8sWatcher {
            meta: K8sMeta { shared },
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The lookup handle to give the syscall catalogue.
    pub fn meta(&self) -> K8sMeta {
        self.meta.clone()
    }
}

impl Drop for K8sWatcher {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
