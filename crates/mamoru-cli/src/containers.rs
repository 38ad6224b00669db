//! Container metadata on the live path: the [`mamoru_container::Gate`] between the sensor and the syscall pipeline
//! (lookups on a worker thread, events of a container whose lookup is in flight held up to `max_wait`).

use crate::pipeline::SyscallPipeline;
use mamoru_container::{Enricher, EventClock, Gate, MetadataConfig, StagedPipeline};
use mamoru_engine::Alert;
use mamoru_event::RawEvent;
use mamoru_state::State;
use std::time::Duration;

impl StagedPipeline for SyscallPipeline {
    type Alert = Alert;

    fn state(&self) -> &State {
        &self.state
    }

    fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    fn apply_event(&mut self, raw: &RawEvent<'_>) {
        SyscallPipeline::apply_event(self, raw);
    }

    fn evaluate_event(&mut self, raw: &RawEvent<'_>, emit: &mut dyn FnMut(Alert)) {
        SyscallPipeline::evaluate_event(self, raw, emit);
    }
}

/// How often the live loop comes back while an event is held (the lookup usually answers within milliseconds).
const HELD_POLL: Duration = Duration::from_millis(2);

/// The live container path: a gate when the metadata worker started, the plain pipeline otherwise.
pub struct LiveContainers {
    gate: Option<Gate>,
    clock: EventClock,
}

impl LiveContainers {
    /// Starts the metadata worker for the runtimes `cfg` names. A worker that cannot start leaves container.* to
    /// what the cgroups tell (id and type), with a warning.
    pub fn start(cfg: &MetadataConfig) -> Self {
        let gate = match Enricher::start(cfg) {
            Ok(e) => Some(Gate::new(e, cfg.max_wait, cfg.max_queued_bytes)),
            Err(e) => {
                tracing::warn!("container metadata disabled: {e}");
                None
            }
        };
        LiveContainers {
            gate,
            clock: EventClock::new(),
        }
    }

    /// No metadata lookups: events go straight to the pipeline.
    pub fn disabled() -> Self {
        LiveContainers {
            gate: None,
            clock: EventClock::new(),
        }
    }

    pub fn on_event(&mut self, p: &mut SyscallPipeline, raw: &RawEvent<'_>, emit: &mut dyn FnMut(Alert)) {
        match &mut self.gate {
            Some(g) => g.on_event(p, raw, self.clock.for_event(), emit),
            None => p.on_event(raw, emit),
        }
    }

    /// Call between sensor polls: applies finished lookups and releases held events that may go.
    pub fn poll(&mut self, p: &mut SyscallPipeline, emit: &mut dyn FnMut(Alert)) {
        if let Some(g) = &mut self.gate {
            g.poll(p, self.clock.now(), emit);
        }
    }

    /// How long the live loop may block in the sensor: short while an event is held.
    pub fn poll_timeout(&self, idle: Duration) -> Duration {
        match &self.gate {
            Some(g) if g.is_holding() => HELD_POLL.min(idle),
            _ => idle,
        }
    }

    /// Evaluates whatever is still held (shutdown).
    pub fn flush(&mut self, p: &mut SyscallPipeline, emit: &mut dyn FnMut(Alert)) {
        if let Some(g) = &mut self.gate {
            g.flush(p, emit);
        }
    }

    /// One line for the end-of-run summary.
    pub fn summary(&self) -> String {
        let Some(g) = &self.gate else {
            return "containers: metadata disabled".into();
        };
        let e = g.enricher().stats();
        let h = g.stats();
        format!(
            "containers: {} lookups ({} resolved, {} unknown, {} failed, {} refused), {} in table, {} evicted, {} exited; \
             events held {} (timeouts {}, overflows {})",
            e.lookups,
            e.resolved,
            e.not_found,
            e.failed,
            e.queue_full,
            e.entries,
            e.evicted,
            e.exited,
            h.held,
            h.timeouts,
            h.overflows
        )
    }
}
