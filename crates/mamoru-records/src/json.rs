//! A validated, read-only JSON document stored as a flat tape: the record model extractors read.
//!
//! Building a `serde_json::Value` for every record costs an allocation per string, object and array and most of a
//! record's processing time, while rules read a handful of members. A [`JsonDoc`] instead keeps the document's
//! bytes and one fixed-size [`Node`] per value in document order (a pre-order tape), each node knowing the span of
//! its JSON text and where its subtree ends. Parsing is one pass that validates the text as strictly as serde_json
//! (grammar, string escapes and surrogates, control characters, UTF-8, number range, nesting depth 128), decodes
//! only strings that contain escapes (into one side buffer) and allocates nothing once the tape has grown. Lookups
//! ([`JsonRef::get`], [`JsonRef::at`]) walk siblings by their subtree ends without touching the text; a member or
//! element's JSON text is a slice of the original bytes, so objects render with the original key order, escapes
//! and number spelling, as the Falco plugins render them.
//!
//! Several records can share one document (the elements of a CloudTrail file's `Records` or of an `EventList`):
//! each is parsed into the same tape with [`JsonDoc::parse_value_at`] and addressed by its root node.

use std::fmt;
use std::ops::Range;

/// Deepest nesting accepted (serde_json's recursion limit).
pub const MAX_DEPTH: usize = 128;

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

const ESCAPED_STR: u8 = 1;
const ESCAPED_KEY: u8 = 2;
const HAS_KEY: u8 = 4;

/// One value of the tape.
#[derive(Debug, Clone, Copy)]
struct Node {
    kind: JsonKind,
    flags: u8,
    /// The value's JSON text: `raw[start..end]` (strings include their quotes).
    start: u32,
    end: u32,
    /// The member key (object members only): raw content between the quotes, or decoded text when escaped.
    key_start: u32,
    key_end: u32,
    /// A string with escapes: its decoded text in `decoded[dec_start..dec_end]`.
    dec_start: u32,
    dec_end: u32,
    /// Index of the first node after this value's subtree.
    next: u32,
}

/// Why text is not valid JSON, and where (byte offset into the parsed text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub msg: &'static str,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.msg, self.offset)
    }
}

impl std::error::Error for JsonError {}

/// A JSON text and the tape of the values parsed from it.
#[derive(Debug, Clone, Default)]
pub struct JsonDoc {
    raw: Vec<u8>,
    nodes: Vec<Node>,
    decoded: Vec<u8>,
}

impl JsonDoc {
    /// A document over `raw` with nothing parsed yet (see [`JsonDoc::parse_value_at`]).
    pub fn new(raw: Vec<u8>) -> JsonDoc {
        JsonDoc {
            raw,
            nodes: Vec::new(),
            decoded: Vec::new(),
        }
    }

    /// Parses `raw`, which must hold exactly one JSON value (surrounding whitespace allowed).
    pub fn parse(raw: Vec<u8>) -> Result<JsonDoc, JsonError> {
        let mut doc = JsonDoc::new(raw);
        let len = doc.raw.len();
        doc.parse_value_at(0..len)?;
        Ok(doc)
    }

    /// Empties the document and takes `raw` as its text, keeping the tape's capacity and reserving room for the
    /// nodes such a text typically holds (about one per 16 bytes of JSON), so that parsing does not regrow it.
    pub fn reset(&mut self, raw: Vec<u8>) -> Vec<u8> {
        self.nodes.clear();
        self.decoded.clear();
        self.nodes.reserve(raw.len() / 16);
        std::mem::replace(&mut self.raw, raw)
    }

    /// Parses the single JSON value in `raw[span]` (surrounding whitespace allowed) onto the tape and returns its
    /// root node. On error the tape is left as it was.
    pub fn parse_value_at(&mut self, span: Range<usize>) -> Result<u32, JsonError> {
        let mark = (self.nodes.len(), self.decoded.len());
        let result = self.parse_span(span);
        if result.is_err() {
            self.nodes.truncate(mark.0);
            self.decoded.truncate(mark.1);
        }
        result
    }

    /// Parses the JSON value starting at `raw[start]` (leading whitespace allowed) onto the tape, stopping at its
    /// end: returns its root node and the offset just past it. Text after the value is not looked at, so a caller
    /// walking an array of records parses each element in place, without finding its end first. On error the tape
    /// is left as it was.
    pub fn parse_value_from(&mut self, start: usize) -> Result<(u32, usize), JsonError> {
        let mark = (self.nodes.len(), self.decoded.len());
        let root = self.nodes.len() as u32;
        let result = self.run_parser(start, self.raw.len(), false).and_then(|end| {
            validate_utf8(&self.raw, start, end)?;
            Ok((root, end))
        });
        if result.is_err() {
            self.nodes.truncate(mark.0);
            self.decoded.truncate(mark.1);
        }
        result
    }

    /// The whole text.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The first value parsed (the root of a document parsed with [`JsonDoc::parse`]).
    pub fn root(&self) -> Option<JsonRef<'_>> {
        self.node(0)
    }

    /// The value at tape index `idx` (as returned by [`JsonDoc::parse_value_at`]).
    pub fn node(&self, idx: u32) -> Option<JsonRef<'_>> {
        ((idx as usize) < self.nodes.len()).then_some(JsonRef { doc: self, idx })
    }

    fn parse_span(&mut self, span: Range<usize>) -> Result<u32, JsonError> {
        if span.start > span.end || span.end > self.raw.len() {
            return Err(JsonError {
                offset: span.start,
                msg: "span outside the document",
            });
        }
        validate_utf8(&self.raw, span.start, span.end)?;
        let root = self.nodes.len() as u32;
        self.run_parser(span.start, span.end, true)?;
        Ok(root)
    }

    /// Parses one value from `start`; `whole`: the value must fill `raw[start..end]`. Returns where it ended.
    fn run_parser(&mut self, start: usize, end: usize, whole: bool) -> Result<usize, JsonError> {
        if self.raw.len() > u32::MAX as usize {
            return Err(JsonError {
                offset: u32::MAX as usize,
                msg: "document larger than 4 GiB",
            });
        }
        let mut p = Parser {
            b: &self.raw[..end],
            i: start,
            nodes: &mut self.nodes,
            decoded: &mut self.decoded,
            open: NONE,
            depth: 0,
        };
        p.document(whole)?;
        Ok(p.i)
    }
}

fn validate_utf8(raw: &[u8], start: usize, end: usize) -> Result<(), JsonError> {
    match std::str::from_utf8(&raw[start..end]) {
        Ok(_) => Ok(()),
        Err(e) => Err(JsonError {
            offset: start + e.valid_up_to(),
            msg: "invalid UTF-8",
        }),
    }
}

struct Parser<'p> {
    b: &'p [u8],
    i: usize,
    nodes: &'p mut Vec<Node>,
    decoded: &'p mut Vec<u8>,
    /// The innermost open container's node index ([`NONE`] at top level). While a container is open its `next`
    /// field links to the container enclosing it, so the stack of open containers needs no allocation.
    open: u32,
    depth: usize,
}

const NONE: u32 = u32::MAX;

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl Parser<'_> {
    fn err<T>(&self, msg: &'static str) -> Result<T, JsonError> {
        Err(JsonError { offset: self.i, msg })
    }

    fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn document(&mut self, whole: bool) -> Result<(), JsonError> {
        self.skip_ws();
        self.value(None)?;
        loop {
            // Inside containers: after a value, a ',' or the closing bracket.
            let open = self.open;
            if open == NONE {
                break;
            }
            self.skip_ws();
            let is_object = self.nodes[open as usize].kind == JsonKind::Object;
            match (self.peek(), is_object) {
                (Some(b','), _) => {
                    self.i += 1;
                    self.skip_ws();
                    let key = if is_object { Some(self.key()?) } else { None };
                    self.value(key)?;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    self.i += 1;
                    self.close();
                }
                (None, _) => return self.err("EOF while parsing a value"),
                (_, true) => return self.err("expected `,` or `}`"),
                (_, false) => return self.err("expected `,` or `]`"),
            }
        }
        if whole {
            self.skip_ws();
            if self.i != self.b.len() {
                return self.err("trailing characters");
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        if self.open == NONE {
            return;
        }
        let next = self.nodes.len() as u32;
        let n = &mut self.nodes[self.open as usize];
        n.end = self.i as u32;
        self.open = std::mem::replace(&mut n.next, next);
        self.depth -= 1;
    }

    /// Parses an object key and the `:` after it; returns (start, end, escaped).
    fn key(&mut self) -> Result<(u32, u32, bool), JsonError> {
        if self.peek() != Some(b'"') {
            return self.err("key must be a string");
        }
        let (s, e, dec) = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return self.err("expected `:`");
        }
        self.i += 1;
        self.skip_ws();
        Ok(match dec {
            Some((ds, de)) => (ds, de, true),
            None => (s + 1, e - 1, false),
        })
    }

    fn push(&mut self, kind: JsonKind, start: usize, end: usize, key: Option<(u32, u32, bool)>) -> usize {
        let mut flags = 0;
        let (key_start, key_end) = match key {
            Some((s, e, escaped)) => {
                flags |= HAS_KEY;
                if escaped {
                    flags |= ESCAPED_KEY;
                }
                (s, e)
            }
            None => (0, 0),
        };
        let idx = self.nodes.len();
        self.nodes.push(Node {
            kind,
            flags,
            start: start as u32,
            end: end as u32,
            key_start,
            key_end,
            dec_start: 0,
            dec_end: 0,
            next: idx as u32 + 1,
        });
        idx
    }

    /// Parses one value at the cursor; containers are opened (closed later by [`Parser::document`]).
    fn value(&mut self, key: Option<(u32, u32, bool)>) -> Result<(), JsonError> {
        let start = self.i;
        match self.peek() {
            None => self.err("EOF while parsing a value"),
            Some(b'{') | Some(b'[') => {
                if self.depth >= MAX_DEPTH {
                    return self.err("recursion limit exceeded");
                }
                let is_object = self.b[start] == b'{';
                let kind = if is_object { JsonKind::Object } else { JsonKind::Array };
                let idx = self.push(kind, start, start, key);
                self.nodes[idx].next = self.open;
                self.open = idx as u32;
                self.depth += 1;
                self.i += 1;
                self.skip_ws();
                let closer = if is_object { b'}' } else { b']' };
                if self.peek() == Some(closer) {
                    self.i += 1;
                    self.close();
                } else if is_object {
                    let k = self.key()?;
                    self.value(Some(k))?;
                } else {
                    self.value(None)?;
                }
                Ok(())
            }
            Some(b'"') => {
                let (s, e, dec) = self.string()?;
                let idx = self.push(JsonKind::String, s as usize, e as usize, key);
                if let Some((ds, de)) = dec {
                    let n = &mut self.nodes[idx];
                    n.flags |= ESCAPED_STR;
                    n.dec_start = ds;
                    n.dec_end = de;
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true", JsonKind::Bool, key),
            Some(b'f') => self.literal(b"false", JsonKind::Bool, key),
            Some(b'n') => self.literal(b"null", JsonKind::Null, key),
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                self.push(JsonKind::Number, start, self.i, key);
                Ok(())
            }
            Some(_) => self.err("expected value"),
        }
    }

    fn literal(&mut self, word: &[u8], kind: JsonKind, key: Option<(u32, u32, bool)>) -> Result<(), JsonError> {
        let start = self.i;
        if self.b.get(start..start + word.len()) != Some(word) {
            return self.err("expected ident");
        }
        self.i += word.len();
        self.push(kind, start, self.i, key);
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        self.i - from
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        let n = self.digits();
        if n == 0 {
            return self.err("invalid number");
        }
        if n > 1 && self.b[int_start] == b'0' {
            self.i = int_start + 1;
            return self.err("invalid number");
        }
        let mut simple = n <= 18;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
            simple = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
            simple = false;
        }
        if !simple {
            // Only ASCII was consumed.
            let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("x");
            let fits_int = text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok();
            if !fits_int && !text.parse::<f64>().is_ok_and(f64::is_finite) {
                self.i = start;
                return self.err("number out of range");
            }
        }
        Ok(())
    }

    /// Parses a string at the cursor (on its opening quote). Returns its raw span (with quotes) and, when it has
    /// escapes, the span of its decoded text in `decoded`.
    #[allow(clippy::type_complexity)]
    fn string(&mut self) -> Result<(u32, u32, Option<(u32, u32)>), JsonError> {
        let start = self.i;
        self.i += 1;
        let mut dec: Option<usize> = None;
        let mut run = self.i;
        loop {
            self.i += plain_run(&self.b[self.i..]);
            let Some(c) = self.peek() else {
                return self.err("EOF while parsing a string");
            };
            match c {
                b'"' => {
                    self.i += 1;
                    let decoded = dec.map(|from| {
                        self.decoded.extend_from_slice(&self.b[run..self.i - 1]);
                        (from as u32, self.decoded.len() as u32)
                    });
                    return Ok((start as u32, self.i as u32, decoded));
                }
                b'\\' => {
                    if dec.is_none() {
                        dec = Some(self.decoded.len());
                    }
                    self.decoded.extend_from_slice(&self.b[run..self.i]);
                    self.escape()?;
                    run = self.i;
                }
                _ => return self.err("control character (\\u0000-\\u001F) found while parsing a string"),
            }
        }
    }

    /// Decodes the escape at the cursor (on its backslash) into `decoded`.
    fn escape(&mut self) -> Result<(), JsonError> {
        self.i += 1;
        let Some(c) = self.peek() else {
            return self.err("EOF while parsing a string");
        };
        self.i += 1;
        let byte = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(),
            _ => {
                self.i -= 1;
                return self.err("invalid escape");
            }
        };
        self.decoded.push(byte);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(digits) = self.b.get(self.i..self.i + 4) else {
            return self.err("EOF while parsing a string");
        };
        let mut v = 0u32;
        for &d in digits {
            let x = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return self.err("invalid escape"),
            };
            v = v * 16 + u32::from(x);
        }
        self.i += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<(), JsonError> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                    return self.err("lone leading surrogate in hex escape");
                }
                self.i += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return self.err("lone leading surrogate in hex escape");
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.err("lone trailing surrogate in hex escape"),
            c => c,
        };
        let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        self.decoded.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }
}

/// The length of the run of `b` before the first quote, backslash or control character: eight bytes per step
/// with the classic "has a zero byte" bit tricks (strings are short, so this beats a SIMD search's setup).
fn plain_run(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        // Bytes below 0x20: subtracting 0x20 borrows into the high bit, which `!x` keeps only for ASCII bytes.
        // False positives can only appear above a true one, so the lowest flagged byte is exact.
        let hits = zero_bytes(x ^ (ONES * u64::from(b'"')))
            | zero_bytes(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS);
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(b.len() - i)
}

/// A value inside a [`JsonDoc`]: a cheap copyable handle.
#[derive(Clone, Copy)]
pub struct JsonRef<'a> {
    doc: &'a JsonDoc,
    idx: u32,
}

impl fmt::Debug for JsonRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.raw()))
    }
}

impl<'a> JsonRef<'a> {
    fn node(&self) -> &'a Node {
        &self.doc.nodes[self.idx as usize]
    }

    pub fn kind(self) -> JsonKind {
        self.node().kind
    }

    /// The value's node on its document's tape (what [`JsonDoc::node`] takes back).
    pub fn index(self) -> u32 {
        self.idx
    }

    /// Where the value's JSON text lies in its document's text ([`JsonDoc::raw`]).
    pub fn span(self) -> Range<usize> {
        let n = self.node();
        n.start as usize..n.end as usize
    }

    pub fn is_object(self) -> bool {
        self.kind() == JsonKind::Object
    }

    pub fn is_array(self) -> bool {
        self.kind() == JsonKind::Array
    }

    pub fn is_string(self) -> bool {
        self.kind() == JsonKind::String
    }

    pub fn is_null(self) -> bool {
        self.kind() == JsonKind::Null
    }

    /// The value's JSON text exactly as written (strings with their quotes and escapes).
    pub fn raw(self) -> &'a [u8] {
        let n = self.node();
        &self.doc.raw[n.start as usize..n.end as usize]
    }

    /// The string's decoded text (`None` for other kinds).
    pub fn as_str(self) -> Option<&'a str> {
        let n = self.node();
        if n.kind != JsonKind::String {
            return None;
        }
        let bytes = if n.flags & ESCAPED_STR != 0 {
            &self.doc.decoded[n.dec_start as usize..n.dec_end as usize]
        } else {
            &self.doc.raw[n.start as usize + 1..n.end as usize - 1]
        };
        // Validated as UTF-8 when parsed (decoding only writes whole characters).
        std::str::from_utf8(bytes).ok()
    }

    pub fn as_bool(self) -> Option<bool> {
        match (self.kind(), self.raw()) {
            (JsonKind::Bool, b"true") => Some(true),
            (JsonKind::Bool, _) => Some(false),
            _ => None,
        }
    }

    fn number_text(self) -> Option<&'a str> {
        (self.kind() == JsonKind::Number)
            .then(|| std::str::from_utf8(self.raw()).ok())
            .flatten()
    }

    /// An unsigned integer number (`None` for negatives, fractions, exponents and other kinds), as serde_json.
    pub fn as_u64(self) -> Option<u64> {
        self.number_text()?.parse().ok()
    }

    pub fn as_i64(self) -> Option<i64> {
        self.number_text()?.parse().ok()
    }

    /// Any number as a float.
    pub fn as_f64(self) -> Option<f64> {
        self.number_text()?.parse().ok()
    }

    /// The member key of this value when it is a member of an object.
    pub fn key(self) -> Option<&'a str> {
        let n = self.node();
        if n.flags & HAS_KEY == 0 {
            return None;
        }
        let src = if n.flags & ESCAPED_KEY != 0 {
            &self.doc.decoded
        } else {
            &self.doc.raw
        };
        std::str::from_utf8(&src[n.key_start as usize..n.key_end as usize]).ok()
    }

    fn key_is(self, key: &str) -> bool {
        let n = self.node();
        let src = if n.flags & ESCAPED_KEY != 0 {
            &self.doc.decoded
        } else {
            &self.doc.raw
        };
        &src[n.key_start as usize..n.key_end as usize] == key.as_bytes()
    }

    /// The children (members or elements) in document order; empty for scalars.
    pub fn children(self) -> Children<'a> {
        let n = self.node();
        let container = matches!(n.kind, JsonKind::Object | JsonKind::Array);
        Children {
            doc: self.doc,
            at: self.idx + 1,
            end: if container { n.next } else { self.idx + 1 },
        }
    }

    /// The first member `key` of an object (the plugins' fastjson also takes the first); `None` otherwise.
    pub fn get(self, key: &str) -> Option<JsonRef<'a>> {
        if !self.is_object() {
            return None;
        }
        self.children().find(|c| c.key_is(key))
    }

    /// Element `i` of an array; `None` otherwise.
    pub fn at(self, i: usize) -> Option<JsonRef<'a>> {
        if !self.is_array() {
            return None;
        }
        self.children().nth(i)
    }

    /// The elements of an array (`None` for other kinds).
    pub fn as_array(self) -> Option<Children<'a>> {
        self.is_array().then(|| self.children())
    }

    /// The members of an object as (key, value) (`None` for other kinds).
    pub fn as_object(self) -> Option<Members<'a>> {
        self.is_object().then(|| Members(self.children()))
    }

    /// The value as a `serde_json::Value` (built on demand; for tests and slow paths).
    pub fn to_value(self) -> serde_json::Value {
        serde_json::from_slice(self.raw()).unwrap_or(serde_json::Value::Null)
    }
}

/// The children of a container, in document order.
#[derive(Clone)]
pub struct Children<'a> {
    doc: &'a JsonDoc,
    at: u32,
    end: u32,
}

impl<'a> Children<'a> {
    /// The same children from the start (lets callers written against slices iterate twice).
    pub fn iter(&self) -> Children<'a> {
        self.clone()
    }

    /// No children.
    pub fn is_empty(&self) -> bool {
        self.at >= self.end
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = JsonRef<'a>;

    fn next(&mut self) -> Option<JsonRef<'a>> {
        if self.at >= self.end {
            return None;
        }
        let r = JsonRef {
            doc: self.doc,
            idx: self.at,
        };
        self.at = r.node().next;
        Some(r)
    }
}

/// The members of an object as (key, value), in document order.
#[derive(Clone)]
pub struct Members<'a>(Children<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, JsonRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let v = self.0.next()?;
        Some((v.key().unwrap_or(""), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<JsonDoc, JsonError> {
        JsonDoc::parse(s.as_bytes().to_vec())
    }

    #[test]
    fn walks_members_elements_and_scalars() {
        let doc =
            parse(r#" {"a": {"b\/c": [10, {"d" : "x\ty"}, [1]], "e\u0041": true}, "z": null, "n": -1.5e3} "#).unwrap();
        let root = doc.root().unwrap();
        let bc = root.get("a").unwrap().get("b/c").unwrap();
        assert_eq!(bc.as_array().unwrap().count(), 3);
        assert_eq!(bc.at(0).unwrap().as_u64(), Some(10));
        assert_eq!(bc.at(1).unwrap().get("d").unwrap().as_str(), Some("x\ty"));
        assert_eq!(bc.at(1).unwrap().raw(), br#"{"d" : "x\ty"}"#);
        assert_eq!(bc.at(2).unwrap().raw(), b"[1]");
        assert!(bc.at(3).is_none());
        assert_eq!(root.get("a").unwrap().get("eA").unwrap().as_bool(), Some(true));
        assert!(root.get("z").unwrap().is_null());
        assert_eq!(root.get("n").unwrap().as_f64(), Some(-1500.0));
        assert_eq!(root.get("n").unwrap().as_u64(), None);
        let keys: Vec<&str> = root.as_object().unwrap().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "z", "n"]);
        assert!(root.get("missing").is_none());
        assert_eq!(root.to_value()["a"]["eA"], serde_json::Value::Bool(true));
    }

    #[test]
    fn empty_containers_and_first_duplicate_member() {
        let doc = parse(r#"{"a":{},"b":[],"a":1}"#).unwrap();
        let root = doc.root().unwrap();
        assert!(root.get("a").unwrap().is_object());
        assert_eq!(root.get("a").unwrap().children().count(), 0);
        assert_eq!(root.get("b").unwrap().as_array().unwrap().count(), 0);
        assert_eq!(root.children().count(), 3);
    }

    #[test]
    fn decodes_surrogate_pairs_and_keeps_raw_text() {
        let doc = parse(r#"["\ud83d\ude00 \u00e9", "plain"]"#).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(root.at(0).unwrap().as_str(), Some("😀 é"));
        assert_eq!(root.at(0).unwrap().raw(), br#""\ud83d\ude00 \u00e9""#);
        assert_eq!(root.at(1).unwrap().as_str(), Some("plain"));
    }

    #[test]
    fn plain_runs_stop_at_quotes_backslashes_and_control_bytes() {
        assert_eq!(plain_run(b"abcdefghij\"x"), 10);
        assert_eq!(plain_run(b"abc\\defghijk"), 3);
        assert_eq!(plain_run(b"abcdefgh\x01"), 8);
        assert_eq!(plain_run("é€😀\"".as_bytes()), "é€😀".len());
        assert_eq!(plain_run(b"\x7f\x80\xff abc"), 7);
        assert_eq!(plain_run(b""), 0);
        for n in 0..20 {
            let mut v = vec![b'a'; n];
            v.push(b'"');
            assert_eq!(plain_run(&v), n);
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        let bad = [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "[01]",
            "[1.]",
            "[.5]",
            "[1e]",
            "[-]",
            "[tru]",
            "[\"a\nb\"]",
            "[\"\\x\"]",
            "[\"\\ud800\"]",
            "[\"\\udc00\"]",
            "[1e400]",
            "[1] x",
            "[\"abc",
            "nul",
            "{\"a\":1}}",
            "[1 2]",
        ];
        for text in bad {
            assert!(parse(text).is_err(), "{text:?} must be rejected");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text:?} (serde)"
            );
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        assert!(JsonDoc::parse(vec![b'"', 0xff, b'"']).is_err());
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        let good = [
            "0",
            "-0",
            "1.5e-7",
            "123456789012345678901234567890",
            "\"\"",
            "{}",
            "[]",
            " [ 1 , { } , [ ] ] ",
            "{\"\":\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"}",
            "18446744073709551615",
            "-9223372036854775808",
        ];
        for text in good {
            let doc = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(
                doc.root().unwrap().to_value(),
                serde_json::from_str::<serde_json::Value>(text).unwrap()
            );
        }
    }

    #[test]
    fn several_values_share_one_tape_and_errors_roll_back() {
        let mut doc = JsonDoc::new(br#"{"a":1} {"a": } {"a":"\u0032"}"#.to_vec());
        let first = doc.parse_value_at(0..7).unwrap();
        assert!(doc.parse_value_at(8..15).is_err());
        let third = doc.parse_value_at(16..30).unwrap();
        assert_eq!(doc.node(first).unwrap().get("a").unwrap().as_u64(), Some(1));
        assert_eq!(doc.node(third).unwrap().get("a").unwrap().as_str(), Some("2"));
        assert_eq!(third, 2);
    }
}
