//! Alert delivery for mamoru: the router between the detection engines and the places alerts go.
//!
//! Every [`mamoru_engine::Alert`] handed to [`AlertSender::send`] gets a unique id (UUID v7, added to Falco's JSON
//! alert as `uuid`), passes the rule's token bucket (Falco's `outputs.rate`/`max_burst`, per rule, suppression
//! counted and reported as an alert) and is queued for each enabled sink: stdout, a size-rotated JSON-lines file,
//! RFC 5424 syslog (local socket, UDP, TCP), an HTTP(S) webhook in falcosidekick's input schema (custom headers,
//! mutual TLS), a program's stdin, and NATS JetStream (a subject per source and priority, the id as `Nats-Msg-Id`).
//! Each sink has its own queue and worker, so a slow or dead sink never holds back another or the event path. With
//! the spool enabled the network and file sinks are durable: alerts are appended to a checksummed on-disk log
//! (fsync'd in batches) and each sink delivers from its own cursor, in order, at least once, across sink outages and
//! agent crashes (SIGKILL included). [`metrics`] holds the Prometheus registry every component registers into, and
//! the `/metrics` + health endpoint (loopback by default; TLS and a bearer token required anywhere else).

pub mod config;
pub mod envelope;
pub mod metrics;
pub mod ratelimit;
pub mod router;
pub mod sinks;
pub mod spool;

pub use config::RouterConfig;
pub use envelope::Envelope;
pub use metrics::{AlertMetrics, Health, MetricsRegistry, MetricsServer};
pub use router::{Accepted, AlertSender, Router, RouterError};
