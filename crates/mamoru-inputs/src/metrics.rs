//! Prometheus metrics of the live inputs, labelled by source (and by input and reason where it helps triage).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputLabels {
    source: String,
    input: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    source: String,
    input: String,
    reason: String,
}

/// Every input's counters and gauges.
#[derive(Debug, Default)]
pub struct InputMetrics {
    records: Family<InputLabels, Counter>,
    batches: Family<InputLabels, Counter>,
    errors: Family<ReasonLabels, Counter>,
    rejected: Family<ReasonLabels, Counter>,
    lag: Family<InputLabels, Gauge<f64, AtomicU64>>,
    spool_bytes: Family<InputLabels, Gauge>,
}

impl InputMetrics {
    pub fn register_metrics(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("mamoru_input");
        r.register(
            "records",
            "Records committed (evaluated) per input",
            self.records.clone(),
        );
        r.register("batches", "Batches committed per input", self.batches.clone());
        r.register(
            "errors",
            "Errors per input and reason (malformed records, I/O, upstream HTTP failures)",
            self.errors.clone(),
        );
        r.register(
            "rejected_requests",
            "Webhook/push requests refused per input and reason (auth, signature, too large, not JSON, spool full)",
            self.rejected.clone(),
        );
        r.register(
            "lag_seconds",
            "Wall-clock time minus the event time of the last committed record",
            self.lag.clone(),
        );
        r.register(
            "spool_bytes",
            "Bytes accepted by a webhook and not yet evaluated",
            self.spool_bytes.clone(),
        );
    }

    /// The metrics of one input (`k8s_audit`/`webhook`, `aws_cloudtrail`/`s3`, ...).
    pub fn input(self: &Arc<Self>, source: &str, input: &str) -> SourceMetrics {
        SourceMetrics {
            metrics: self.clone(),
            labels: InputLabels {
                source: source.to_string(),
                input: input.to_string(),
            },
        }
    }
}

/// A handle on one input's series.
#[derive(Debug, Clone)]
pub struct SourceMetrics {
    metrics: Arc<InputMetrics>,
    labels: InputLabels,
}

impl SourceMetrics {
    fn reason(&self, reason: &str) -> ReasonLabels {
        ReasonLabels {
            source: self.labels.source.clone(),
            input: self.labels.input.clone(),
            reason: reason.to_string(),
        }
    }

    /// A batch of `n` records whose newest event time is `newest_ts_ns` was committed.
    pub fn committed(&self, n: usize, newest_ts_ns: Option<u64>) {
        self.metrics.records.get_or_create(&self.labels).inc_by(n as u64);
        self.metrics.batches.get_or_create(&self.labels).inc();
        if let Some(ts) = newest_ts_ns {
            let lag = (crate::time::now_ns().saturating_sub(ts)) as f64 / 1e9;
            self.metrics.lag.get_or_create(&self.labels).set(lag);
        }
    }

    pub fn error(&self, reason: &str) {
        self.metrics.errors.get_or_create(&self.reason(reason)).inc();
    }

    pub fn rejected(&self, reason: &str) {
        self.metrics.rejected.get_or_create(&self.reason(reason)).inc();
    }

    pub fn set_spool_bytes(&self, bytes: u64) {
        self.metrics
            .spool_bytes
            .get_or_create(&self.labels)
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Committed records so far (tests and summaries).
    pub fn records_total(&self) -> u64 {
        self.metrics.records.get_or_create(&self.labels).get()
    }

    pub fn errors_total(&self, reason: &str) -> u64 {
        self.metrics.errors.get_or_create(&self.reason(reason)).get()
    }

    pub fn rejected_total(&self, reason: &str) -> u64 {
        self.metrics.rejected.get_or_create(&self.reason(reason)).get()
    }
}
