//! Optional Kubernetes API enrichment for the syscall source. Container and pod identity come from the container
//! runtime's CRI labels without any API access; when `k8s_api.enabled` is set, this crate also watches the API
//! server (in-cluster service account or a kubeconfig) — the pods of this node, and cluster-wide ReplicaSets,
//! Deployments, ReplicationControllers, Services and Namespaces — with LIST then WATCH (bookmarks, re-list on
//! `410 Gone`, exponential backoff), keeps the fields it needs in stores bounded per kind, and publishes a snapshot
//! keyed by pod UID. [`K8sMeta`] implements `mamoru_fields::syscall::K8sApiLookup`, so `k8s.deployment.name`,
//! `k8s.svc.name`, `k8smeta.*`, ... are a snapshot read on the event path, never a network wait.

mod client;
mod config;
mod store;
mod watch;

pub use client::{parse_event, ApiClient, Kind, Obj, ObjectList, Query, WatchEvent, WatchStream};
pub use config::{ClusterConfig, K8sApiConfig, TokenSource, SERVICE_ACCOUNT_DIR};
pub use store::{K8sMeta, Stats};
pub use watch::K8sWatcher;

use thiserror::Error;

/// Errors of the Kubernetes API client.
#[derive(Debug, Error)]
pub enum Error {
    #[error("k8s_api: {what}: {why}")]
    Config { what: String, why: String },
    #[error("k8s_api: GET {url}: {why}")]
    Http { url: String, why: String },
    #[error("k8s_api: GET {url}: HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("k8s_api: resource version gone (410)")]
    Gone,
    #[error("k8s_api: {url}: {why}")]
    Decode { url: String, why: String },
}
