//! Container and Kubernetes metadata for the state engine, from the container runtimes' own APIs: containerd's
//! gRPC API (namespaces named by the cgroup layout, then `k8s.io` and `default`), Docker's and Podman's HTTP API and
//! CRI-O's info endpoint over their unix sockets. Lookups run on a worker thread (a small tokio runtime fed through
//! a bounded channel), never on the event path; their answers are applied to the [`mamoru_state::State`] between
//! events by an [`Enricher`], which keeps a bounded, least-recently-used table of containers and counts what it
//! evicts. A [`Gate`] between the sensor and the pipeline holds the events of a container whose lookup is in flight
//! (up to a configured wait) so alerts carry `container.*` and `k8s.*` fields; see [`gate`] for the exact
//! semantics. Kubernetes fields need no API server: CRI runtimes label every container with
//! `io.kubernetes.pod.{name,namespace,uid}` and `io.kubernetes.container.name`, and pod labels come from the pod
//! sandbox's record.

pub mod containerd;
pub mod engines;
pub mod enricher;
pub mod gate;
pub mod http;
pub mod image;
pub mod meta;
pub mod spec;
pub mod worker;

pub use enricher::{Enricher, EnricherStats, Readiness};
pub use gate::{EventClock, Gate, GateStats, StagedPipeline};
pub use image::{parse_image_ref, ImageRef};
pub use meta::{Described, Sandbox};
pub use worker::{runtime_resolver, DescribeFuture, LookupOutcome, LookupRequest, Resolver};

use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Why a lookup failed.
#[derive(Debug, Error)]
pub enum LookupError {
    #[error("cannot connect to {socket}: {reason}")]
    Connect { socket: PathBuf, reason: String },
    #[error("{what}: {reason}")]
    Rpc { what: String, reason: String },
    #[error("{what}: {reason}")]
    Http { what: String, reason: String },
    #[error("invalid containerd namespace {0:?}")]
    BadName(String),
    #[error("metadata worker: {0}")]
    Worker(String),
}

/// Where the runtimes are and how the metadata path is bounded.
#[derive(Debug, Clone)]
pub struct MetadataConfig {
    /// containerd sockets, asked in order (missing ones are skipped).
    pub containerd_sockets: Vec<PathBuf>,
    pub docker_socket: Option<PathBuf>,
    pub podman_socket: Option<PathBuf>,
    pub crio_socket: Option<PathBuf>,
    /// Root holding `proc/` (container users are read from `<root>/proc/<pid>/root/etc/passwd`).
    pub host_root: PathBuf,
    /// Containers kept in the table (and in the state's metadata table); least recently used evicted past it.
    pub cache_capacity: usize,
    /// Lookups queued for the worker; past it, requests are refused and asked again on a later event.
    pub queue: usize,
    /// Lookups answered concurrently.
    pub max_in_flight: usize,
    /// How long an event of a new container is held for its metadata.
    pub max_wait: Duration,
    /// Bytes of events queued behind a held one before it is released early.
    pub max_queued_bytes: usize,
    /// A container no runtime knew is asked about again after this long.
    pub retry_after: Duration,
    /// A container with no live thread in the state for this long leaves the table (and the state): short-lived
    /// containers do not pile up until the LRU bound. Events still in flight for it meet the grace period first.
    pub exited_grace: Duration,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            containerd_sockets: vec![
                PathBuf::from("/run/containerd/containerd.sock"),
                PathBuf::from("/run/k3s/containerd/containerd.sock"),
            ],
            docker_socket: Some(PathBuf::from("/var/run/docker.sock")),
            podman_socket: Some(PathBuf::from("/run/podman/podman.sock")),
            crio_socket: Some(PathBuf::from("/var/run/crio/crio.sock")),
            host_root: PathBuf::from("/"),
            cache_capacity: 4096,
            queue: 1024,
            max_in_flight: 32,
            max_wait: Duration::from_millis(500),
            max_queued_bytes: 32 << 20,
            retry_after: Duration::from_secs(30),
            exited_grace: Duration::from_secs(10),
        }
    }
}
