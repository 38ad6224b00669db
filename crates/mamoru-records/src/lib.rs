//! Frames raw input files into the records Falco's plugin sources would emit, one JSON record per event.
//!
//! [`RecordReader::open`] takes a path (`-` for stdin) and a [`RecordSource`] and yields
//! `Result<`[`Record`]`, `[`RecordError`]`>`: the record's parsed JSON, its exact raw text, its timestamp taken as the
//! plugin takes it, and where it came from. Accepted layouts (gzip is detected by its magic bytes; any number of
//! JSON documents may follow each other, one per line or pretty-printed):
//!
//! | source | accepted documents | timestamp | dropped (counted in [`Stats`]) |
//! |---|---|---|---|
//! | `k8s_audit` | an audit `Event`, an `EventList` (`{"kind":"EventList","items":[...]}`), or a JSON array of those | `/stageTimestamp` | no/unparseable stageTimestamp |
//! | `aws_cloudtrail` | a CloudTrail log file `{"Records":[...]}`, one record, or an array of records | `/eventTime` | no eventTime; no `/eventType`; eventType `AwsCloudTrailInsight` |
//! | `okta` | a System Log `LogEvent`, or an array of them (the API's page) | `/published` | no/unparseable published |
//! | `github` | a webhook payload that already carries `webhook_type`, or the envelope `{"headers":{"X-GitHub-Event":"push", ...},"body":{...},"received_at":"<RFC 3339>"}` (`received_at` optional) | `received_at`, else the time the record is read (the plugin's receipt time) | unparseable received_at |
//! | `gcp_auditlog` | a Cloud Logging `LogEntry`, an array of them, or an `entries.list` page `{"entries":[...]}` | `/receiveTimestamp` (the plugin's Pub/Sub receipt), else `/timestamp` | neither present/parseable |
//!
//! For the GitHub envelope, the header value is injected as the payload's first member `webhook_type`, as the
//! github plugin does before emitting the event; header names are matched case-insensitively.
//!
//! Bad input never loses what was already read: the reader yields every good record before an error, reports the
//! error with the file, line and byte offset (offsets count decompressed bytes), and goes on with the next line
//! (NDJSON) or the next element (documents). Limits ([`Limits`]) bound the size of one record, of one top-level
//! document, and of the whole decompressed input (a gzip-bomb guard); exceeding the input bound ends the stream.

mod rawjson;
mod timestamp;

pub use timestamp::parse_rfc3339;

use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// The key under which the github plugin stores the `X-GitHub-Event` header value.
pub const GITHUB_WEBHOOK_TYPE_KEY: &str = "webhook_type";

/// Which plugin source the input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordSource {
    K8sAudit,
    CloudTrail,
    Okta,
    Github,
    GcpAudit,
}

impl RecordSource {
    pub const ALL: [RecordSource; 5] = [
        RecordSource::K8sAudit,
        RecordSource::CloudTrail,
        RecordSource::Okta,
        RecordSource::Github,
        RecordSource::GcpAudit,
    ];

    /// The Falco source name (`k8s_audit`, `aws_cloudtrail`, `okta`, `github`, `gcp_auditlog`).
    pub fn name(self) -> &'static str {
        match self {
            RecordSource::K8sAudit => "k8s_audit",
            RecordSource::CloudTrail => "aws_cloudtrail",
            RecordSource::Okta => "okta",
            RecordSource::Github => "github",
            RecordSource::GcpAudit => "gcp_auditlog",
        }
    }

    /// The source with Falco source name `name`.
    pub fn from_name(name: &str) -> Option<RecordSource> {
        RecordSource::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for RecordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Size bounds on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single record, in bytes (default 16 MiB).
    pub max_record_bytes: usize,
    /// Largest top-level JSON document (an `EventList`, a CloudTrail file, an array), in bytes (default 512 MiB).
    pub max_document_bytes: usize,
    /// Most bytes read from one input after decompression (default 8 GiB): the gzip-bomb guard.
    pub max_input_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 16 << 20,
            max_document_bytes: 512 << 20,
            max_input_bytes: 8 << 30,
        }
    }
}

/// Where a record (or an error) starts: the input's name, its 1-based line, its byte offset (decompressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u64,
    pub offset: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} (byte {})", self.file, self.line, self.offset)
    }
}

/// One event's record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The parsed record (always a JSON object).
    pub value: Value,
    /// The record's JSON text: the exact bytes `value` was parsed from.
    pub raw: Vec<u8>,
    /// Event time, nanoseconds since the epoch.
    pub ts_ns: u64,
    pub origin: Origin,
}

/// Why input could not be framed.
#[derive(Debug, Error)]
pub enum RecordError {
    #[error("{file}: cannot open: {source}")]
    Open { file: Arc<str>, source: io::Error },
    #[error("{file}: read error after byte {offset}: {source}")]
    Read {
        file: Arc<str>,
        offset: u64,
        source: io::Error,
    },
    #[error("{at}: malformed JSON: {msg}")]
    Malformed { at: Origin, msg: String },
    #[error("{at}: {what} of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        at: Origin,
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("{file}: input exceeds {limit} bytes after decompression")]
    InputTooLarge { file: Arc<str>, limit: u64 },
    #[error("{at}: {why}")]
    Unrecognized { at: Origin, why: String },
}

/// Counts of what a reader produced and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records yielded.
    pub records: u64,
    /// Records dropped for lacking the source's timestamp member.
    pub skipped_no_timestamp: u64,
    /// Records dropped because their timestamp is not RFC 3339 (or precedes the epoch).
    pub skipped_bad_timestamp: u64,
    /// CloudTrail records dropped for lacking `eventType`.
    pub skipped_no_event_type: u64,
    /// CloudTrail Insights records (`eventType` `AwsCloudTrailInsight`), dropped as the plugin does.
    pub skipped_insight: u64,
    /// Errors yielded.
    pub errors: u64,
}

impl Stats {
    /// All dropped records.
    pub fn skipped(&self) -> u64 {
        self.skipped_no_timestamp + self.skipped_bad_timestamp + self.skipped_no_event_type + self.skipped_insight
    }
}

const READ_CHUNK: usize = 256 << 10;
/// Arrays nested in arrays are framed recursively up to this depth (k8s: arrays of EventLists).
const MAX_NESTING: u32 = 4;

/// Iterator over the records of one input.
pub struct RecordReader {
    input: Box<dyn Read + Send>,
    splitter: Splitter,
    framer: Framer,
    bytes_read: u64,
    eof: bool,
    done: bool,
}

impl fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordReader")
            .field("file", &self.framer.file)
            .field("source", &self.framer.source)
            .field("stats", &self.framer.stats)
            .finish()
    }
}

impl RecordReader {
    /// Opens `path` (`-` = standard input) holding records of `source`; gzip input is detected and decompressed.
    pub fn open(path: impl AsRef<Path>, source: RecordSource, limits: Limits) -> Result<RecordReader, RecordError> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return RecordReader::from_reader("<stdin>", io::stdin(), source, limits);
        }
        let name: Arc<str> = path.display().to_string().into();
        let file = std::fs::File::open(path).map_err(|source| RecordError::Open {
            file: name.clone(),
            source,
        })?;
        RecordReader::from_reader(&name, file, source, limits)
    }

    /// Reads records of `source` from `reader`, named `name` in origins and errors.
    pub fn from_reader(
        name: &str,
        reader: impl Read + Send + 'static,
        source: RecordSource,
        limits: Limits,
    ) -> Result<RecordReader, RecordError> {
        let file: Arc<str> = name.into();
        let mut buffered = BufReader::with_capacity(READ_CHUNK, reader);
        let head = buffered.fill_buf().map_err(|source| RecordError::Read {
            file: file.clone(),
            offset: 0,
            source,
        })?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let input: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        Ok(RecordReader {
            input,
            splitter: Splitter::new(),
            framer: Framer {
                file,
                source,
                limits,
                stats: Stats::default(),
                pending: VecDeque::new(),
            },
            bytes_read: 0,
            eof: false,
            done: false,
        })
    }

    /// What has been yielded and dropped so far.
    pub fn stats(&self) -> Stats {
        self.framer.stats
    }

    /// The input's name as used in origins.
    pub fn file(&self) -> &str {
        &self.framer.file
    }

    pub fn source(&self) -> RecordSource {
        self.framer.source
    }

    /// Reads the next chunk; false at end of input or on a fatal error (queued).
    fn fill(&mut self) -> bool {
        let buf = self.splitter.reserve(READ_CHUNK);
        let n = loop {
            match self.input.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.splitter.commit(0);
                    self.fatal(RecordError::Read {
                        file: self.framer.file.clone(),
                        offset: self.bytes_read,
                        source,
                    });
                    return false;
                }
            }
        };
        self.splitter.commit(n);
        self.bytes_read += n as u64;
        if self.bytes_read > self.framer.limits.max_input_bytes {
            self.fatal(RecordError::InputTooLarge {
                file: self.framer.file.clone(),
                limit: self.framer.limits.max_input_bytes,
            });
            return false;
        }
        if n == 0 {
            self.eof = true;
        }
        true
    }

    fn fatal(&mut self, e: RecordError) {
        self.framer.stats.errors += 1;
        self.framer.pending.push_back(Err(e));
        self.done = true;
    }

    /// Advances until at least one result is queued or the input is exhausted.
    fn advance(&mut self) {
        while self.framer.pending.is_empty() && !self.done {
            match self.splitter.step(self.eof, self.framer.limits.max_document_bytes) {
                Step::Value { range, line, offset } => {
                    let doc = &self.splitter.buf[range];
                    self.framer.frame_document(doc, line, offset);
                }
                Step::Bad { line, offset, why } => {
                    let at = self.framer.origin(line, offset);
                    self.framer.error(RecordError::Malformed { at, msg: why });
                }
                Step::DocumentTooLarge {
                    line,
                    offset,
                    size,
                    complete,
                } => {
                    let at = self.framer.origin(line, offset);
                    let e = RecordError::TooLarge {
                        at,
                        what: "JSON document",
                        size,
                        limit: self.framer.limits.max_document_bytes as u64,
                    };
                    if complete || self.splitter.mode == Mode::Lines {
                        self.framer.error(e);
                    } else {
                        // A multi-line document cannot be skipped reliably: stop here.
                        self.fatal(e);
                    }
                }
                Step::NeedMore if self.eof => self.done = true,
                Step::NeedMore => {
                    if !self.fill() {
                        break;
                    }
                }
            }
        }
    }
}

impl Iterator for RecordReader {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.framer.pending.is_empty() {
            self.advance();
        }
        self.framer.pending.pop_front()
    }
}

/// Whether the input is one JSON document per line (NDJSON) or documents that span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unknown,
    Lines,
    Documents,
}

/// The top-level value being scanned.
#[derive(Debug, Clone, Copy)]
struct Current {
    start: usize,
    line: u64,
    depth: u32,
    in_string: bool,
    escaped: bool,
    multiline: bool,
}

enum Step {
    /// A complete top-level value at `buf[range]`.
    Value {
        range: Range<usize>,
        line: u64,
        offset: u64,
    },
    /// Not JSON here; the splitter skipped to the next line.
    Bad {
        line: u64,
        offset: u64,
        why: String,
    },
    /// A value exceeds the document limit: `complete` when it was read whole (the stream goes on after it),
    /// else the splitter skipped to the next line.
    DocumentTooLarge {
        line: u64,
        offset: u64,
        size: u64,
        complete: bool,
    },
    NeedMore,
}

/// Splits a byte stream into top-level JSON values, tracking lines and offsets; resumable across reads.
struct Splitter {
    buf: Vec<u8>,
    pos: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Line number at `buf[pos]`.
    line: u64,
    cur: Option<Current>,
    mode: Mode,
    skipping_line: bool,
}

impl Splitter {
    fn new() -> Splitter {
        Splitter {
            buf: Vec::new(),
            pos: 0,
            base: 0,
            line: 1,
            cur: None,
            mode: Mode::Unknown,
            skipping_line: false,
        }
    }

    /// Drops consumed bytes and returns room for `n` more at the end.
    fn reserve(&mut self, n: usize) -> &mut [u8] {
        let keep_from = self.cur.map_or(self.pos, |c| c.start);
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as u64;
            self.pos -= keep_from;
            if let Some(c) = self.cur.as_mut() {
                c.start = 0;
            }
        }
        let len = self.buf.len();
        self.buf.resize(len + n, 0);
        &mut self.buf[len..]
    }

    /// Keeps `n` of the bytes offered by [`Splitter::reserve`].
    fn commit(&mut self, n: usize) {
        let len = self.buf.len() - READ_CHUNK + n;
        self.buf.truncate(len);
    }

    fn offset(&self, i: usize) -> u64 {
        self.base + i as u64
    }

    fn step(&mut self, eof: bool, max_document: usize) -> Step {
        loop {
            if self.skipping_line {
                match memchr::memchr(b'\n', &self.buf[self.pos..]) {
                    Some(j) => {
                        self.pos += j + 1;
                        self.line += 1;
                        self.skipping_line = false;
                    }
                    None => {
                        self.pos = self.buf.len();
                        return Step::NeedMore;
                    }
                }
            }
            let Some(cur) = self.cur else {
                match self.start_value(eof) {
                    Some(step) => return step,
                    None => continue,
                }
            };
            return self.scan_value(cur, eof, max_document);
        }
    }

    /// Outside any value: skips whitespace (and a leading BOM) to the next value; `None` when one started.
    fn start_value(&mut self, eof: bool) -> Option<Step> {
        while self.pos < self.buf.len() {
            match self.buf[self.pos] {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'{' | b'[' => {
                    self.cur = Some(Current {
                        start: self.pos,
                        line: self.line,
                        depth: 1,
                        in_string: false,
                        escaped: false,
                        multiline: false,
                    });
                    self.pos += 1;
                    return None;
                }
                0xEF if self.offset(self.pos) == 0 => {
                    if self.buf.len() < 3 && !eof {
                        return Some(Step::NeedMore);
                    }
                    if self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                        self.pos += 3;
                    } else {
                        return Some(self.bad_here("expected a JSON object or array"));
                    }
                }
                c => {
                    let why = if c.is_ascii_graphic() {
                        format!("expected a JSON object or array, found '{}'", c as char)
                    } else {
                        format!("expected a JSON object or array, found byte 0x{c:02x}")
                    };
                    return Some(self.bad_here(&why));
                }
            }
        }
        Some(Step::NeedMore)
    }

    fn bad_here(&mut self, why: &str) -> Step {
        let step = Step::Bad {
            line: self.line,
            offset: self.offset(self.pos),
            why: why.to_string(),
        };
        self.skipping_line = true;
        step
    }

    /// Inside a value: scans to its end.
    fn scan_value(&mut self, mut cur: Current, eof: bool, max_document: usize) -> Step {
        let len = self.buf.len();
        while self.pos < len {
            if cur.in_string {
                if cur.escaped {
                    cur.escaped = false;
                    self.pos += 1;
                    continue;
                }
                match memchr::memchr3(b'"', b'\\', b'\n', &self.buf[self.pos..]) {
                    None => self.pos = len,
                    Some(j) => {
                        self.pos += j;
                        match self.buf[self.pos] {
                            b'"' => cur.in_string = false,
                            b'\\' => cur.escaped = true,
                            _ => return self.abandon(cur, "line break inside a JSON string (unterminated string?)"),
                        }
                        self.pos += 1;
                    }
                }
                continue;
            }
            match self.buf[self.pos] {
                b'"' => cur.in_string = true,
                b'{' | b'[' => cur.depth += 1,
                b'}' | b']' => {
                    cur.depth -= 1;
                    if cur.depth == 0 {
                        self.pos += 1;
                        self.cur = None;
                        if self.mode == Mode::Unknown {
                            self.mode = if cur.multiline { Mode::Documents } else { Mode::Lines };
                        }
                        if self.pos - cur.start > max_document {
                            return Step::DocumentTooLarge {
                                line: cur.line,
                                offset: self.offset(cur.start),
                                size: (self.pos - cur.start) as u64,
                                complete: true,
                            };
                        }
                        return Step::Value {
                            range: cur.start..self.pos,
                            line: cur.line,
                            offset: self.offset(cur.start),
                        };
                    }
                }
                b'\n' => {
                    if self.mode == Mode::Lines {
                        return self.abandon(cur, "JSON value not closed at the end of its line");
                    }
                    self.line += 1;
                    cur.multiline = true;
                }
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos - cur.start > max_document {
            let step = Step::DocumentTooLarge {
                line: cur.line,
                offset: self.offset(cur.start),
                size: (self.pos - cur.start) as u64,
                complete: false,
            };
            self.cur = None;
            self.skipping_line = true;
            return step;
        }
        if eof {
            return self.abandon(cur, "input ends inside a JSON value");
        }
        self.cur = Some(cur);
        Step::NeedMore
    }

    /// Reports the value in progress as malformed and resumes at the next line.
    fn abandon(&mut self, cur: Current, why: &str) -> Step {
        self.cur = None;
        let step = Step::Bad {
            line: cur.line,
            offset: self.offset(cur.start),
            why: why.to_string(),
        };
        if self.pos < self.buf.len() && self.buf[self.pos] == b'\n' {
            self.pos += 1;
            self.line += 1;
        } else {
            self.skipping_line = true;
        }
        step
    }
}

/// Turns top-level documents into records for one source.
struct Framer {
    file: Arc<str>,
    source: RecordSource,
    limits: Limits,
    stats: Stats,
    pending: VecDeque<Result<Record, RecordError>>,
}

impl Framer {
    fn origin(&self, line: u64, offset: u64) -> Origin {
        Origin {
            file: self.file.clone(),
            line,
            offset,
        }
    }

    fn error(&mut self, e: RecordError) {
        self.stats.errors += 1;
        self.pending.push_back(Err(e));
    }

    fn unrecognized(&mut self, line: u64, offset: u64, why: impl Into<String>) {
        let at = self.origin(line, offset);
        self.error(RecordError::Unrecognized { at, why: why.into() });
    }

    /// Frames one top-level document.
    fn frame_document(&mut self, doc: &[u8], line: u64, offset: u64) {
        self.frame_value(doc, line, offset, 0);
    }

    fn frame_value(&mut self, doc: &[u8], line: u64, offset: u64, nesting: u32) {
        match doc.first() {
            Some(b'[') if nesting < MAX_NESTING => self.frame_elements(doc, line, offset, nesting + 1),
            Some(b'{') => self.frame_object(doc, line, offset, nesting),
            _ => self.unrecognized(line, offset, format!("a {} record must be a JSON object", self.source)),
        }
    }

    /// Frames each element of the array `arr`.
    fn frame_elements(&mut self, arr: &[u8], line: u64, offset: u64, nesting: u32) {
        let Some(spans) = rawjson::element_spans(arr) else {
            return self.parse_error(arr, line, offset);
        };
        let mut lines = LineCounter::new(arr, line);
        for span in spans {
            let at_line = lines.line_at(span.start);
            self.frame_value(&arr[span.clone()], at_line, offset + span.start as u64, nesting);
        }
    }

    fn frame_object(&mut self, doc: &[u8], line: u64, offset: u64, nesting: u32) {
        match self.source {
            RecordSource::K8sAudit => match rawjson::member_str(doc, "kind") {
                Some(b"EventList") => self.frame_member_array(doc, "items", line, offset, nesting),
                Some(b"Event") => self.record(doc, line, offset),
                Some(other) => {
                    let kind = String::from_utf8_lossy(other).into_owned();
                    self.unrecognized(
                        line,
                        offset,
                        format!("not a Kubernetes audit Event or EventList (kind {kind:?})"),
                    )
                }
                None => self.unrecognized(line, offset, "not a Kubernetes audit Event or EventList (no kind)"),
            },
            RecordSource::CloudTrail if is_array_member(doc, "Records") => {
                self.frame_member_array(doc, "Records", line, offset, nesting)
            }
            RecordSource::GcpAudit
                if is_array_member(doc, "entries") && rawjson::find_member(doc, "logName").is_none() =>
            {
                self.frame_member_array(doc, "entries", line, offset, nesting)
            }
            RecordSource::Github => match (rawjson::find_member(doc, "headers"), rawjson::find_member(doc, "body")) {
                (Some(headers), Some(body)) => self.github_envelope(doc, headers, body, line, offset),
                _ => self.record(doc, line, offset),
            },
            _ => self.record(doc, line, offset),
        }
    }

    /// Frames the elements of the array member `key` of `doc` as records.
    fn frame_member_array(&mut self, doc: &[u8], key: &str, line: u64, offset: u64, nesting: u32) {
        let Some(span) = rawjson::find_member(doc, key) else {
            return self.unrecognized(line, offset, format!("missing \"{key}\" array"));
        };
        let arr = &doc[span.clone()];
        let Some(elements) = rawjson::element_spans(arr) else {
            return self.parse_error(doc, line, offset);
        };
        let mut lines = LineCounter::new(doc, line);
        for e in elements {
            let start = span.start + e.start;
            let at_line = lines.line_at(start);
            let elem = &doc[start..span.start + e.end];
            if elem.first() == Some(&b'{') {
                self.record(elem, at_line, offset + start as u64);
            } else {
                self.frame_value(elem, at_line, offset + start as u64, nesting + 1);
            }
        }
    }

    /// Reports why `doc` is not JSON (serde's diagnosis, placed in the file).
    fn parse_error(&mut self, doc: &[u8], line: u64, offset: u64) {
        match serde_json::from_slice::<Value>(doc) {
            Err(e) => self.malformed(doc, line, offset, &e),
            Ok(_) => self.unrecognized(line, offset, "unexpected JSON structure"),
        }
    }

    fn malformed(&mut self, doc: &[u8], line: u64, offset: u64, e: &serde_json::Error) {
        let (at_line, at_offset) = locate(doc, line, offset, e.line(), e.column());
        let text = e.to_string();
        let msg = text
            .rfind(" at line ")
            .map_or(text.as_str(), |i| &text[..i])
            .to_string();
        let at = self.origin(at_line, at_offset);
        self.error(RecordError::Malformed { at, msg });
    }

    /// Parses, timestamps and queues one record.
    fn record(&mut self, raw: &[u8], line: u64, offset: u64) {
        if raw.len() > self.limits.max_record_bytes {
            let at = self.origin(line, offset);
            return self.error(RecordError::TooLarge {
                at,
                what: "record",
                size: raw.len() as u64,
                limit: self.limits.max_record_bytes as u64,
            });
        }
        let value: Value = match serde_json::from_slice(raw) {
            Ok(v) => v,
            Err(e) => return self.malformed(raw, line, offset, &e),
        };
        if !value.is_object() {
            return self.unrecognized(line, offset, format!("a {} record must be a JSON object", self.source));
        }
        let Some(ts_ns) = self.timestamp(&value, line) else {
            return;
        };
        self.push(value, raw.to_vec(), ts_ns, line, offset);
    }

    fn push(&mut self, value: Value, raw: Vec<u8>, ts_ns: u64, line: u64, offset: u64) {
        self.stats.records += 1;
        let origin = self.origin(line, offset);
        self.pending.push_back(Ok(Record {
            value,
            raw,
            ts_ns,
            origin,
        }));
    }

    /// The record's timestamp, or `None` (counted) when the plugin would drop it.
    fn timestamp(&mut self, v: &Value, line: u64) -> Option<u64> {
        let member = |k: &str| v.get(k).and_then(Value::as_str);
        let text = match self.source {
            RecordSource::K8sAudit => member("stageTimestamp"),
            RecordSource::CloudTrail => {
                match member("eventType") {
                    None => return self.skip(Skip::NoEventType, line),
                    Some("AwsCloudTrailInsight") => return self.skip(Skip::Insight, line),
                    Some(_) => {}
                }
                member("eventTime")
            }
            RecordSource::Okta => member("published"),
            RecordSource::GcpAudit => member("receiveTimestamp").or_else(|| member("timestamp")),
            RecordSource::Github => return Some(now_ns()),
        };
        match text {
            None => self.skip(Skip::NoTimestamp, line),
            Some(t) => match parse_rfc3339(t) {
                Some(ts) => Some(ts),
                None => self.skip(Skip::BadTimestamp, line),
            },
        }
    }

    fn skip(&mut self, why: Skip, line: u64) -> Option<u64> {
        let counter = match why {
            Skip::NoTimestamp => &mut self.stats.skipped_no_timestamp,
            Skip::BadTimestamp => &mut self.stats.skipped_bad_timestamp,
            Skip::NoEventType => &mut self.stats.skipped_no_event_type,
            Skip::Insight => &mut self.stats.skipped_insight,
        };
        *counter += 1;
        tracing::debug!(file = %self.file, line, reason = ?why, source = %self.source, "record dropped");
        None
    }

    /// `{"headers": {...}, "body": {...}, "received_at": "..."}`: the body with `webhook_type` injected.
    fn github_envelope(&mut self, doc: &[u8], headers: Range<usize>, body: Range<usize>, line: u64, offset: u64) {
        let event = match serde_json::from_slice::<Value>(&doc[headers]) {
            Ok(h) => header_value(&h, "x-github-event"),
            Err(e) => return self.malformed(doc, line, offset, &e),
        };
        let Some(event) = event else {
            return self.unrecognized(line, offset, "GitHub webhook envelope without an X-GitHub-Event header");
        };
        let body_raw = &doc[body];
        if body_raw.first() != Some(&b'{') {
            return self.unrecognized(line, offset, "GitHub webhook envelope whose body is not a JSON object");
        }
        let ts_ns = match rawjson::find_member(doc, "received_at") {
            None => now_ns(),
            Some(span) => match serde_json::from_slice::<String>(&doc[span])
                .ok()
                .and_then(|t| parse_rfc3339(&t))
            {
                Some(ts) => ts,
                None => {
                    self.skip(Skip::BadTimestamp, line);
                    return;
                }
            },
        };
        let raw = match inject_webhook_type(body_raw, &event) {
            Ok(raw) => raw,
            Err(e) => return self.malformed(body_raw, line, offset, &e),
        };
        if raw.len() > self.limits.max_record_bytes {
            let at = self.origin(line, offset);
            return self.error(RecordError::TooLarge {
                at,
                what: "record",
                size: raw.len() as u64,
                limit: self.limits.max_record_bytes as u64,
            });
        }
        match serde_json::from_slice::<Value>(&raw) {
            Ok(value) => self.push(value, raw, ts_ns, line, offset),
            Err(e) => self.malformed(body_raw, line, offset, &e),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Skip {
    NoTimestamp,
    BadTimestamp,
    NoEventType,
    Insight,
}

fn is_array_member(doc: &[u8], key: &str) -> bool {
    rawjson::find_member(doc, key).is_some_and(|r| doc[r.start] == b'[')
}

/// The body's JSON text with `"webhook_type":<event>` as its first member (replacing any existing one).
fn inject_webhook_type(body: &[u8], event: &str) -> Result<Vec<u8>, serde_json::Error> {
    let quoted = serde_json::to_vec(event)?;
    if rawjson::find_member(body, GITHUB_WEBHOOK_TYPE_KEY).is_some() {
        let mut v: serde_json::Map<String, Value> = serde_json::from_slice(body)?;
        v.insert(GITHUB_WEBHOOK_TYPE_KEY.to_string(), Value::String(event.to_string()));
        return serde_json::to_vec(&v);
    }
    let inner = body[1..].trim_ascii_start();
    let mut raw = Vec::with_capacity(body.len() + quoted.len() + 20);
    raw.extend_from_slice(b"{\"");
    raw.extend_from_slice(GITHUB_WEBHOOK_TYPE_KEY.as_bytes());
    raw.extend_from_slice(b"\":");
    raw.extend_from_slice(&quoted);
    if inner.first() != Some(&b'}') {
        raw.push(b',');
    }
    raw.extend_from_slice(inner);
    Ok(raw)
}

/// A header's value (string, or first string of a list), by case-insensitive name.
fn header_value(headers: &Value, name: &str) -> Option<String> {
    let (_, v) = headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Absolute (line, offset) of serde's 1-based (line, column) inside `doc`, which starts at (`line`, `offset`).
fn locate(doc: &[u8], line: u64, offset: u64, err_line: usize, err_col: usize) -> (u64, u64) {
    if err_line == 0 {
        return (line, offset);
    }
    let line_start = if err_line == 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', doc)
            .nth(err_line - 2)
            .map_or(doc.len(), |i| i + 1)
    };
    let at = (line_start + err_col.saturating_sub(1)).min(doc.len());
    (line + err_line as u64 - 1, offset + at as u64)
}

/// Line numbers of increasing positions in a document.
struct LineCounter<'d> {
    doc: &'d [u8],
    pos: usize,
    line: u64,
}

impl<'d> LineCounter<'d> {
    fn new(doc: &'d [u8], line: u64) -> Self {
        LineCounter { doc, pos: 0, line }
    }

    fn line_at(&mut self, at: usize) -> u64 {
        if at > self.pos {
            self.line += memchr::memchr_iter(b'\n', &self.doc[self.pos..at]).count() as u64;
            self.pos = at;
        }
        self.line
    }
}

/// Entry point of the fuzz targets (crates/mamoru-records/fuzz) and of the stable-Rust fuzz runner: arbitrary bytes
/// framed as records of every source, with small limits so that the memory bounds are exercised too. Never panics
/// on any input; errors are reported through the iterator and reading goes on or stops cleanly.
#[doc(hidden)]
pub mod fuzzing {
    use super::{Limits, RecordReader, RecordSource};

    pub fn read_everything(data: &[u8]) {
        let limits = Limits {
            max_record_bytes: 64 << 10,
            max_document_bytes: 1 << 20,
            max_input_bytes: 4 << 20,
        };
        for source in &RecordSource::ALL {
            let Ok(reader) = RecordReader::from_reader("fuzz", std::io::Cursor::new(data.to_vec()), *source, limits)
            else {
                continue;
            };
            for (i, rec) in reader.enumerate() {
                if i > 100_000 {
                    break;
                }
                if let Ok(r) = rec {
                    // The raw bytes handed to extractors must be the record's own JSON text.
                    debug_assert!(serde_json::from_slice::<serde_json::Value>(&r.raw).is_ok());
                }
            }
        }
    }
}
