//! The mamoru-alerts integration tests, one binary: the router with real sinks, and each sink transport.

mod router;
mod sinks_transport;

use mamoru_alerts::config::{SpoolConfig, StdoutOutput};
use mamoru_alerts::RouterConfig;
use mamoru_engine::{Alert, FieldJson};
use mamoru_rules::Priority;
use std::path::Path;
use std::sync::Arc;

/// Alert number `n` of `rule` (a Warning, as syslog's severity checks expect).
pub fn alert(rule: &str, n: u64) -> Alert {
    Alert {
        time_ns: 1_700_000_000_000_000_000 + n,
        rule: Arc::from(rule),
        priority: Priority::Warning,
        source: "syscall",
        tags: vec![],
        message: format!("alert number {n}"),
        output_fields: vec![("n".into(), FieldJson::U64(n))],
        subject: None,
    }
}

/// A router writing JSON, stdout off, its spool under `dir` with a short fsync interval.
pub fn base(dir: &Path) -> RouterConfig {
    RouterConfig {
        json_output: true,
        hostname: "test-host".into(),
        stdout: StdoutOutput { enabled: false },
        spool: SpoolConfig {
            directory: dir.join("spool"),
            fsync_interval_ms: 20,
            ..SpoolConfig::default()
        },
        ..RouterConfig::default()
    }
}
