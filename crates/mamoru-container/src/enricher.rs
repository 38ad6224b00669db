//! The event thread's side of container metadata: decides which containers need a lookup, keeps a bounded table of
//! what was asked and answered (least recently used entries evicted and counted), and applies answers to the state
//! between events.

use crate::worker::{LookupOutcome, LookupRequest, Resolver, Worker};
use crate::{LookupError, MetadataConfig};
use mamoru_state::{container_from_cgroups, State, HOST_ID};
use rustc_hash::FxHashMap;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Where the metadata of an event's container stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Host event, metadata applied, or no runtime knows the container: evaluate now.
    Ready,
    /// A lookup is in flight since the given instant.
    Pending(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending(Instant),
    Resolved,
    /// No runtime knows it (or the lookup failed): retried after `retry_after`.
    Unresolved(Instant),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    status: Status,
    last_used: u64,
    /// First sweep that found no live thread of this container in the state.
    gone_since: Option<Instant>,
}

/// Counters of the metadata path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnricherStats {
    pub lookups: u64,
    pub resolved: u64,
    /// Lookups no runtime answered (the container keeps its cgroup-derived id and type).
    pub not_found: u64,
    pub failed: u64,
    /// Requests refused because the worker's queue was full (asked again on a later event).
    pub queue_full: u64,
    /// Entries evicted from the bounded table (their metadata leaves the state too).
    pub evicted: u64,
    /// Entries dropped because their container had no live thread for the grace period (it exited).
    pub exited: u64,
    /// Containers in the table now.
    pub entries: usize,
}

/// The metadata client for one state.
pub struct Enricher {
    worker: Worker,
    /// Keyed by the short container id. Fx hashing: the ids come from cgroup paths of this host's processes, and
    /// this lookup runs on every container event.
    entries: FxHashMap<Vec<u8>, Entry>,
    /// Lookups submitted and not yet applied: while none is, the outcome channel is not polled on every event.
    in_flight: usize,
    capacity: usize,
    retry_after: Duration,
    exited_grace: Duration,
    last_sweep: Option<Instant>,
    tick: u64,
    /// Evicted ids whose metadata is still in the state (removed at the next [`Enricher::apply_ready`]).
    evicted: Vec<Vec<u8>>,
    stats: EnricherStats,
}

impl Enricher {
    /// Starts the worker with the runtimes `cfg` configures.
    pub fn start(cfg: &MetadataConfig) -> Result<Self, LookupError> {
        Self::with_resolver(cfg, crate::worker::runtime_resolver(cfg))
    }

    /// Starts the worker with a custom resolver (tests, other runtimes).
    pub fn with_resolver(cfg: &MetadataConfig, resolver: Resolver) -> Result<Self, LookupError> {
        let worker = Worker::start(resolver, cfg.host_root.clone(), cfg.queue, cfg.max_in_flight)?;
        Ok(Enricher {
            worker,
            entries: FxHashMap::default(),
            in_flight: 0,
            capacity: cfg.cache_capacity.max(1),
            retry_after: cfg.retry_after,
            exited_grace: cfg.exited_grace,
            last_sweep: None,
            tick: 0,
            evicted: Vec::new(),
            stats: EnricherStats::default(),
        })
    }

    pub fn stats(&self) -> EnricherStats {
        EnricherStats {
            entries: self.entries.len(),
            ..self.stats
        }
    }

    /// Looks at the container of thread `tid` after the state applied an event: asks for its metadata the first
    /// time (and again after `retry_after` when nobody knew it), and says whether the event can be evaluated now.
    pub fn observe(&mut self, state: &State, tid: i64, now: Instant) -> Readiness {
        let Some(t) = state.thread(tid) else {
            return Readiness::Ready;
        };
        if t.container_id == HOST_ID || t.container_id.is_empty() {
            return Readiness::Ready;
        }
        self.tick += 1;
        let tick = self.tick;
        if let Some(e) = self.entries.get_mut(&t.container_id) {
            e.last_used = tick;
            match e.status {
                Status::Resolved => return Readiness::Ready,
                Status::Pending(since) => return Readiness::Pending(since),
                Status::Unresolved(at) if now.duration_since(at) < self.retry_after => return Readiness::Ready,
                Status::Unresolved(_) => {}
            }
        }
        let Some(found) = container_from_cgroups(t.cgroups.iter().map(|(_, p)| p.as_slice())) else {
            return Readiness::Ready;
        };
        let req = LookupRequest {
            id: t.container_id.clone(),
            full_id: String::from_utf8_lossy(&found.full_id).into_owned(),
            runtime: found.runtime,
            namespace: found.namespace.map(|n| String::from_utf8_lossy(&n).into_owned()),
            pid: t.pid,
            cgroups: t
                .cgroups
                .iter()
                .filter(|(_, p)| p.as_slice() != b"/")
                .map(|(s, p)| {
                    (
                        String::from_utf8_lossy(s).into_owned(),
                        String::from_utf8_lossy(p).into_owned(),
                    )
                })
                .collect(),
        };
        let id = req.id.clone();
        if !self.worker.submit(req) {
            self.stats.queue_full += 1;
            return Readiness::Ready;
        }
        self.stats.lookups += 1;
        self.in_flight += 1;
        self.insert(id, Status::Pending(now), tick);
        Readiness::Pending(now)
    }

    /// Applies every finished lookup to `state`; returns how many were applied.
    pub fn apply_ready(&mut self, state: &mut State, now: Instant) -> usize {
        self.sweep_exited(state, now);
        self.forget_evicted(state);
        let mut n = 0;
        while self.in_flight > 0 {
            let Some(outcome) = self.worker.try_recv() else {
                break;
            };
            self.apply(state, outcome, now);
            n += 1;
        }
        n
    }

    /// Waits up to `timeout` for one lookup to finish and applies it (and any others already finished).
    pub fn wait_and_apply(&mut self, state: &mut State, timeout: Duration) -> usize {
        match self.worker.recv_timeout(timeout) {
            Some(outcome) => {
                let now = Instant::now();
                self.apply(state, outcome, now);
                1 + self.apply_ready(state, now)
            }
            None => 0,
        }
    }

    /// Whether container `id` still has a lookup in flight.
    pub fn is_pending(&self, id: &[u8]) -> bool {
        matches!(self.entries.get(id).map(|e| e.status), Some(Status::Pending(_)))
    }

    fn apply(&mut self, state: &mut State, outcome: LookupOutcome, now: Instant) {
        // Every submitted request gets exactly one outcome (a worker task that died would leave this above zero,
        // which only costs a poll of an empty channel per event).
        self.in_flight = self.in_flight.saturating_sub(1);
        let LookupOutcome {
            id,
            result,
            users,
            groups,
        } = outcome;
        let status = match result {
            Ok(Some(info)) => {
                self.stats.resolved += 1;
                state.set_container(info);
                Status::Resolved
            }
            Ok(None) => {
                self.stats.not_found += 1;
                tracing::debug!("no runtime knows container {}", String::from_utf8_lossy(&id));
                Status::Unresolved(now)
            }
            Err(e) => {
                self.stats.failed += 1;
                tracing::warn!("container {} metadata: {e}", String::from_utf8_lossy(&id));
                Status::Unresolved(now)
            }
        };
        users.into_iter().for_each(|u| state.add_user(u));
        groups.into_iter().for_each(|g| state.add_group(g));
        // An entry evicted while its lookup was in flight comes back: the answer is still the freshest fact.
        let tick = self.tick;
        match self.entries.get_mut(&id) {
            Some(e) => e.status = status,
            None => self.insert(id, status, tick),
        }
    }

    /// Every half grace period, finds the containers with no live thread in the state; one found so in sweeps at
    /// least `exited_grace` apart has exited and leaves the table (its metadata is forgotten right after). A walk of
    /// the thread table every few seconds is far cheaper than keeping a per-container count on every fork and exit.
    fn sweep_exited(&mut self, state: &State, now: Instant) {
        let every = self.exited_grace / 2;
        if self.entries.is_empty()
            || self
                .last_sweep
                .is_some_and(|t| now.saturating_duration_since(t) < every)
        {
            return;
        }
        self.last_sweep = Some(now);
        let live: HashSet<&[u8]> = state.threads().map(|t| t.container_id.as_slice()).collect();
        let grace = self.exited_grace;
        let mut exited = Vec::new();
        for (id, e) in &mut self.entries {
            if matches!(e.status, Status::Pending(_)) || live.contains(id.as_slice()) {
                e.gone_since = None;
                continue;
            }
            match e.gone_since {
                None => e.gone_since = Some(now),
                Some(since) if now.saturating_duration_since(since) >= grace => exited.push(id.clone()),
                Some(_) => {}
            }
        }
        for id in exited {
            self.entries.remove(&id);
            self.evicted.push(id);
            self.stats.exited += 1;
        }
    }

    /// Drops the metadata of evicted containers from the state (their users and groups too).
    fn forget_evicted(&mut self, state: &mut State) {
        for id in self.evicted.drain(..) {
            // An id looked up again since its eviction is live: keep what the new lookup brings.
            if !self.entries.contains_key(&id) {
                state.remove_container(&id);
            }
        }
    }

    /// Inserts an entry, evicting the least recently used sixteenth of the table first when it is full.
    fn insert(&mut self, id: Vec<u8>, status: Status, tick: u64) {
        if !self.entries.contains_key(&id) && self.entries.len() >= self.capacity {
            self.evict_batch();
        }
        self.entries.insert(
            id,
            Entry {
                status,
                last_used: tick,
                gone_since: None,
            },
        );
    }

    fn evict_batch(&mut self) {
        let n = (self.capacity / 16).max(1).min(self.entries.len());
        let mut ranked: Vec<(u64, Vec<u8>)> = self
            .entries
            .iter()
            .filter(|(_, e)| !matches!(e.status, Status::Pending(_)))
            .map(|(k, e)| (e.last_used, k.clone()))
            .collect();
        let n = n.min(ranked.len());
        if n == 0 {
            return;
        }
        if n < ranked.len() {
            ranked.select_nth_unstable(n - 1);
        }
        for (_, id) in ranked.into_iter().take(n) {
            self.entries.remove(&id);
            self.evicted.push(id);
            self.stats.evicted += 1;
        }
    }
}
