//! Response on the live path (the `response:` configuration section): actions run by a worker thread off the event
//! path, and drift control kept in step with the containers the state engine knows.
//!
//! Drift control needs each container's overlay root filesystem. The state engine learns a container from the
//! cgroups of its first process; [`DriftWatch::sync_containers`], called by the live loop about once a second,
//! covers every container seen since the last call (through `/proc/<pid>/mountinfo` of one of its processes) and
//! releases the containers that have no process left. A container is covered within about a second of its first
//! event; its entrypoint, which comes from the image, is never what drift control stops.

use mamoru_engine::Alert;
use mamoru_response::drift::{ContainerMeta, ContainerRootfs, DriftControl};
use mamoru_response::{runtime_from_config, Responder, ResponseConfig, ResponseError, ResponseWorker};
use mamoru_state::State;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Response actions queued at most this deep; what does not fit is counted and alerted, never silently lost.
const ACTION_QUEUE: usize = 1024;

/// Response actions: a worker thread runs them off the event path.
pub struct ResponseActions {
    worker: Option<ResponseWorker>,
}

impl ResponseActions {
    /// Starts the worker when `cfg.enabled`; alerts of the actions' results go to `sink`.
    pub fn start(cfg: &ResponseConfig, sink: Arc<dyn Fn(Alert) + Send + Sync>) -> Result<Self, ResponseError> {
        if !cfg.enabled {
            return Ok(ResponseActions { worker: None });
        }
        let responder = Responder::new(cfg.clone(), Some(runtime_from_config(&cfg.runtime)))?;
        let worker = ResponseWorker::spawn(responder, ACTION_QUEUE, move |a| sink(a))?;
        Ok(ResponseActions { worker: Some(worker) })
    }

    /// Hands an alert to the worker when an action applies to it (never blocks).
    pub fn on_alert(&self, alert: &Alert) {
        if let Some(w) = &self.worker {
            w.submit(alert);
        }
    }

    /// Runs what is queued, then stops.
    pub fn stop(self) {
        if let Some(w) = self.worker {
            let dropped = w.dropped();
            if dropped > 0 {
                eprintln!("mamoru: {dropped} alerts had response actions that were not run (queue full)");
            }
            w.shutdown();
        }
    }
}

/// Drift control kept in step with the containers the state engine knows.
pub struct DriftWatch {
    drift: Option<DriftControl>,
    /// Containers drift control covers (short id → full id), and those that could not be covered.
    covered: HashMap<Vec<u8>, String>,
    failed: HashSet<Vec<u8>>,
}

impl DriftWatch {
    /// Probes the node and starts drift control when `cfg.drift.enabled`; blocks and detections go to `sink`.
    pub fn start(cfg: &ResponseConfig, sink: Arc<dyn Fn(Alert) + Send + Sync>) -> Result<Self, ResponseError> {
        let drift = if cfg.drift.enabled {
            let d = DriftControl::start(&cfg.drift, sink)?;
            eprintln!("mamoru: {}", d.report().to_string().trim_end());
            Some(d)
        } else {
            None
        };
        Ok(DriftWatch {
            drift,
            covered: HashMap::new(),
            failed: HashSet::new(),
        })
    }

    /// Covers new containers and releases gone ones (see the module doc).
    pub fn sync_containers(&mut self, state: &State) {
        let Some(drift) = &self.drift else { return };
        let live = containers_with_a_process(state);
        for (short, (pid, full)) in &live {
            if self.covered.contains_key(short) || self.failed.contains(short) {
                continue;
            }
            let meta = container_meta(state, short, full);
            match ContainerRootfs::from_pid(meta, *pid).and_then(|rootfs| drift.add_container(rootfs)) {
                Ok(_) => {
                    self.covered.insert(short.clone(), full.clone());
                }
                Err(e) => {
                    tracing::warn!(container = %full, "drift control does not cover this container: {e}");
                    self.failed.insert(short.clone());
                }
            }
        }
        self.covered.retain(|short, full| {
            let alive = live.contains_key(short);
            if !alive {
                if let Err(e) = drift.remove_container(full) {
                    tracing::warn!(container = %full, "drift control: releasing the container: {e}");
                }
            }
            alive
        });
        self.failed.retain(|short| live.contains_key(short));
    }

    /// Stops drift control cleanly, so the next start reports no enforcement gap.
    pub fn stop(self) {
        if let Some(d) = self.drift {
            d.stop();
        }
    }
}

/// Every container with at least one live process: short id → (a pid, full id).
fn containers_with_a_process(state: &State) -> HashMap<Vec<u8>, (i64, String)> {
    let mut out = HashMap::new();
    for t in state.threads() {
        if t.container_id.as_slice() == b"host" || t.container_id.is_empty() || out.contains_key(&t.container_id) {
            continue;
        }
        let full = t
            .container_full_id
            .as_deref()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .unwrap_or_else(|| String::from_utf8_lossy(&t.container_id).into_owned());
        out.insert(t.container_id.clone(), (t.pid, full));
    }
    out
}

/// What scoping and alerts need, from the container metadata the state holds (image, namespace, labels).
fn container_meta(state: &State, short: &[u8], full: &str) -> ContainerMeta {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let Some(info) = state.container(short) else {
        return ContainerMeta {
            id: full.to_string(),
            ..ContainerMeta::default()
        };
    };
    let labels: BTreeMap<String, String> = info
        .labels
        .iter()
        .chain(info.pod_sandbox_labels.iter())
        .map(|(k, v)| (text(k), text(v)))
        .collect();
    ContainerMeta {
        id: full.to_string(),
        image: info.image.as_deref().map(text).unwrap_or_default(),
        namespace: labels.get("io.kubernetes.pod.namespace").cloned(),
        labels,
    }
}
