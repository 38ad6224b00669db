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

pub mod json;
mod rawjson;
mod timestamp;

pub use json::{JsonDoc, JsonError, JsonKind, JsonRef};

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

/// One event's record: its JSON (validated, on a tape shared with the other records of its document), its
/// timestamp, and where it came from. Cloning is cheap (the document is shared).
#[derive(Debug, Clone)]
pub struct Record {
    doc: Arc<JsonDoc>,
    node: u32,
    /// Event time, nanoseconds since the epoch.
    pub ts_ns: u64,
    pub origin: Origin,
}

impl Record {
    /// The record's JSON (always an object).
    pub fn json(&self) -> JsonRef<'_> {
        // `node` was returned by the parse that put this record on the document's tape.
        self.doc
            .node(self.node)
            .unwrap_or_else(|| unreachable!("record node {} outside its tape", self.node))
    }

    /// The record's JSON text: its exact bytes in the input.
    pub fn raw(&self) -> &[u8] {
        self.json().raw()
    }

    /// The record as a `serde_json::Value` (built on each call: for tests and slow paths, not per event).
    pub fn value(&self) -> Value {
        self.json().to_value()
    }

    /// Frames ONE record of `source` from an owned buffer (a push-style input: a webhook body, a queue message):
    /// validates it, checks it is an object, and takes its timestamp as the plugin does. `Ok(None)` when the plugin
    /// would drop the record (no/unparseable timestamp; CloudTrail records without `eventType` or Insights records).
    /// Containers of records (an `EventList`, a CloudTrail file, a GitHub envelope) go through
    /// [`RecordReader::from_reader`] instead.
    pub fn from_json_bytes(
        bytes: Vec<u8>,
        source: RecordSource,
        origin: Origin,
    ) -> Result<Option<Record>, RecordError> {
        let doc = match JsonDoc::parse(bytes) {
            Ok(doc) => doc,
            Err(e) => {
                return Err(RecordError::Malformed {
                    at: Origin {
                        offset: origin.offset + e.offset as u64,
                        ..origin
                    },
                    msg: e.msg.to_string(),
                })
            }
        };
        let root = doc
            .root()
            .filter(|r| r.is_object())
            .ok_or_else(|| RecordError::Unrecognized {
                at: origin.clone(),
                why: format!("a {source} record must be a JSON object"),
            })?;
        let ts = match record_timestamp(source, root) {
            Ok(ts) => ts,
            Err(_) => return Ok(None),
        };
        Ok(Some(Record {
            doc: Arc::new(doc),
            node: 0,
            ts_ns: ts,
            origin,
        }))
    }
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
    input: Box<dyn BufRead + Send>,
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
        let input: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                READ_CHUNK,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
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
                building: JsonDoc::default(),
                doc_offset: 0,
                staged: Vec::new(),
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
        // Copy straight from the reader's buffer: no zero-filled staging area per read.
        let n = loop {
            match self.input.fill_buf() {
                Ok(chunk) => {
                    self.splitter.append(chunk);
                    break chunk.len();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.fatal(RecordError::Read {
                        file: self.framer.file.clone(),
                        offset: self.bytes_read,
                        source,
                    });
                    return false;
                }
            }
        };
        self.input.consume(n);
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
        self.framer.flush();
        self.framer.stats.errors += 1;
        self.framer.pending.push_back(Err(e));
        self.done = true;
    }

    /// Advances until at least one result is queued or the input is exhausted.
    fn advance(&mut self) {
        while self.framer.pending.is_empty() && !self.done {
            if self.whole_container() {
                self.framer.flush();
                continue;
            }
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
            self.framer.flush();
        }
    }
}

impl RecordReader {
    /// The fast path for a container document (a CloudTrail file's `{"Records":[...]}`, an audit `EventList`)
    /// that starts where the splitter stands: the buffered bytes are parsed onto the document's tape — which
    /// validates them and finds the document's end — and its records are staged straight from the tape, so the bytes
    /// are neither pre-scanned by the splitter nor walked again for member and element boundaries. When the buffer
    /// ends inside the document, more is read and the parse retried once the buffer has doubled (the parses of a
    /// document cost at most about twice one parse; a single read usually holds a whole webhook batch or log file).
    /// Anything unusual (not a container of objects, invalid JSON, too large) declines, and the general path frames
    /// the document and reports the precise errors. True when the document was framed (or reading failed: queued).
    fn whole_container(&mut self) -> bool {
        let sp = &self.splitter;
        if sp.cur.is_some() || sp.skipping_line || sp.mode == Mode::Lines {
            return false;
        }
        let start = rawjson::skip_ws(&sp.buf, sp.pos);
        let Some(key) = self.container_key(&sp.buf[start..]) else {
            return false;
        };
        let max_document = self.framer.limits.max_document_bytes;
        let mut tried = 0;
        loop {
            // `fill` may move the unconsumed bytes to the front of the buffer.
            let start = rawjson::skip_ws(&self.splitter.buf, self.splitter.pos);
            let available = self.splitter.buf.len() - start;
            if self.eof || available >= 2 * tried {
                match self.framer.parse_container(&self.splitter.buf[start..], key) {
                    Parsed::Document(len) if len <= max_document => {
                        self.stage_container(start, start + len, key);
                        return true;
                    }
                    Parsed::Incomplete if !self.eof => tried = available,
                    _ => return false,
                }
            }
            if available > max_document {
                return false;
            }
            if !self.fill() {
                return true;
            }
        }
    }

    /// Stages the records of the container document `buf[start..end]` parsed onto the tape, and moves the splitter
    /// past it as if it had scanned it.
    fn stage_container(&mut self, start: usize, end: usize, key: &str) {
        let sp = &self.splitter;
        let line = sp.line + memchr::memchr_iter(b'\n', &sp.buf[sp.pos..start]).count() as u64;
        let offset = sp.offset(start);
        let doc = &sp.buf[start..end];
        let doc_lines = memchr::memchr_iter(b'\n', doc).count() as u64;
        self.framer.stage_container(doc, key, line, offset);
        let sp = &mut self.splitter;
        sp.line = line + doc_lines;
        sp.pos = end;
        if sp.mode == Mode::Unknown {
            sp.mode = if doc_lines > 0 { Mode::Documents } else { Mode::Lines };
        }
    }

    /// The member holding the records when `doc` (possibly only its first bytes) starts a container document of
    /// this reader's source.
    fn container_key(&self, doc: &[u8]) -> Option<&'static str> {
        match self.framer.source {
            RecordSource::CloudTrail => starts_array(doc, "Records").then_some("Records"),
            RecordSource::K8sAudit => (rawjson::member_str(doc, "kind") == Some(b"EventList")).then_some("items"),
            _ => None,
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

/// The index of the first quote, backslash or line break in `b`: eight bytes per step with the "has a zero byte"
/// bit trick (JSON strings are short, so this beats a SIMD search's per-call setup).
fn string_stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        // False positives can only appear above a true hit, so the lowest flagged byte is exact.
        let hits = zero_bytes(x ^ (ONES * u64::from(b'"')))
            | zero_bytes(x ^ (ONES * u64::from(b'\\')))
            | zero_bytes(x ^ (ONES * u64::from(b'\n')));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| matches!(c, b'"' | b'\\' | b'\n'))
        .map(|j| i + j)
}

/// The bytes the splitter looks at outside strings.
static STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

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

    /// Drops consumed bytes and appends `data`.
    fn append(&mut self, data: &[u8]) {
        let keep_from = self.cur.map_or(self.pos, |c| c.start);
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as u64;
            self.pos -= keep_from;
            if let Some(c) = self.cur.as_mut() {
                c.start = 0;
            }
        }
        self.buf.extend_from_slice(data);
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
                match string_stop(&self.buf[self.pos..]) {
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
            // Outside strings only quotes, brackets and line breaks matter: skip other bytes in a tight loop.
            let mut p = self.pos;
            while p < len && !STRUCTURAL[self.buf[p] as usize] {
                p += 1;
            }
            self.pos = p;
            if p == len {
                break;
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
    /// The document being framed: its records are parsed onto its tape, then share it.
    building: JsonDoc,
    /// Input offset of the document being framed.
    doc_offset: u64,
    /// Results of the document being framed, in order, until [`Framer::flush`] moves them to `pending`.
    staged: Vec<Staged>,
}

/// What a container parse found.
enum Parsed {
    /// A whole container document of this many bytes, on the tape.
    Document(usize),
    /// The bytes end inside the document.
    Incomplete,
    /// Not a container of objects, or not JSON: the general path frames it.
    Declined,
}

/// A result of the document being framed.
enum Staged {
    /// A record on the document's tape.
    Node {
        node: u32,
        ts_ns: u64,
        line: u64,
        offset: u64,
    },
    /// A record with a document of its own (a GitHub envelope's body with the event type injected).
    Whole(Record),
    Error(RecordError),
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
        self.staged.push(Staged::Error(e));
    }

    /// Moves the staged results to `pending`, the records sharing the document just framed.
    fn flush(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        let shared = self
            .staged
            .iter()
            .any(|s| matches!(s, Staged::Node { .. }))
            .then(|| Arc::new(std::mem::take(&mut self.building)));
        for staged in self.staged.drain(..) {
            let item = match staged {
                Staged::Node {
                    node,
                    ts_ns,
                    line,
                    offset,
                } => match &shared {
                    Some(doc) => Ok(Record {
                        doc: doc.clone(),
                        node,
                        ts_ns,
                        origin: Origin {
                            file: self.file.clone(),
                            line,
                            offset,
                        },
                    }),
                    None => continue,
                },
                Staged::Whole(r) => Ok(r),
                Staged::Error(e) => Err(e),
            };
            self.pending.push_back(item);
        }
    }

    fn unrecognized(&mut self, line: u64, offset: u64, why: impl Into<String>) {
        let at = self.origin(line, offset);
        self.error(RecordError::Unrecognized { at, why: why.into() });
    }

    /// Frames one top-level document.
    fn frame_document(&mut self, doc: &[u8], line: u64, offset: u64) {
        // One copy per document: every record of it is parsed onto this document's tape and shares it.
        let mut raw = self.building.reset(Vec::new());
        raw.clear();
        raw.extend_from_slice(doc);
        self.building.reset(raw);
        self.doc_offset = offset;
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
            RecordSource::CloudTrail if starts_array(doc, "Records") => {
                self.frame_member_array(doc, "Records", line, offset, nesting)
            }
            RecordSource::GcpAudit
                if starts_array(doc, "entries") && rawjson::find_member(doc, "logName").is_none() =>
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

    /// Parses the container document at the start of `doc` onto a fresh tape. It is a [`Parsed::Document`] when
    /// valid JSON whose member `key` is an array of objects (the shape [`Framer::stage_container`] stages); the
    /// tape is left empty otherwise.
    fn parse_container(&mut self, doc: &[u8], key: &str) -> Parsed {
        let mut raw = self.building.reset(Vec::new());
        raw.clear();
        raw.extend_from_slice(doc);
        self.building.reset(raw);
        let parsed = match self.building.parse_value_from(0) {
            Ok((root, end)) => {
                let shaped = self
                    .building
                    .node(root)
                    .and_then(|r| r.get(key))
                    .and_then(JsonRef::as_array)
                    .is_some_and(|mut items| items.all(JsonRef::is_object));
                if shaped {
                    Parsed::Document(end)
                } else {
                    Parsed::Declined
                }
            }
            // The parser stopped at the end of the bytes: the document goes on past them.
            Err(e) if e.offset >= doc.len() => Parsed::Incomplete,
            Err(_) => Parsed::Declined,
        };
        if !matches!(parsed, Parsed::Document(_)) {
            self.building.reset(Vec::new());
        }
        parsed
    }

    /// Stages the records of the container document `doc` (at input `offset`, parsed by
    /// [`Framer::parse_container`]): each element of its member `key`, as the general path would.
    fn stage_container(&mut self, doc: &[u8], key: &str, line: u64, offset: u64) {
        self.doc_offset = offset;
        let items: Vec<(u32, Range<usize>)> = self
            .building
            .root()
            .and_then(|r| r.get(key))
            .and_then(JsonRef::as_array)
            .map(|items| items.map(|item| (item.index(), item.span())).collect())
            .unwrap_or_default();
        let mut lines = LineCounter::new(doc, line);
        for (node, span) in items {
            let at_line = lines.line_at(span.start);
            self.stage(node, span.len(), at_line, offset + span.start as u64);
        }
    }

    /// Frames the elements of the array member `key` of `doc` (which starts at input `offset`) as records. Object
    /// elements are parsed in place, each parse finding the element's end, so the array is read once.
    fn frame_member_array(&mut self, doc: &[u8], key: &str, line: u64, offset: u64, nesting: u32) {
        let Some(start) = rawjson::member_start(doc, key) else {
            return self.unrecognized(line, offset, format!("missing \"{key}\" array"));
        };
        if doc[start] != b'[' {
            return self.parse_error(doc, line, offset);
        }
        let mut lines = LineCounter::new(doc, line);
        let mut i = start + 1;
        loop {
            i = rawjson::skip_ws(doc, i);
            let Some(&c) = doc.get(i) else {
                return self.parse_error(doc, line, offset);
            };
            match c {
                b']' => return,
                b',' => i += 1,
                b'{' => {
                    let at_line = lines.line_at(i);
                    match self.record_in_place(doc, i, at_line, offset) {
                        Some(end) => i = end,
                        None => match rawjson::value_end(doc, i) {
                            Some(end) => i = end,
                            // The rest cannot be split into elements: the error is reported, stop here.
                            None => return,
                        },
                    }
                }
                _ => {
                    let at_line = lines.line_at(i);
                    let Some(end) = rawjson::value_end(doc, i) else {
                        return self.parse_error(doc, line, offset);
                    };
                    self.frame_value(&doc[i..end], at_line, offset + i as u64, nesting + 1);
                    i = end;
                }
            }
        }
    }

    /// Parses the record object starting at `doc[at]` (`doc` starts at input `doc_offset`) in place and stages it;
    /// returns the index in `doc` just past it, or `None` (error reported) when it is not valid JSON.
    fn record_in_place(&mut self, doc: &[u8], at: usize, line: u64, doc_offset: u64) -> Option<usize> {
        let offset = doc_offset + at as u64;
        let base = doc_offset.saturating_sub(self.doc_offset) as usize;
        let (node, end) = match self.building.parse_value_from(base + at) {
            Ok((node, end)) => (node, end - base),
            Err(e) => {
                let span_end = rawjson::value_end(doc, at).unwrap_or(doc.len());
                self.json_error(&doc[at..span_end], line, offset, &e);
                return None;
            }
        };
        self.stage(node, end - at, line, offset);
        Some(end)
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

    /// Parses, timestamps and stages one record (`raw` lies in the document being framed, at input `offset`).
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
        let start = offset.saturating_sub(self.doc_offset) as usize;
        let node = match self.building.parse_value_at(start..start + raw.len()) {
            Ok(node) => node,
            Err(e) => return self.json_error(raw, line, offset, &e),
        };
        self.stage(node, raw.len(), line, offset);
    }

    /// Checks and stages a record parsed onto the document's tape as `node`, `len` bytes long.
    fn stage(&mut self, node: u32, len: usize, line: u64, offset: u64) {
        if len > self.limits.max_record_bytes {
            let at = self.origin(line, offset);
            return self.error(RecordError::TooLarge {
                at,
                what: "record",
                size: len as u64,
                limit: self.limits.max_record_bytes as u64,
            });
        }
        let Some(root) = self.building.node(node).filter(|r| r.is_object()) else {
            return self.unrecognized(line, offset, format!("a {} record must be a JSON object", self.source));
        };
        match record_timestamp(self.source, root) {
            Ok(ts_ns) => {
                self.stats.records += 1;
                self.staged.push(Staged::Node {
                    node,
                    ts_ns,
                    line,
                    offset,
                });
            }
            Err(why) => self.skip(why, line),
        }
    }

    /// Reports why `raw` is not JSON: serde_json's diagnosis (placed in the file) when it agrees, else ours.
    fn json_error(&mut self, raw: &[u8], line: u64, offset: u64, e: &JsonError) {
        match serde_json::from_slice::<serde::de::IgnoredAny>(raw) {
            Err(se) => self.malformed(raw, line, offset, &se),
            Ok(_) => {
                let at = self.origin(line, self.doc_offset + e.offset as u64);
                self.error(RecordError::Malformed {
                    at,
                    msg: e.msg.to_string(),
                });
            }
        }
    }

    fn skip(&mut self, why: Skip, line: u64) {
        let counter = match why {
            Skip::NoTimestamp => &mut self.stats.skipped_no_timestamp,
            Skip::BadTimestamp => &mut self.stats.skipped_bad_timestamp,
            Skip::NoEventType => &mut self.stats.skipped_no_event_type,
            Skip::Insight => &mut self.stats.skipped_insight,
        };
        *counter += 1;
        tracing::debug!(file = %self.file, line, reason = ?why, source = %self.source, "record dropped");
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
                    return self.skip(Skip::BadTimestamp, line);
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
        match JsonDoc::parse(raw) {
            Ok(doc) => {
                self.stats.records += 1;
                let origin = self.origin(line, offset);
                self.staged.push(Staged::Whole(Record {
                    doc: Arc::new(doc),
                    node: 0,
                    ts_ns,
                    origin,
                }));
            }
            Err(e) => {
                let at = self.origin(line, offset);
                self.error(RecordError::Malformed {
                    at,
                    msg: e.msg.to_string(),
                });
            }
        }
    }
}

/// The record's timestamp as the plugin takes it, or why the plugin drops the record.
fn record_timestamp(source: RecordSource, v: JsonRef<'_>) -> Result<u64, Skip> {
    let member = |k: &str| v.get(k).and_then(JsonRef::as_str);
    let text = match source {
        RecordSource::K8sAudit => member("stageTimestamp"),
        RecordSource::CloudTrail => {
            match member("eventType") {
                None => return Err(Skip::NoEventType),
                Some("AwsCloudTrailInsight") => return Err(Skip::Insight),
                Some(_) => {}
            }
            member("eventTime")
        }
        RecordSource::Okta => member("published"),
        RecordSource::GcpAudit => member("receiveTimestamp").or_else(|| member("timestamp")),
        RecordSource::Github => return Ok(now_ns()),
    };
    let text = text.ok_or(Skip::NoTimestamp)?;
    parse_rfc3339(text).ok_or(Skip::BadTimestamp)
}

#[derive(Debug, Clone, Copy)]
enum Skip {
    NoTimestamp,
    BadTimestamp,
    NoEventType,
    Insight,
}

/// Whether the member `key` of `doc` holds an array.
fn starts_array(doc: &[u8], key: &str) -> bool {
    rawjson::member_start(doc, key).is_some_and(|start| doc[start] == b'[')
}

/// The body's JSON text with `"webhook_type":<event>` as its first member (replacing any existing one).
fn inject_webhook_type(body: &[u8], event: &str) -> Result<Vec<u8>, serde_json::Error> {
    let quoted = serde_json::to_vec(event)?;
    // A body that already has the key loses it: the injected member always comes first, as the plugin's.
    let without;
    let body = if rawjson::find_member(body, GITHUB_WEBHOOK_TYPE_KEY).is_some() {
        let mut v: serde_json::Map<String, Value> = serde_json::from_slice(body)?;
        v.remove(GITHUB_WEBHOOK_TYPE_KEY);
        without = serde_json::to_vec(&v)?;
        &without[..]
    } else {
        body
    };
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
#[cfg(test)]
mod tests {
    use super::string_stop;

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_newline() {
        assert_eq!(string_stop(b"abcdefghijk\"x"), Some(11));
        assert_eq!(string_stop(b"ab\\c\""), Some(2));
        assert_eq!(string_stop(b"abcdefgh\n"), Some(8));
        assert_eq!(string_stop("é€😀 plain text without stops".as_bytes()), None);
        assert_eq!(string_stop(b""), None);
        for n in 0..20 {
            let mut v = vec![b'a'; n];
            v.push(b'"');
            assert_eq!(string_stop(&v), Some(n));
        }
    }
}

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
                    debug_assert!(serde_json::from_slice::<serde_json::Value>(r.raw()).is_ok());
                }
            }
        }
    }
}
