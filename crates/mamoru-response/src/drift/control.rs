//! Drift control as one object: probe, start the chosen mechanisms, cover containers as they appear.

use super::bpf::{BpfDrift, BpfProgram, DriftStats};
use super::container::ContainerRootfs;
use super::fanotify::FanotifyEnforcer;
use super::gap::LivenessMarker;
use super::probe::{probe, Mechanism, ProbeReport};
use super::{in_scope, policy, policy_bits};
use crate::config::{DriftConfig, DriftMode};
use crate::error::ResponseError;
use mamoru_engine::Alert;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Where drift alerts go. Called from the enforcers' threads; must not block for long.
pub type AlertSink = Arc<dyn Fn(Alert) + Send + Sync>;

/// Running drift control.
pub struct DriftControl {
    cfg: DriftConfig,
    report: ProbeReport,
    fanotify: Option<FanotifyEnforcer>,
    bpf: Option<BpfDrift>,
    covered: Mutex<HashMap<String, ContainerRootfs>>,
    stop: Arc<AtomicBool>,
    heartbeat: Option<JoinHandle<()>>,
    marker: Option<Arc<LivenessMarker>>,
}

impl DriftControl {
    /// Probes the node, starts the strongest mechanisms the configuration allows, and reports an enforcement gap
    /// left by a previous run to `sink`.
    pub fn start(cfg: &DriftConfig, sink: AlertSink) -> Result<DriftControl, ResponseError> {
        let report = probe(cfg);
        DriftControl::start_with(cfg, report, sink)
    }

    /// Starts with the given probe result (what `start` does after probing).
    pub fn start_with(cfg: &DriftConfig, report: ProbeReport, sink: AlertSink) -> Result<DriftControl, ResponseError> {
        let Some(new_binary) = report.new_binary else {
            return Err(ResponseError::Unavailable {
                mechanism: "drift control",
                reason: format!("no enforcement mechanism usable:\n{report}"),
            });
        };
        tracing::info!("{}", report.to_string().trim_end());
        let blocking = cfg.mode == DriftMode::Block;
        let fanotify = match new_binary {
            Mechanism::Fanotify => Some(FanotifyEnforcer::start(blocking, Arc::clone(&sink))?),
            _ => None,
        };
        let bpf_program = [Some(new_binary), report.memfd]
            .into_iter()
            .flatten()
            .find_map(|m| match m {
                Mechanism::BpfLsm => Some(BpfProgram::Lsm),
                Mechanism::BpfKill => Some(BpfProgram::ExecKill),
                Mechanism::Fanotify => None,
            });
        let bpf = bpf_program.map(|p| BpfDrift::start(p, Arc::clone(&sink))).transpose()?;

        let description = format!(
            "new_binary={} memfd={} mode={:?}",
            new_binary.name(),
            report.memfd.map_or("none", Mechanism::name),
            cfg.mode
        );
        let (marker, gap) = LivenessMarker::acquire(&cfg.state_dir, &description)?;
        if let Some(gap) = gap {
            sink(gap);
        }
        let marker = Arc::new(marker);
        let stop = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let (marker, stop) = (Arc::clone(&marker), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("mamoru-drift-alive".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        marker.beat();
                        std::thread::sleep(Duration::from_millis(500));
                    }
                })
                .map_err(ResponseError::io("spawning the drift heartbeat"))?
        };
        Ok(DriftControl {
            cfg: cfg.clone(),
            report,
            fanotify,
            bpf,
            covered: Mutex::new(HashMap::new()),
            stop,
            heartbeat: Some(heartbeat),
            marker: Some(marker),
        })
    }

    /// What the probe found and what runs.
    pub fn report(&self) -> &ProbeReport {
        &self.report
    }

    /// Covers a container if the scope selects it. Returns whether it is covered.
    pub fn add_container(&self, rootfs: ContainerRootfs) -> Result<bool, ResponseError> {
        if !in_scope(&self.cfg.scope, &rootfs.meta) {
            tracing::debug!(container = %rootfs.meta.id, "drift control: container out of scope");
            return Ok(false);
        }
        let bits = policy_bits(&self.cfg);
        let upper_bits = bits & (policy::DETECT_UPPER | policy::BLOCK_UPPER);
        let memfd_bits = if self.report.memfd.is_some() {
            bits & (policy::DETECT_MEMFD | policy::BLOCK_MEMFD)
        } else {
            0
        };
        match &self.fanotify {
            Some(fan) => {
                fan.add_container(&rootfs, upper_bits, &self.cfg.allow)?;
                if let Some(bpf) = &self.bpf {
                    bpf.add_container(&rootfs, memfd_bits, &self.cfg.allow)?;
                }
            }
            None => {
                if let Some(bpf) = &self.bpf {
                    bpf.add_container(&rootfs, upper_bits | memfd_bits, &self.cfg.allow)?;
                }
            }
        }
        tracing::info!(container = %rootfs.meta.id, rootfs = %rootfs.merged.display(), "drift control covers container");
        if let Ok(mut map) = self.covered.lock() {
            map.insert(rootfs.meta.id.clone(), rootfs);
        }
        Ok(true)
    }

    /// Stops covering a container (call when it exits).
    pub fn remove_container(&self, id: &str) -> Result<(), ResponseError> {
        let Some(rootfs) = self.covered.lock().ok().and_then(|mut m| m.remove(id)) else {
            return Ok(());
        };
        if let Some(fan) = &self.fanotify {
            fan.remove_container(&rootfs);
        }
        if let Some(bpf) = &self.bpf {
            bpf.remove_container(rootfs.kernel_dev())?;
        }
        Ok(())
    }

    /// Kernel-side counters when a BPF program runs.
    pub fn bpf_stats(&self) -> Option<Result<DriftStats, ResponseError>> {
        self.bpf.as_ref().map(BpfDrift::stats)
    }

    /// Whether every started mechanism still runs.
    pub fn is_alive(&self) -> bool {
        self.fanotify.as_ref().is_none_or(FanotifyEnforcer::is_alive)
    }

    /// Clean stop: detaches everything and removes the liveness marker (no gap is reported next start).
    pub fn stop(mut self) {
        self.shutdown();
        if let Some(marker) = self.marker.take().and_then(|m| Arc::try_unwrap(m).ok()) {
            marker.release();
        }
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.heartbeat.take() {
            let _ = t.join();
        }
        self.fanotify.take();
        self.bpf.take();
    }
}

impl Drop for DriftControl {
    fn drop(&mut self) {
        // Without `stop()` the marker stays: the next start reports the gap.
        self.shutdown();
    }
}
