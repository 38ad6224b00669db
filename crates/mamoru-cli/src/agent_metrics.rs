//! The agent's own Prometheus metrics: the event path (events in, kernel drops by reason, undecodable events,
//! per-rule matches, evaluation latency, source lag, ring-buffer backlog) and the state tables' sizes. Registered in
//! the shared [`mamoru_alerts::MetricsRegistry`] next to the outputs' metrics.

use mamoru_alerts::metrics::Labels;
use mamoru_sensor::SensorStats;
use mamoru_state::StateStats;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// One event in this many has its evaluation timed (two clock reads per event would cost more than they tell).
pub const LATENCY_SAMPLE_EVERY: u64 = 64;

fn label(k: &str, v: &str) -> Labels {
    vec![(k.to_string(), v.to_string())]
}

/// The event path's metrics.
#[derive(Clone)]
pub struct AgentMetrics {
    pub events_in: Counter,
    pub kernel_events: Counter,
    pub kernel_dropped: Family<Labels, Counter>,
    pub kernel_filtered: Family<Labels, Counter>,
    pub undecodable: Counter,
    pub rule_matches: Family<Labels, Counter>,
    pub evaluation_seconds: Histogram,
    pub source_lag_seconds: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub ring_pending_bytes: Gauge,
    pub state_entries: Family<Labels, Gauge>,
    last: SensorStats,
}

impl Default for AgentMetrics {
    fn default() -> Self {
        AgentMetrics {
            events_in: Counter::default(),
            kernel_events: Counter::default(),
            kernel_dropped: Family::default(),
            kernel_filtered: Family::default(),
            undecodable: Counter::default(),
            rule_matches: Family::default(),
            // 250 ns .. ~1 ms.
            evaluation_seconds: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                250e-9, 2.0, 13,
            )),
            source_lag_seconds: Family::default(),
            ring_pending_bytes: Gauge::default(),
            state_entries: Family::default(),
            last: SensorStats::default(),
        }
    }
}

impl AgentMetrics {
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "events_received",
            "Events handed to the rules engine",
            self.events_in.clone(),
        );
        registry.register(
            "kernel_events",
            "Events the kernel side wrote to the ring buffer",
            self.kernel_events.clone(),
        );
        registry.register(
            "kernel_events_dropped",
            "Events lost in the kernel, by reason",
            self.kernel_dropped.clone(),
        );
        registry.register(
            "kernel_syscalls_filtered",
            "Syscall exits left in the kernel, by reason (not_needed: no rule nor the state engine needs the \
             syscall; no_state_change: a state-only call that would change nothing)",
            self.kernel_filtered.clone(),
        );
        registry.register(
            "undecodable_events",
            "Sensor records that did not decode",
            self.undecodable.clone(),
        );
        registry.register("rule_matches", "Alerts raised, by rule", self.rule_matches.clone());
        registry.register(
            "rule_evaluation_seconds",
            "State update plus rule evaluation time of one event (sampled)",
            self.evaluation_seconds.clone(),
        );
        registry.register(
            "source_lag_seconds",
            "Wall clock minus the timestamp of the last event processed, by source",
            self.source_lag_seconds.clone(),
        );
        registry.register(
            "ring_buffer_pending_bytes",
            "Bytes waiting in the kernel ring buffer",
            self.ring_pending_bytes.clone(),
        );
        registry.register(
            "state_entries",
            "Entries in the state tables, by table",
            self.state_entries.clone(),
        );
    }

    pub fn rule_matched(&self, rule: &str) {
        self.rule_matches.get_or_create(&label("rule", rule)).inc();
    }

    /// Folds a sensor snapshot in (counters advance by the difference since the last one).
    pub fn observe_sensor(&mut self, now: &SensorStats) {
        let (t, p) = (&now.totals, &self.last.totals);
        self.kernel_events.inc_by(t.emitted.saturating_sub(p.emitted));
        for (reason, n, prev) in [
            ("ring_full", t.dropped_ring_full, p.dropped_ring_full),
            ("too_large", t.dropped_too_large, p.dropped_too_large),
            ("no_buffer", t.dropped_no_buffer, p.dropped_no_buffer),
            ("malformed", t.dropped_malformed, p.dropped_malformed),
            ("tail_call", t.tail_call_failures, p.tail_call_failures),
        ] {
            self.kernel_dropped
                .get_or_create(&label("reason", reason))
                .inc_by(n.saturating_sub(prev));
        }
        for (reason, n, prev) in [
            ("not_needed", t.filtered, p.filtered),
            ("no_state_change", t.filtered_state_only, p.filtered_state_only),
        ] {
            self.kernel_filtered
                .get_or_create(&label("reason", reason))
                .inc_by(n.saturating_sub(prev));
        }
        self.ring_pending_bytes.set(now.pending_bytes as i64);
        self.last = now.clone();
    }

    pub fn observe_state(&self, s: &StateStats) {
        for (table, n) in [
            ("threads", s.threads),
            ("processes", s.processes),
            ("fds", s.fds),
            ("users", s.users),
            ("groups", s.groups),
            ("containers", s.containers),
        ] {
            self.state_entries.get_or_create(&label("table", table)).set(n as i64);
        }
    }

    pub fn observe_lag(&self, source: &str, event_ts_ns: u64, now_ns: u64) {
        let lag = now_ns.saturating_sub(event_ts_ns) as f64 / 1e9;
        self.source_lag_seconds.get_or_create(&label("source", source)).set(lag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_counters_advance_by_difference_and_encode() {
        let mut m = AgentMetrics::default();
        let reg = mamoru_alerts::MetricsRegistry::new();
        reg.with(|r| m.register_metrics(r));
        let mut s = SensorStats::default();
        s.totals.emitted = 10;
        s.totals.dropped_ring_full = 2;
        s.totals.filtered = 1000;
        m.observe_sensor(&s);
        s.totals.filtered = 1500;
        s.totals.emitted = 15;
        m.observe_sensor(&s);
        m.rule_matched("Terminal shell in container");
        m.evaluation_seconds.observe(1e-6);
        let text = reg.encode();
        assert!(text.contains("mamoru_kernel_events_total 15"), "{text}");
        assert!(
            text.contains("mamoru_kernel_events_dropped_total{reason=\"ring_full\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("mamoru_rule_matches_total{rule=\"Terminal shell in container\"} 1"),
            "{text}"
        );
        assert!(text.contains("mamoru_rule_evaluation_seconds_count 1"), "{text}");
        assert!(
            text.contains("mamoru_kernel_syscalls_filtered_total{reason=\"not_needed\"} 1500"),
            "{text}"
        );
    }
}
