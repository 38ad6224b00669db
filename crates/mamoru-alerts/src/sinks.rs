//! The sinks: where alerts go. Each delivers a batch in order and says how much of it arrived, so a retry resends
//! only the rest (at-least-once: a batch whose acknowledgement was lost is sent again).

use crate::config::{FileOutput, HttpOutput, NatsOutput, ProgramOutput, SyslogOutput, SyslogTransport};
use crate::envelope::Envelope;
use mamoru_output::format_rfc3339_nanos;
use mamoru_rules::Priority;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Error)]
pub enum SinkError {
    #[error("{sink}: {message}")]
    Failed { sink: &'static str, message: String },
    #[error("{sink} configuration: {message}")]
    Config { sink: &'static str, message: String },
}

fn failed(sink: &'static str, e: impl std::fmt::Display) -> SinkError {
    SinkError::Failed {
        sink,
        message: e.to_string(),
    }
}

fn config(sink: &'static str, message: impl Into<String>) -> SinkError {
    SinkError::Config {
        sink,
        message: message.into(),
    }
}

/// A batch delivered in part: the first `delivered` alerts arrived, then `error`.
#[derive(Debug)]
pub struct Partial {
    pub delivered: usize,
    pub error: SinkError,
}

fn partial(delivered: usize) -> impl FnOnce(SinkError) -> Partial {
    move |error| Partial { delivered, error }
}

/// One sink of any kind.
pub enum Sink {
    Stdout { json: bool },
    File(FileSink),
    Syslog(SyslogSink),
    Http(HttpSink),
    Program(ProgramSink),
    Nats(NatsSink),
}

impl Sink {
    /// The sink's name in metrics, logs and spool cursors.
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Stdout { .. } => "stdout",
            Sink::File(_) => "file",
            Sink::Syslog(_) => "syslog",
            Sink::Http(_) => "http",
            Sink::Program(_) => "program",
            Sink::Nats(_) => "nats",
        }
    }

    pub async fn deliver(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Partial> {
        match self {
            Sink::Stdout { json } => {
                let mut buf = String::new();
                for e in batch {
                    buf.push_str(e.line(*json));
                    buf.push('\n');
                }
                // A blocking write: stdout is a pipe or terminal, and this worker has its own queue.
                let mut out = std::io::stdout().lock();
                out.write_all(buf.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| partial(0)(failed("stdout", e)))
            }
            Sink::File(s) => s.deliver(batch),
            Sink::Syslog(s) => s.deliver(batch).await,
            Sink::Http(s) => s.deliver(batch).await,
            Sink::Program(s) => s.deliver(batch).await,
            Sink::Nats(s) => {
                let res = s.deliver(batch).await;
                if res.is_err() {
                    s.reset();
                }
                res
            }
        }
    }
}

/// JSON (or text) lines appended to a file, rotated by size: `name` → `name.1` → ... → `name.<max_files>`.
pub struct FileSink {
    path: PathBuf,
    json: bool,
    max_bytes: u64,
    max_files: u32,
    file: Option<(File, u64)>,
}

impl FileSink {
    pub fn new(cfg: &FileOutput, json: bool) -> Result<Self, SinkError> {
        if cfg.filename.as_os_str().is_empty() {
            return Err(config("file_output", "filename is empty"));
        }
        Ok(FileSink {
            path: cfg.filename.clone(),
            json,
            max_bytes: cfg.max_size_mb.saturating_mul(1 << 20),
            max_files: cfg.max_files,
            file: None,
        })
    }

    fn deliver(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Partial> {
        let mut buf = Vec::new();
        for e in batch {
            buf.extend_from_slice(e.line(self.json).as_bytes());
            buf.push(b'\n');
        }
        let size = self.file.as_ref().map(|f| f.1);
        if let Some(size) = size {
            if self.max_bytes > 0 && size > 0 && size + buf.len() as u64 > self.max_bytes {
                self.rotate().map_err(partial(0))?;
            }
        }
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| failed("file", format!("{}: {e}", self.path.display())))
                .map_err(partial(0))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            self.file = Some((f, len));
        }
        let Some((f, len)) = self.file.as_mut() else {
            return Err(partial(0)(failed("file", "not open")));
        };
        if let Err(e) = f.write_all(&buf) {
            // Reopen next time (the file may have been removed or the disk filled).
            self.file = None;
            return Err(partial(0)(failed("file", format!("{}: {e}", self.path.display()))));
        }
        *len += buf.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), SinkError> {
        self.file = None;
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.max_files == 0 {
            return fs::remove_file(&self.path).map_err(|e| failed("file", e));
        }
        for n in (1..self.max_files).rev() {
            let from = numbered(n);
            if from.exists() {
                fs::rename(&from, numbered(n + 1)).map_err(|e| failed("file", e))?;
            }
        }
        fs::rename(&self.path, numbered(1)).map_err(|e| failed("file", format!("{}: {e}", self.path.display())))
    }
}

/// RFC 5424 syslog over the local socket, UDP or TCP (octet-counted framing, RFC 6587).
pub struct SyslogSink {
    cfg: SyslogOutput,
    json: bool,
    hostname: String,
    conn: Option<SyslogConn>,
}

enum SyslogConn {
    Local(tokio::net::UnixDatagram),
    Udp(tokio::net::UdpSocket),
    Tcp(tokio::net::TcpStream),
}

impl SyslogSink {
    pub fn new(cfg: &SyslogOutput, json: bool, hostname: &str) -> Result<Self, SinkError> {
        if cfg.facility > 23 {
            return Err(config(
                "syslog_output",
                format!("facility {} is not 0-23", cfg.facility),
            ));
        }
        if cfg.address.is_empty() {
            return Err(config("syslog_output", "address is empty"));
        }
        Ok(SyslogSink {
            cfg: cfg.clone(),
            json,
            hostname: if hostname.is_empty() {
                "-".into()
            } else {
                hostname.to_string()
            },
            conn: None,
        })
    }

    /// One RFC 5424 message: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
    pub fn format(&self, e: &Envelope, now_ns: u64) -> String {
        let severity = severity(e.priority);
        let pri = u32::from(self.cfg.facility) * 8 + severity;
        // RFC 5424 allows at most six fractional digits.
        let mut ts = format_rfc3339_nanos(now_ns, "Z");
        ts.replace_range(ts.len() - 4..ts.len() - 1, "");
        format!(
            "<{pri}>1 {ts} {} {} {} alert [mamoru@32473 uuid=\"{}\" source=\"{}\"] {}",
            self.hostname,
            self.cfg.app_name,
            std::process::id(),
            sd_escape(&e.id),
            sd_escape(&e.source),
            e.line(self.json)
        )
    }

    async fn connect(&self) -> Result<SyslogConn, SinkError> {
        let addr = &self.cfg.address;
        let err = |e: std::io::Error| failed("syslog", format!("{addr}: {e}"));
        Ok(match self.cfg.transport {
            SyslogTransport::Local => {
                let s = tokio::net::UnixDatagram::unbound().map_err(err)?;
                s.connect(addr).map_err(err)?;
                SyslogConn::Local(s)
            }
            SyslogTransport::Udp => {
                let s = tokio::net::UdpSocket::bind("0.0.0.0:0").await.map_err(err)?;
                s.connect(addr).await.map_err(err)?;
                SyslogConn::Udp(s)
            }
            SyslogTransport::Tcp => SyslogConn::Tcp(tokio::net::TcpStream::connect(addr).await.map_err(err)?),
        })
    }

    async fn deliver(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Partial> {
        for (i, e) in batch.iter().enumerate() {
            if self.conn.is_none() {
                self.conn = Some(self.connect().await.map_err(partial(i))?);
            }
            let msg = self.format(e, now_ns());
            let res = match self.conn.as_mut() {
                Some(SyslogConn::Local(s)) => s.send(msg.as_bytes()).await.map(|_| ()),
                Some(SyslogConn::Udp(s)) => s.send(msg.as_bytes()).await.map(|_| ()),
                Some(SyslogConn::Tcp(s)) => s.write_all(format!("{} {msg}", msg.len()).as_bytes()).await,
                None => Ok(()),
            };
            if let Err(err) = res {
                self.conn = None;
                return Err(partial(i)(failed("syslog", err)));
            }
        }
        Ok(())
    }
}

/// Falco's priorities are syslog's severities, in the same order.
fn severity(p: Priority) -> u32 {
    p as u32
}

/// RFC 5424 PARAM-VALUE escaping: `"`, `\` and `]`.
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// HTTP(S) webhook: one POST per alert with Falco's JSON alert as the body (what falcosidekick takes).
pub struct HttpSink {
    client: reqwest::Client,
    url: String,
}

impl HttpSink {
    pub fn new(cfg: &HttpOutput) -> Result<Self, SinkError> {
        let url =
            reqwest::Url::parse(&cfg.url).map_err(|e| config("http_output", format!("url '{}': {e}", cfg.url)))?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &cfg.custom_headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| config("http_output", format!("custom_headers: '{k}': {e}")))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|e| config("http_output", format!("custom_headers: value of '{k}': {e}")))?;
            headers.insert(name, value);
        }
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(cfg.user_agent.clone())
            .default_headers(headers)
            .timeout(Duration::from_millis(cfg.timeout_ms.max(1)))
            .danger_accept_invalid_certs(cfg.insecure);
        if let Some(ca) = &cfg.ca_cert {
            let pem = fs::read(ca).map_err(|e| config("http_output", format!("ca_cert {}: {e}", ca.display())))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| config("http_output", format!("ca_cert {}: {e}", ca.display())))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        if cfg.mtls {
            let (Some(cert), Some(key)) = (&cfg.client_cert, &cfg.client_key) else {
                return Err(config("http_output", "mtls: true needs client_cert and client_key"));
            };
            let mut pem =
                fs::read(cert).map_err(|e| config("http_output", format!("client_cert {}: {e}", cert.display())))?;
            pem.push(b'\n');
            pem.extend(fs::read(key).map_err(|e| config("http_output", format!("client_key {}: {e}", key.display())))?);
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| config("http_output", format!("client certificate: {e}")))?;
            b = b.identity(id);
        }
        let client = b.build().map_err(|e| config("http_output", e.to_string()))?;
        Ok(HttpSink {
            client,
            url: url.to_string(),
        })
    }

    async fn deliver(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Partial> {
        for (i, e) in batch.iter().enumerate() {
            let resp = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(e.json.clone())
                .send()
                .await
                .map_err(|err| partial(i)(failed("http", err)))?;
            if !resp.status().is_success() {
                return Err(partial(i)(failed(
                    "http",
                    format!("{} answered {}", self.url, resp.status()),
                )));
            }
        }
        Ok(())
    }
}

/// A program fed alerts on its stdin (`sh -c PROGRAM`): kept running with `keep_alive`, else one run per alert as
/// Falco does (a non-zero exit is a failed delivery).
pub struct ProgramSink {
    program: String,
    keep_alive: bool,
    json: bool,
    child: Option<(tokio::process::Child, tokio::process::ChildStdin)>,
}

impl ProgramSink {
    pub fn new(cfg: &ProgramOutput, json: bool) -> Result<Self, SinkError> {
        if cfg.program.trim().is_empty() {
            return Err(config("program_output", "program is empty"));
        }
        Ok(ProgramSink {
            program: cfg.program.clone(),
            keep_alive: cfg.keep_alive,
            json,
            child: None,
        })
    }

    fn spawn(&self) -> Result<(tokio::process::Child, tokio::process::ChildStdin), SinkError> {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&self.program)
            .stdin(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed("program", format!("{}: {e}", self.program)))?;
        let stdin = child.stdin.take().ok_or_else(|| failed("program", "no stdin pipe"))?;
        Ok((child, stdin))
    }

    async fn deliver(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Partial> {
        for (i, e) in batch.iter().enumerate() {
            let line = format!("{}\n", e.line(self.json));
            if self.keep_alive {
                if self
                    .child
                    .as_mut()
                    .is_none_or(|(c, _)| c.try_wait().ok().flatten().is_some())
                {
                    self.child = Some(self.spawn().map_err(partial(i))?);
                }
                if let Some((_, stdin)) = self.child.as_mut() {
                    let res = match stdin.write_all(line.as_bytes()).await {
                        Ok(()) => stdin.flush().await,
                        Err(e) => Err(e),
                    };
                    if let Err(err) = res {
                        self.child = None;
                        return Err(partial(i)(failed("program", err)));
                    }
                }
            } else {
                let (mut child, mut stdin) = self.spawn().map_err(partial(i))?;
                let write = stdin.write_all(line.as_bytes()).await;
                drop(stdin);
                let status = child.wait().await.map_err(|err| partial(i)(failed("program", err)))?;
                if let Err(err) = write {
                    return Err(partial(i)(failed("program", err)));
                }
                if !status.success() {
                    return Err(partial(i)(failed(
                        "program",
                        format!("{} exited with {status}", self.program),
                    )));
                }
            }
        }
        Ok(())
    }
}

/// NATS JetStream: each alert published to `<prefix>.<source>.<priority>` with the alert id as `Nats-Msg-Id`, so
/// the server drops a redelivered duplicate within its duplicate window; a batch counts as delivered when
/// JetStream acknowledged (stored) each message.
pub struct NatsSink {
    cfg: NatsOutput,
    js: Option<async_nats::jetstream::Context>,
}

impl NatsSink {
    pub fn new(cfg: &NatsOutput) -> Result<Self, SinkError> {
        if cfg.stream.is_empty() || cfg.subject_prefix.is_empty() {
            return Err(config("nats_output", "stream and subject_prefix must not be empty"));
        }
        Ok(NatsSink {
            cfg: cfg.clone(),
            js: None,
        })
    }

    /// `<prefix>.<source>.<priority>`, lower case, NATS token characters only.
    pub fn subject(&self, e: &Envelope) -> String {
        let token = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        format!(
            "{}.{}.{}",
            self.cfg.subject_prefix,
            token(&e.source),
            token(e.priority.as_str())
        )
    }

    async fn connect(&self) -> Result<async_nats::jetstream::Context, SinkError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(2))
            .name("mamoru")
            .connect(self.cfg.url.as_str())
            .await
            .map_err(|e| failed("nats", format!("{}: {e}", self.cfg.url)))?;
        let mut js = async_nats::jetstream::new(client);
        js.set_timeout(Duration::from_millis(self.cfg.timeout_ms.max(1)));
        if self.cfg.create_stream {
            js.get_or_create_stream(async_nats::jetstream::stream::Config {
                name: self.cfg.stream.clone(),
                subjects: vec![format!("{}.>", self.cfg.subject_prefix)],
                storage: async_nats::jetstream::stream::StorageType::File,
                duplicate_window: Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .map_err(|e| failed("nats", format!("stream {}: {e}", self.cfg.stream)))?;
        }
        Ok(js)
    }

    async fn deliver(&mut self, batch: &[Arc<Envelope>]) -> Result<(), Partial> {
        if self.js.is_none() {
            self.js = Some(self.connect().await.map_err(partial(0))?);
        }
        let Some(js) = self.js.clone() else {
            return Err(partial(0)(failed("nats", "not connected")));
        };
        // Publish the whole batch, then await the acknowledgements in order: one round trip per batch.
        let mut acks = Vec::with_capacity(batch.len());
        for (i, e) in batch.iter().enumerate() {
            let publish = async_nats::jetstream::context::Publish::build()
                .payload(e.json.clone().into_bytes().into())
                .message_id(&e.id);
            match js.send_publish(self.subject(e), publish).await {
                Ok(ack) => acks.push(ack),
                Err(err) => {
                    return self.settle(acks, i, Some(failed("nats", err))).await;
                }
            }
        }
        let n = acks.len();
        self.settle(acks, n, None).await
    }

    /// After a failure the connection is rebuilt on the next attempt (the client's own reconnection may have given
    /// up; JetStream's duplicate detection absorbs whatever the old connection still flushes).
    fn reset(&mut self) {
        self.js = None;
    }

    /// Awaits acknowledgements; the delivered prefix ends at the first missing one.
    async fn settle(
        &mut self,
        acks: Vec<async_nats::jetstream::context::PublishAckFuture>,
        _sent: usize,
        send_error: Option<SinkError>,
    ) -> Result<(), Partial> {
        let mut delivered = 0;
        for ack in acks {
            match ack.await {
                Ok(_) => delivered += 1,
                Err(err) => {
                    return Err(Partial {
                        delivered,
                        error: failed("nats", err),
                    })
                }
            }
        }
        match send_error {
            Some(error) => Err(Partial { delivered, error }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::alert;

    #[test]
    fn syslog_message_is_rfc5424() {
        let cfg = SyslogOutput {
            enabled: true,
            facility: 4,
            ..Default::default()
        };
        let s = SyslogSink::new(&cfg, false, "host1").unwrap();
        let e = Envelope::new(&alert("r", 1), "host1");
        let msg = s.format(&e, 1_470_327_477_881_781_397);
        let want_prefix = "<36>1 2016-08-04T16:17:57.881781Z host1 mamoru ";
        assert!(msg.starts_with(want_prefix), "{msg}");
        assert!(msg.contains(&format!("[mamoru@32473 uuid=\"{}\" source=\"syscall\"] ", e.id)));
        assert!(msg.ends_with(&e.text));
        assert_eq!(sd_escape("a\"b]c\\"), "a\\\"b\\]c\\\\");
    }

    #[test]
    fn nats_subject_per_source_and_priority() {
        let s = NatsSink::new(&NatsOutput::default()).unwrap();
        let mut e = Envelope::new(&alert("r", 1), "h");
        assert_eq!(s.subject(&e), "mamoru.syscall.warning");
        e.source = "k8s.audit".into();
        assert_eq!(s.subject(&e), "mamoru.k8s_audit.warning");
    }

    #[test]
    fn file_sink_rotates_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        let mut s = FileSink::new(
            &FileOutput {
                enabled: true,
                filename: path.clone(),
                max_size_mb: 0,
                max_files: 2,
                ..Default::default()
            },
            true,
        )
        .unwrap();
        s.max_bytes = 1000;
        let batch: Vec<_> = (0..40).map(|i| Arc::new(Envelope::new(&alert("r", i), "h"))).collect();
        for e in &batch {
            s.deliver(std::slice::from_ref(e)).unwrap();
        }
        let read = |p: &PathBuf| fs::read_to_string(p).unwrap_or_default();
        let rotated1 = PathBuf::from(format!("{}.1", path.display()));
        let rotated2 = PathBuf::from(format!("{}.2", path.display()));
        assert!(!PathBuf::from(format!("{}.3", path.display())).exists());
        for p in [&path, &rotated1, &rotated2] {
            assert!(fs::metadata(p).unwrap().len() <= 1000);
            for line in read(p).lines() {
                serde_json::from_str::<serde_json::Value>(line).unwrap();
            }
        }
        // The newest alert is in the live file, older ones in .1.
        let last = &batch[39];
        assert!(read(&path).contains(&last.id));
        assert!(!read(&rotated1).contains(&last.id));
    }
}
