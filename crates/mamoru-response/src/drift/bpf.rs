//! The kernel side of drift control: `bpf/drift.bpf.c` loaded as either its BPF LSM program or its exec-kill
//! program, the scope and allow-list maps fed from user space, and the ring buffer of alerts read on a thread.

use super::container::{kernel_dev, ContainerMeta, ContainerRootfs};
use super::control::AlertSink;
use super::probe::Mechanism;
use super::report::{drift_alert, DriftRecord};
use super::Verdict;
use crate::error::ResponseError;
use crate::skel::{DriftSkel, DriftSkelBuilder};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, MapHandle, OpenObject, RingBufferBuilder};
use std::collections::HashMap;
use std::fs;
use std::mem::MaybeUninit;
use std::os::unix::fs::MetadataExt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Which program of `drift.bpf.c` to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BpfProgram {
    /// `lsm/bprm_check_security`: denies with EPERM.
    Lsm,
    /// `tp_btf/sched_process_exec`: SIGKILLs before the new image runs.
    ExecKill,
}

impl BpfProgram {
    fn mechanism(self) -> Mechanism {
        match self {
            BpfProgram::Lsm => Mechanism::BpfLsm,
            BpfProgram::ExecKill => Mechanism::BpfKill,
        }
    }
}

/// Counters of the kernel side (summed over CPUs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriftStats {
    /// Execs in a covered container.
    pub in_scope: u64,
    pub alerted: u64,
    pub blocked: u64,
    /// Alerts lost because the ring buffer was full (the block itself still happened).
    pub ring_full: u64,
    pub signal_failed: u64,
}

/// Size of `struct drift_event` in drift.bpf.c.
const EVENT_LEN: usize = 392;
const MECH_LSM: u32 = 1;

/// Heap slot holding the libbpf object the skeleton borrows (the skeleton API ties the object's lifetime to a
/// caller-owned `MaybeUninit<OpenObject>`).
struct ObjectSlot(NonNull<MaybeUninit<OpenObject>>);

impl ObjectSlot {
    fn new() -> Self {
        ObjectSlot(NonNull::from(Box::leak(Box::new(MaybeUninit::uninit()))))
    }

    /// # Safety
    /// Call at most once, and drop everything borrowing from the returned reference before the slot.
    unsafe fn borrow_for_skeleton(&mut self) -> &'static mut MaybeUninit<OpenObject> {
        // SAFETY: the pointer comes from Box::leak and is unique; the caller ends the borrow before `drop`.
        unsafe { &mut *self.0.as_ptr() }
    }
}

impl Drop for ObjectSlot {
    fn drop(&mut self) {
        // SAFETY: leaked in `new`; the skeleton that borrowed it was dropped first (field order of `Loaded`).
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// A loaded and attached skeleton with its slot. Field order is drop order.
struct Loaded {
    skel: DriftSkel<'static>,
    _slot: ObjectSlot,
}

// SAFETY: libbpf objects are not tied to a thread; the slot pointer is owned exclusively by this value.
unsafe impl Send for Loaded {}

thread_local! {
    /// Set while probing: a refused program is an expected answer there, not a warning.
    static PROBING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// libbpf's own messages (verifier logs, load errors) go to `tracing` instead of stderr.
fn route_libbpf_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        libbpf_rs::set_print(Some((libbpf_rs::PrintLevel::Debug, log_libbpf)));
    });
}

fn log_libbpf(level: libbpf_rs::PrintLevel, msg: String) {
    let msg = msg.trim_end();
    let level = if PROBING.with(std::cell::Cell::get) {
        libbpf_rs::PrintLevel::Debug
    } else {
        level
    };
    match level {
        libbpf_rs::PrintLevel::Warn => tracing::warn!(target: "libbpf", "{msg}"),
        libbpf_rs::PrintLevel::Info => tracing::info!(target: "libbpf", "{msg}"),
        libbpf_rs::PrintLevel::Debug => tracing::debug!(target: "libbpf", "{msg}"),
    }
}

fn load(program: BpfProgram) -> Result<Loaded, ResponseError> {
    route_libbpf_logs();
    let mut slot = ObjectSlot::new();
    // SAFETY: called once; `open` and `skel` are dropped before `slot` on every path (declared after it here,
    // stored before it in `Loaded`).
    let storage = unsafe { slot.borrow_for_skeleton() };
    let mut open = DriftSkelBuilder::default()
        .open(storage)
        .map_err(ResponseError::bpf("open drift.bpf.o"))?;
    open.progs.drift_lsm_check.set_autoload(program == BpfProgram::Lsm);
    open.progs.drift_exec_kill.set_autoload(program == BpfProgram::ExecKill);
    let mut skel = open.load().map_err(ResponseError::bpf("load"))?;
    skel.attach().map_err(ResponseError::bpf("attach"))?;
    Ok(Loaded { skel, _slot: slot })
}

/// A running kernel-side drift enforcer.
pub struct BpfDrift {
    program: BpfProgram,
    scope: MapHandle,
    allowed: MapHandle,
    stats: MapHandle,
    containers: Arc<Mutex<HashMap<u32, ContainerMeta>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    // Last: detached after the reader stopped.
    _loaded: Loaded,
}

impl BpfDrift {
    /// Loads and attaches `program`, then unloads it: the probe.
    pub fn load_only(program: BpfProgram) -> Result<(), ResponseError> {
        PROBING.with(|p| p.set(true));
        let result = load(program).map(drop);
        PROBING.with(|p| p.set(false));
        result
    }

    /// Loads and attaches `program`; alerts and blocks go to `sink`.
    pub fn start(program: BpfProgram, sink: AlertSink) -> Result<BpfDrift, ResponseError> {
        let loaded = load(program)?;
        let maps = &loaded.skel.maps;
        let handle = |m: &libbpf_rs::Map<'_>| MapHandle::try_from(m).map_err(ResponseError::bpf("map handle"));
        let scope = handle(&maps.drift_scope)?;
        let allowed = handle(&maps.drift_allowed)?;
        let stats = handle(&maps.drift_stats)?;
        let events = handle(&maps.drift_events)?;
        let containers: Arc<Mutex<HashMap<u32, ContainerMeta>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (containers, stop) = (Arc::clone(&containers), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("mamoru-drift-bpf".into())
                .spawn(move || read_events(events, containers, stop, sink))
                .map_err(ResponseError::io("spawning the drift event reader"))?
        };
        tracing::info!(
            mechanism = program.mechanism().name(),
            "drift control BPF program attached"
        );
        Ok(BpfDrift {
            program,
            scope,
            allowed,
            stats,
            containers,
            stop,
            reader: Some(reader),
            _loaded: loaded,
        })
    }

    pub fn mechanism(&self) -> Mechanism {
        self.program.mechanism()
    }

    /// Covers a container: execs of tasks whose root is its overlay are checked against `policy_bits`.
    /// Allow-list entries without wildcards that exist in the container now are allowed by inode.
    pub fn add_container(
        &self,
        rootfs: &ContainerRootfs,
        policy_bits: u32,
        allow: &[String],
    ) -> Result<(), ResponseError> {
        let kdev = rootfs.kernel_dev();
        for entry in allow.iter().filter(|a| !a.contains(['*', '?'])) {
            let path = rootfs.merged.join(entry.trim_start_matches('/'));
            if let Ok(meta) = fs::metadata(&path) {
                let key = exe_key(kernel_dev(meta.dev()), meta.ino());
                self.allowed
                    .update(&key, &[1u8], MapFlags::ANY)
                    .map_err(ResponseError::bpf("allow-list update"))?;
            }
        }
        if allow.iter().any(|a| a.contains(['*', '?'])) {
            tracing::warn!(
                container = %rootfs.meta.id,
                "allow-list patterns with wildcards are not enforced by the {} program (exact paths only)",
                self.mechanism().name()
            );
        }
        if let Ok(mut map) = self.containers.lock() {
            map.insert(kdev, rootfs.meta.clone());
        }
        self.scope
            .update(&kdev.to_ne_bytes(), &policy_bits.to_ne_bytes(), MapFlags::ANY)
            .map_err(ResponseError::bpf("scope update"))
    }

    /// Stops covering the container whose overlay has kernel device `kdev`.
    pub fn remove_container(&self, kdev: u32) -> Result<(), ResponseError> {
        if let Ok(mut map) = self.containers.lock() {
            map.remove(&kdev);
        }
        match self.scope.delete(&kdev.to_ne_bytes()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == libbpf_rs::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ResponseError::Bpf {
                step: "scope delete",
                source: e,
            }),
        }
    }

    /// The kernel-side counters.
    pub fn stats(&self) -> Result<DriftStats, ResponseError> {
        let sum = |idx: u32| -> Result<u64, ResponseError> {
            let per_cpu = self
                .stats
                .lookup_percpu(&idx.to_ne_bytes(), MapFlags::ANY)
                .map_err(ResponseError::bpf("stats lookup"))?
                .unwrap_or_default();
            Ok(per_cpu
                .iter()
                .filter_map(|v| v.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
                .sum())
        };
        Ok(DriftStats {
            in_scope: sum(0)?,
            alerted: sum(1)?,
            blocked: sum(2)?,
            ring_full: sum(3)?,
            signal_failed: sum(4)?,
        })
    }
}

impl Drop for BpfDrift {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
    }
}

fn exe_key(dev: u32, ino: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..4].copy_from_slice(&dev.to_ne_bytes());
    key[8..].copy_from_slice(&ino.to_ne_bytes());
    key
}

fn read_events(
    events: MapHandle,
    containers: Arc<Mutex<HashMap<u32, ContainerMeta>>>,
    stop: Arc<AtomicBool>,
    sink: AlertSink,
) {
    let mut builder = RingBufferBuilder::new();
    let callback = |data: &[u8]| {
        match parse_event(data, &containers) {
            Some(rec) => sink(drift_alert(&rec)),
            None => tracing::warn!(len = data.len(), "malformed drift event from the kernel"),
        }
        0
    };
    if let Err(e) = builder.add(&events, callback) {
        tracing::error!(error = %e, "drift ring buffer: alerts of the BPF program cannot be read");
        return;
    }
    let ring = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "drift ring buffer: alerts of the BPF program cannot be read");
            return;
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = ring.poll(Duration::from_millis(100)) {
            if e.kind() != libbpf_rs::ErrorKind::Interrupted {
                tracing::error!(error = %e, "drift ring buffer poll failed");
                return;
            }
        }
    }
    // Whatever the kernel reported before the stop.
    let _ = ring.consume();
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    b.get(off..off + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}

fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Decodes `struct drift_event`.
fn parse_event(b: &[u8], containers: &Mutex<HashMap<u32, ContainerMeta>>) -> Option<DriftRecord> {
    if b.len() < EVENT_LEN {
        return None;
    }
    let root_dev = u32_at(b, 24);
    let verdict = match u32_at(b, 44) {
        1 => Verdict::Alert,
        2 => Verdict::Block,
        _ => return None,
    };
    let mechanism = if u32_at(b, 48) == MECH_LSM {
        Mechanism::BpfLsm
    } else {
        Mechanism::BpfKill
    };
    let action_rc = u32_at(b, 52) as i32;
    let action = match (verdict, mechanism) {
        (Verdict::Block, Mechanism::BpfLsm) => "EPERM".to_string(),
        (Verdict::Block, _) if action_rc == 0 => "SIGKILL before the new image ran".to_string(),
        (Verdict::Block, _) => format!("SIGKILL failed: {action_rc}"),
        _ => String::new(),
    };
    let name = c_str(&b[72..136]);
    let filename = c_str(&b[136..392]);
    let exepath = if name.starts_with("memfd:") {
        format!("{filename} ({name})")
    } else {
        filename
    };
    Some(DriftRecord {
        verdict,
        mechanism,
        facts: u32_at(b, 40),
        pid: i64::from(u32_at(b, 0)),
        tid: i64::from(u32_at(b, 4)),
        ppid: i64::from(u32_at(b, 8)),
        uid: u32_at(b, 12),
        comm: c_str(&b[56..72]),
        exepath,
        exe_dev: u64::from(u32_at(b, 28)),
        exe_ino: u64_at(b, 32),
        container: containers.lock().ok().and_then(|m| m.get(&root_dev).cloned()),
        action,
    })
}
