//! Holding events back while a new container's metadata is on its way.
//!
//! The first event of a container the agent has not seen starts a lookup. Evaluating that event at once would
//! give its alerts `<NA>` in `container.name`, `container.image.*` and `k8s.*`, and rules whose conditions or
//! exceptions use those fields would decide on missing data. So the gate holds: the event that started (or found)
//! a pending lookup is applied to the state but not evaluated, and every later event is queued unapplied (copied),
//! so the state stays exactly as it was after the held event. The held event is evaluated as soon as the lookup
//! answers, or when `max_wait` has passed since the lookup started, whichever comes first; the queue is then
//! replayed in order (and may hold again for the next new container). Alerts therefore carry full metadata
//! whenever the runtime answers within `max_wait`; otherwise they are emitted with what is known (container.id and
//! container.type from the cgroups, `<NA>` for the rest) and the timeout is counted. The queue is bounded in bytes;
//! past the bound the held event is released early (counted). Events of containers already known, and of the
//! host, never wait unless they arrive behind a held one.

use crate::enricher::{Enricher, Readiness};
use mamoru_event::RawEvent;
use mamoru_state::State;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The event pipeline as the gate drives it: state update and rule evaluation as two steps.
pub trait StagedPipeline {
    type Alert;
    fn state(&self) -> &State;
    fn state_mut(&mut self) -> &mut State;
    /// Applies the event to the state (no evaluation).
    fn apply_event(&mut self, raw: &RawEvent<'_>);
    /// Evaluates the rules on the event applied last.
    fn evaluate_event(&mut self, raw: &RawEvent<'_>, emit: &mut dyn FnMut(Self::Alert));
}

/// Counters of the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Events held for a pending lookup (each evaluated later).
    pub held: u64,
    /// Held events released because the lookup took longer than `max_wait`.
    pub timeouts: u64,
    /// Held events released early because the queue behind them reached its byte bound.
    pub overflows: u64,
    /// Events queued behind a held one.
    pub queued: u64,
    /// Queued events that no longer parsed (never expected: they parsed when they arrived).
    pub unparsable: u64,
}

struct Held {
    bytes: Vec<u8>,
    cpu: u16,
    container: Vec<u8>,
    since: Instant,
}

/// The gate between the sensor and the pipeline.
pub struct Gate {
    enricher: Enricher,
    max_wait: Duration,
    max_queued_bytes: usize,
    head: Option<Held>,
    queue: VecDeque<(Vec<u8>, u16)>,
    queued_bytes: usize,
    stats: GateStats,
}

impl Gate {
    pub fn new(enricher: Enricher, max_wait: Duration, max_queued_bytes: usize) -> Self {
        Gate {
            enricher,
            max_wait,
            max_queued_bytes,
            head: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            stats: GateStats::default(),
        }
    }

    pub fn stats(&self) -> GateStats {
        self.stats
    }

    pub fn enricher(&self) -> &Enricher {
        &self.enricher
    }

    /// Whether an event is held.
    pub fn is_holding(&self) -> bool {
        self.head.is_some()
    }

    /// When the held event will be released at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        self.head.as_ref().map(|h| h.since + self.max_wait)
    }

    /// Takes one event from the sensor.
    pub fn on_event<P: StagedPipeline>(
        &mut self,
        p: &mut P,
        raw: &RawEvent<'_>,
        now: Instant,
        emit: &mut dyn FnMut(P::Alert),
    ) {
        if self.head.is_none() {
            self.process(p, raw, now, emit);
            return;
        }
        let bytes = raw.bytes().to_vec();
        self.queued_bytes += bytes.len();
        self.queue.push_back((bytes, raw.cpu));
        self.stats.queued += 1;
        if self.queued_bytes > self.max_queued_bytes {
            self.stats.overflows += 1;
            self.release_head(p, emit);
            self.drain_queue(p, now, emit);
        }
        self.poll(p, now, emit);
    }

    /// Applies finished lookups and releases what can be released. Call it when the sensor is idle too (a held
    /// event waits for this call).
    pub fn poll<P: StagedPipeline>(&mut self, p: &mut P, now: Instant, emit: &mut dyn FnMut(P::Alert)) {
        self.enricher.apply_ready(p.state_mut(), now);
        while let Some(h) = &self.head {
            let pending = self.enricher.is_pending(&h.container);
            if pending && now.saturating_duration_since(h.since) < self.max_wait {
                return;
            }
            if pending {
                self.stats.timeouts += 1;
            }
            self.release_head(p, emit);
            self.drain_queue(p, now, emit);
        }
    }

    /// Waits (up to the held event's deadline, at most `limit`) for the lookup the held event needs, then polls.
    pub fn wait<P: StagedPipeline>(&mut self, p: &mut P, limit: Duration, emit: &mut dyn FnMut(P::Alert)) {
        if let Some(deadline) = self.deadline() {
            let left = deadline.saturating_duration_since(Instant::now()).min(limit);
            self.enricher.wait_and_apply(p.state_mut(), left);
        }
        self.poll(p, Instant::now(), emit);
    }

    /// Releases everything now (shutdown): held and queued events are evaluated with what is known.
    pub fn flush<P: StagedPipeline>(&mut self, p: &mut P, emit: &mut dyn FnMut(P::Alert)) {
        let now = Instant::now();
        self.enricher.apply_ready(p.state_mut(), now);
        while self.head.is_some() {
            self.release_head(p, emit);
            self.drain_queue(p, now, emit);
        }
    }

    fn process<P: StagedPipeline>(
        &mut self,
        p: &mut P,
        raw: &RawEvent<'_>,
        now: Instant,
        emit: &mut dyn FnMut(P::Alert),
    ) {
        self.enricher.apply_ready(p.state_mut(), now);
        p.apply_event(raw);
        match self.enricher.observe(p.state(), raw.tid as i64, now) {
            Readiness::Ready => p.evaluate_event(raw, emit),
            Readiness::Pending(since) => {
                let container = p
                    .state()
                    .thread(raw.tid as i64)
                    .map(|t| t.container_id.clone())
                    .unwrap_or_default();
                self.stats.held += 1;
                self.head = Some(Held {
                    bytes: raw.bytes().to_vec(),
                    cpu: raw.cpu,
                    container,
                    since,
                });
            }
        }
    }

    fn release_head<P: StagedPipeline>(&mut self, p: &mut P, emit: &mut dyn FnMut(P::Alert)) {
        let Some(h) = self.head.take() else {
            return;
        };
        match RawEvent::parse(&h.bytes, h.cpu) {
            Ok(raw) => p.evaluate_event(&raw, emit),
            Err(_) => self.stats.unparsable += 1,
        }
    }

    /// Replays queued events until one holds again or the queue is empty.
    fn drain_queue<P: StagedPipeline>(&mut self, p: &mut P, now: Instant, emit: &mut dyn FnMut(P::Alert)) {
        while self.head.is_none() {
            let Some((bytes, cpu)) = self.queue.pop_front() else {
                return;
            };
            self.queued_bytes -= bytes.len();
            match RawEvent::parse(&bytes, cpu) {
                Ok(raw) => self.process(p, &raw, now, emit),
                Err(_) => self.stats.unparsable += 1,
            }
        }
    }
}

/// A clock for the event loop that reads the system clock once every [`EventClock::EVERY`] events: the gate's
/// times (lookup start, `max_wait`, retry and sweep intervals) are milliseconds to seconds, while reading the clock
/// per event costs more than the rest of the metadata path. An idle loop calls [`EventClock::now`], which reads it.
#[derive(Debug)]
pub struct EventClock {
    now: Instant,
    events: u32,
}

impl EventClock {
    /// Events between two reads of the system clock (tens of microseconds at full rate).
    pub const EVERY: u32 = 64;

    pub fn new() -> Self {
        EventClock {
            now: Instant::now(),
            events: 0,
        }
    }

    /// The time for the next event: the last reading, renewed every [`EventClock::EVERY`] calls.
    pub fn for_event(&mut self) -> Instant {
        self.events += 1;
        if self.events >= Self::EVERY {
            self.events = 0;
            self.now = Instant::now();
        }
        self.now
    }

    /// Reads the system clock now (between sensor polls, when an event is held or the loop is idle).
    pub fn now(&mut self) -> Instant {
        self.events = 0;
        self.now = Instant::now();
        self.now
    }
}

impl Default for EventClock {
    fn default() -> Self {
        Self::new()
    }
}
