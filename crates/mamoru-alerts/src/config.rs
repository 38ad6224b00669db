//! The configuration sections the alert router reads. Key names mirror falco.yaml where the concept is the same
//! (`stdout_output`, `file_output`, `syslog_output`, `http_output`, `program_output`, `outputs.rate`,
//! `outputs.max_burst`, `outputs_queue.capacity`, `webserver`); `nats_output` and `spool` are mamoru's own. Every
//! section rejects unknown keys, naming them.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `stdout_output`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StdoutOutput {
    pub enabled: bool,
}

impl Default for StdoutOutput {
    fn default() -> Self {
        StdoutOutput { enabled: true }
    }
}

/// `file_output`: JSON lines (or text lines with `json_output: false`), rotated by size.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FileOutput {
    pub enabled: bool,
    /// Falco's key; the file is always kept open (reopened after rotation or an error).
    pub keep_alive: bool,
    pub filename: PathBuf,
    /// Rotate when the file would exceed this many MiB (0: never).
    pub max_size_mb: u64,
    /// Rotated files kept (`events.txt.1` .. `.N`).
    pub max_files: u32,
}

impl Default for FileOutput {
    fn default() -> Self {
        FileOutput {
            enabled: false,
            keep_alive: false,
            filename: PathBuf::from("./events.txt"),
            max_size_mb: 100,
            max_files: 5,
        }
    }
}

/// Syslog transport.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    /// The local socket, `/dev/log` (datagrams).
    Local,
    Udp,
    /// Octet-counted framing (RFC 6587).
    Tcp,
}

/// `syslog_output`: RFC 5424 messages.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogOutput {
    pub enabled: bool,
    pub transport: SyslogTransport,
    /// `host:port` for udp/tcp; a socket path for local.
    pub address: String,
    /// Facility number (0-23); Falco logs as `LOG_USER` (1).
    pub facility: u8,
    pub app_name: String,
}

impl Default for SyslogOutput {
    fn default() -> Self {
        SyslogOutput {
            enabled: false,
            transport: SyslogTransport::Local,
            address: "/dev/log".into(),
            facility: 1,
            app_name: "mamoru".into(),
        }
    }
}

/// `http_output`: POSTs each alert in Falco's JSON schema (what falcosidekick's `/` endpoint takes).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpOutput {
    pub enabled: bool,
    pub url: String,
    pub user_agent: String,
    /// Skip server certificate verification (tests only).
    pub insecure: bool,
    /// PEM CA certificate(s) to trust in addition to the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Present a client certificate (mutual TLS).
    pub mtls: bool,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Extra request headers (e.g. an `Authorization` token).
    pub custom_headers: BTreeMap<String, String>,
    pub timeout_ms: u64,
}

impl Default for HttpOutput {
    fn default() -> Self {
        HttpOutput {
            enabled: false,
            url: String::new(),
            user_agent: format!("mamoru/{}", env!("CARGO_PKG_VERSION")),
            insecure: false,
            ca_cert: None,
            mtls: false,
            client_cert: None,
            client_key: None,
            custom_headers: BTreeMap::new(),
            timeout_ms: 5000,
        }
    }
}

/// `program_output`: alerts written to a program's stdin, one per line.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProgramOutput {
    pub enabled: bool,
    /// Falco's key; the program is always kept running (restarted when it exits).
    pub keep_alive: bool,
    /// Run with `sh -c`.
    pub program: String,
}

impl Default for ProgramOutput {
    fn default() -> Self {
        ProgramOutput {
            enabled: false,
            keep_alive: false,
            program: "mail -s \"Falco Notification\" someone@example.com".into(),
        }
    }
}

/// `nats_output`: NATS JetStream, one subject per source and priority: `<subject_prefix>.<source>.<priority>`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NatsOutput {
    pub enabled: bool,
    pub url: String,
    pub stream: String,
    pub subject_prefix: String,
    /// Create the stream (subjects `<subject_prefix>.>`) when it does not exist.
    pub create_stream: bool,
    /// Publish acknowledgements awaited before a batch counts as delivered.
    pub timeout_ms: u64,
}

impl Default for NatsOutput {
    fn default() -> Self {
        NatsOutput {
            enabled: false,
            url: "nats://127.0.0.1:4222".into(),
            stream: "MAMORU_ALERTS".into(),
            subject_prefix: "mamoru".into(),
            create_stream: true,
            timeout_ms: 5000,
        }
    }
}

/// `outputs`: Falco's notification token bucket, applied per rule here.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Alerts per second per rule (0: unlimited).
    pub rate: f64,
    pub max_burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            rate: 0.0,
            max_burst: 1000,
        }
    }
}

/// `outputs_queue`: each in-memory sink queue's bound.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OutputsQueue {
    pub capacity: usize,
}

impl Default for OutputsQueue {
    fn default() -> Self {
        OutputsQueue { capacity: 10_000 }
    }
}

/// `spool`: the on-disk queue of the durable sinks (all but stdout).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SpoolConfig {
    pub enabled: bool,
    pub directory: PathBuf,
    pub max_bytes: u64,
    pub segment_bytes: u64,
    /// Appended records are fsync'd in batches at this interval.
    pub fsync_interval_ms: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            enabled: true,
            directory: PathBuf::from("/var/lib/mamoru/spool"),
            max_bytes: 1 << 30,
            segment_bytes: 16 << 20,
            fsync_interval_ms: 200,
        }
    }
}

/// `webserver`: the Prometheus metrics and health endpoints (Falco's section name and keys, plus a bearer token).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebserverConfig {
    pub enabled: bool,
    pub listen_address: String,
    pub listen_port: u16,
    pub k8s_healthz_endpoint: String,
    pub prometheus_metrics_enabled: bool,
    pub ssl_enabled: bool,
    /// PEM with the certificate chain (and the key, as Falco's single-file form, unless `ssl_private_key` is set).
    pub ssl_certificate: Option<PathBuf>,
    pub ssl_private_key: Option<PathBuf>,
    /// File holding the token clients must send as `Authorization: Bearer <token>`.
    pub bearer_token_file: Option<PathBuf>,
}

impl Default for WebserverConfig {
    fn default() -> Self {
        WebserverConfig {
            enabled: false,
            listen_address: "127.0.0.1".into(),
            listen_port: 8765,
            k8s_healthz_endpoint: "/healthz".into(),
            prometheus_metrics_enabled: true,
            ssl_enabled: false,
            ssl_certificate: None,
            ssl_private_key: None,
            bearer_token_file: None,
        }
    }
}

/// Everything the router needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouterConfig {
    /// JSON (true) or text lines for stdout, file and program (Falco's `json_output`).
    pub json_output: bool,
    pub hostname: String,
    pub stdout: StdoutOutput,
    pub file: FileOutput,
    pub syslog: SyslogOutput,
    pub http: HttpOutput,
    pub program: ProgramOutput,
    pub nats: NatsOutput,
    pub rate: RateLimit,
    pub queue: OutputsQueue,
    pub spool: SpoolConfig,
}
