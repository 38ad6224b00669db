//! The lookup worker: a thread running a small tokio runtime that answers lookup requests concurrently (bounded),
//! so a slow or absent runtime never blocks the event path. Requests go in through a bounded channel; outcomes come
//! back through a channel the event thread drains between events.

use crate::containerd::ContainerdClient;
use crate::engines::{crio_describe, docker_describe};
use crate::meta::Described;
use crate::{LookupError, MetadataConfig};
use mamoru_event::{GroupRecord, UserRecord};
use mamoru_state::{parse_group, parse_passwd, ContainerInfo};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// What the event thread asks about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    /// `container.id` (the state's key).
    pub id: Vec<u8>,
    pub full_id: String,
    /// The runtime the cgroup layout suggests (`containerd`, `docker`, `cri-o`, `podman`).
    pub runtime: &'static str,
    /// containerd namespace from the cgroup layout.
    pub namespace: Option<String>,
    /// A process of the container, for its `/etc/passwd` and `/etc/group` (through `/proc/<pid>/root`).
    pub pid: i64,
    /// The container's cgroups (`(subsystem, path)`, root entries left out): when `pid` has already exited (the
    /// first event of a container is often a short-lived exec), another member is found in `cgroup.procs`.
    pub cgroups: Vec<(String, String)>,
}

/// What the worker found.
#[derive(Debug)]
pub struct LookupOutcome {
    pub id: Vec<u8>,
    /// `Ok(None)`: no reachable runtime knows the container.
    pub result: Result<Option<ContainerInfo>, LookupError>,
    /// The container's own users and groups (empty when its root was not readable).
    pub users: Vec<UserRecord>,
    pub groups: Vec<GroupRecord>,
}

/// A future answering one request.
pub type DescribeFuture = Pin<Box<dyn Future<Output = Result<Option<Described>, LookupError>> + Send>>;
/// Turns a request into a description; [`runtime_resolver`] asks the configured runtimes, tests inject their own.
pub type Resolver = Arc<dyn Fn(LookupRequest) -> DescribeFuture + Send + Sync>;

/// The resolver that asks the runtimes configured in `cfg`: the one the cgroup layout names first, then every
/// containerd socket (Docker and CRI-O keep their containers in containerd too on many hosts). Sockets that do not
/// exist are skipped without a connection attempt.
pub fn runtime_resolver(cfg: &MetadataConfig) -> Resolver {
    let containerd: Arc<Vec<ContainerdClient>> =
        Arc::new(cfg.containerd_sockets.iter().map(ContainerdClient::new).collect());
    let docker = cfg.docker_socket.clone();
    let podman = cfg.podman_socket.clone();
    let crio = cfg.crio_socket.clone();
    Arc::new(move |req: LookupRequest| {
        let containerd = containerd.clone();
        let (docker, podman, crio) = (docker.clone(), podman.clone(), crio.clone());
        Box::pin(async move {
            let engine_socket = |s: &Option<PathBuf>| s.clone().filter(|p| p.exists());
            let direct = match req.runtime {
                "docker" => engine_socket(&docker).map(|s| (s, "docker")),
                "podman" => engine_socket(&podman).map(|s| (s, "podman")),
                "cri-o" => engine_socket(&crio).map(|s| (s, "cri-o")),
                _ => None,
            };
            let mut last_err = None;
            if let Some((socket, rt)) = direct {
                let found = if rt == "cri-o" {
                    crio_describe(&socket, &req.full_id).await
                } else {
                    docker_describe(&socket, rt, &req.full_id).await
                };
                match found {
                    Ok(Some(d)) => return Ok(Some(d)),
                    Ok(None) => {}
                    Err(e) => last_err = Some(e),
                }
            }
            for client in containerd.iter().filter(|c| c.socket().exists()) {
                match client.describe(&req.full_id, req.namespace.as_deref()).await {
                    Ok(Some(d)) => return Ok(Some(d)),
                    Ok(None) => {}
                    Err(e) => last_err = Some(e),
                }
            }
            match last_err {
                Some(e) => Err(e),
                None => Ok(None),
            }
        })
    })
}

/// The handle the event thread keeps: submit requests, drain outcomes.
pub struct Worker {
    tx: mpsc::Sender<LookupRequest>,
    rx: std_mpsc::Receiver<LookupOutcome>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread.
    pub fn start(
        resolver: Resolver,
        host_root: PathBuf,
        queue: usize,
        max_in_flight: usize,
    ) -> Result<Self, LookupError> {
        let (tx, mut req_rx) = mpsc::channel::<LookupRequest>(queue.max(1));
        let (out_tx, rx) = std_mpsc::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LookupError::Worker(e.to_string()))?;
        let thread = std::thread::Builder::new()
            .name("mamoru-containers".into())
            .spawn(move || {
                let limit = Arc::new(Semaphore::new(max_in_flight.max(1)));
                rt.block_on(async move {
                    while let Some(req) = req_rx.recv().await {
                        let Ok(permit) = limit.clone().acquire_owned().await else {
                            break;
                        };
                        let (resolver, out_tx, root) = (resolver.clone(), out_tx.clone(), host_root.clone());
                        tokio::spawn(async move {
                            let outcome = answer(&resolver, &root, req).await;
                            // The receiver is gone only when the agent is shutting down.
                            let _ = out_tx.send(outcome);
                            drop(permit);
                        });
                    }
                });
            })
            .map_err(|e| LookupError::Worker(e.to_string()))?;
        Ok(Worker {
            tx,
            rx,
            thread: Some(thread),
        })
    }

    /// Queues a request; `false` when the queue is full (the caller counts it and retries later).
    pub fn submit(&self, req: LookupRequest) -> bool {
        self.tx.try_send(req).is_ok()
    }

    /// The next finished lookup, if any.
    pub fn try_recv(&self) -> Option<LookupOutcome> {
        self.rx.try_recv().ok()
    }

    /// Waits up to `timeout` for the next finished lookup.
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<LookupOutcome> {
        self.rx.recv_timeout(timeout).ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the request channel ends the worker's loop; in-flight lookups finish or are dropped with the
        // runtime.
        let (closed_tx, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed_tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn answer(resolver: &Resolver, host_root: &Path, req: LookupRequest) -> LookupOutcome {
    let id = req.id.clone();
    let pid = req.pid;
    let cgroups = req.cgroups.clone();
    let result = resolver(req).await.map(|found| {
        found.map(|d| {
            let mut info = d.into_info();
            // The state keys containers by the id the cgroups gave (the runtime's answer must land there).
            info.id = id.clone();
            info
        })
    });
    let (users, groups) = container_users(host_root, pid, &id);
    let (users, groups) = if users.is_empty() {
        members(host_root, &cgroups)
            .into_iter()
            .map(|p| container_users(host_root, p, &id))
            .find(|(u, _)| !u.is_empty())
            .unwrap_or((users, groups))
    } else {
        (users, groups)
    };
    LookupOutcome {
        id,
        result,
        users,
        groups,
    }
}

/// The container's users and groups, from its own root filesystem as its process `pid` sees it.
pub fn container_users(host_root: &Path, pid: i64, id: &[u8]) -> (Vec<UserRecord>, Vec<GroupRecord>) {
    if pid <= 0 {
        return (Vec::new(), Vec::new());
    }
    let root = host_root.join(format!("proc/{pid}/root/etc"));
    let read = |name: &str| std::fs::read(root.join(name)).ok();
    let users = read("passwd").map(|t| parse_passwd(&t, id)).unwrap_or_default();
    let groups = read("group").map(|t| parse_group(&t, id)).unwrap_or_default();
    (users, groups)
}

/// Candidate members to read a container's root through: a few pids of its cgroups, from `cgroup.procs` of the
/// hierarchy each cgroup belongs to (cgroup v1 controller mounts, the hybrid `unified` mount, or pure cgroup v2).
pub fn members(host_root: &Path, cgroups: &[(String, String)]) -> Vec<i64> {
    const MAX_CANDIDATES: usize = 8;
    let base = host_root.join("sys/fs/cgroup");
    for (subsys, path) in cgroups {
        let rel = path.trim_start_matches('/');
        let dirs = if subsys.is_empty() {
            vec![base.join("unified").join(rel), base.join(rel)]
        } else {
            vec![base.join(subsys).join(rel)]
        };
        for dir in dirs {
            let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) else {
                continue;
            };
            let pids: Vec<i64> = text
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .take(MAX_CANDIDATES)
                .collect();
            if !pids.is_empty() {
                return pids;
            }
        }
    }
    Vec::new()
}
