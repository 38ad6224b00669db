//! Walking a record: pointer lookups in the parsed [`Value`], and rendering values as the plugins render them.
//!
//! The Falco plugins render a non-string JSON value as its JSON text the way fastjson's `MarshalTo` does: the
//! original text of the record with insignificant whitespace removed (original key order, original string escapes,
//! original number spelling). A `serde_json::Value` has lost all three, so objects and arrays are rendered from the
//! record's raw bytes: [`raw_find`] locates the value's span by walking the same path through the raw text, and
//! [`push_compact`] copies it without whitespace. Only when the raw text does not hold the path (a caller that built
//! an event without its raw bytes) is the value re-serialised from the tree, with serde_json's key order.

use crate::value::Values;
use serde_json::Value;

/// One step of a path: an object key, or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    Key(&'a str),
    Idx(usize),
}

/// A parsed RFC 6901 JSON pointer (`/a/b~1c/0`), split once at bind time.
///
/// Like the json plugin: a leading `/` is optional, `~1` decodes to `/` and `~0` to `~`, and a token that is a
/// decimal number also indexes arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPointer {
    tokens: Vec<String>,
}

impl JsonPointer {
    /// Parses a pointer as written in `json.value[<pointer>]`.
    pub fn parse(text: &str) -> Result<JsonPointer, String> {
        if text.is_empty() {
            return Err("a JSON pointer is required (e.g. /a/b)".to_string());
        }
        let body = text.strip_prefix('/').unwrap_or(text);
        let tokens = body
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        Ok(JsonPointer { tokens })
    }

    /// The decoded tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The value the pointer designates, if present.
    pub fn lookup<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.tokens.iter().try_fold(root, |v, t| step(v, t))
    }
}

/// Parses an array index token: decimal digits only.
pub(crate) fn parse_index(token: &str) -> Option<usize> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// One step down: an object member, or an array element when `key` is a decimal index (as fastjson's `Get`).
pub(crate) fn step<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => parse_index(key).and_then(|i| a.get(i)),
        _ => None,
    }
}

/// The value at `path` (object keys), if present.
pub(crate) fn get<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| step(v, k))
}

/// The string at `path`, if present and a string (fastjson `GetStringBytes` semantics: `None` for non-strings).
pub(crate) fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    get(v, path).and_then(Value::as_str)
}

/// The array at `path`, if present and an array.
pub(crate) fn array_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Vec<Value>> {
    get(v, path).and_then(Value::as_array)
}

/// Pushes `v` as the plugins render a value as a string: a string as itself, anything else as its JSON text.
/// `raw` is the record's raw text and `at` the path of `v` in it (used to render objects and arrays faithfully).
pub(crate) fn push_text<'p>(raw: &[u8], v: &Value, at: impl IntoIterator<Item = Tok<'p>>, out: &mut Values) {
    out.begin_bytes();
    extend_text(raw, v, at, out);
}

/// [`push_text`] for a value found at a path of object keys.
pub(crate) fn push_text_keys(raw: &[u8], v: &Value, path: &[&str], out: &mut Values) {
    push_text(raw, v, path.iter().map(|k| Tok::Key(k)), out);
}

/// Appends the text rendering of `v` (see [`push_text`]) to the value started with [`Values::begin_bytes`].
pub(crate) fn extend_text<'p>(raw: &[u8], v: &Value, at: impl IntoIterator<Item = Tok<'p>>, out: &mut Values) {
    match v {
        Value::String(s) => out.extend_last(s.as_bytes()),
        Value::Bool(true) => out.extend_last(b"true"),
        Value::Bool(false) => out.extend_last(b"false"),
        Value::Null => out.extend_last(b"null"),
        Value::Number(n) => {
            use std::io::Write;
            // Writing into the arena cannot fail.
            let _ = write!(ArenaWriter(out), "{n}");
        }
        Value::Object(_) | Value::Array(_) => {
            let opener = if v.is_object() { b'{' } else { b'[' };
            match raw_find(raw, at) {
                Some(span) if span.first() == Some(&opener) => extend_compact(span, out),
                // Writing into the arena cannot fail, and a Value always serialises.
                _ => drop(serde_json::to_writer(ArenaWriter(out), v)),
            }
        }
    }
}

/// `io::Write` into the value started with [`Values::begin_bytes`].
struct ArenaWriter<'a>(&'a mut Values);

impl std::io::Write for ArenaWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_last(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Pushes the JSON text `span` with insignificant whitespace removed (fastjson `MarshalTo` output).
#[cfg(test)]
pub(crate) fn push_compact(span: &[u8], out: &mut Values) {
    out.begin_bytes();
    extend_compact(span, out);
}

/// Appends the JSON text `span` with insignificant whitespace removed to the value being built.
pub(crate) fn extend_compact(span: &[u8], out: &mut Values) {
    let mut i = 0;
    while i < span.len() {
        let c = span[i];
        if c == b'"' {
            let end = string_end(span, i).unwrap_or(span.len());
            out.extend_last(&span[i..end]);
            i = end;
        } else if is_ws(c) {
            i += 1;
        } else {
            let run = span[i..]
                .iter()
                .position(|&b| b == b'"' || is_ws(b))
                .unwrap_or(span.len() - i);
            out.extend_last(&span[i..i + run]);
            i += run;
        }
    }
}

/// Pushes the JSON text `raw` re-indented with two spaces per level, as Go's `json.Indent(dst, src, "", "  ")`
/// (what `json.obj` returns): one member or element per line, `": "` after keys, empty containers kept as `{}`/`[]`.
pub(crate) fn push_indented(raw: &[u8], out: &mut Values) {
    out.begin_bytes();
    let mut depth = 0usize;
    let mut need_indent = false;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if is_ws(c) {
            i += 1;
            continue;
        }
        let closing = c == b'}' || c == b']';
        if need_indent && !closing {
            need_indent = false;
            depth += 1;
            newline(out, depth);
        }
        match c {
            b'"' => {
                let end = string_end(raw, i).unwrap_or(raw.len());
                out.extend_last(&raw[i..end]);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                out.extend_last(&[c]);
                need_indent = true;
            }
            b',' => {
                out.extend_last(b",");
                newline(out, depth);
            }
            b':' => out.extend_last(b": "),
            b'}' | b']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(out, depth);
                }
                out.extend_last(&[c]);
            }
            _ => out.extend_last(&[c]),
        }
        i += 1;
    }
}

fn newline(out: &mut Values, depth: usize) {
    out.extend_last(b"\n");
    for _ in 0..depth {
        out.extend_last(b"  ");
    }
}

/// Index just past the closing quote of the string starting at `start` (which holds `"`).
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let j = memchr::memchr2(b'"', b'\\', &b[i..])?;
        i += j;
        if b[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// A cursor over valid JSON text.
struct RawCursor<'r> {
    b: &'r [u8],
    i: usize,
}

impl<'r> RawCursor<'r> {
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips one value; the cursor ends just past it.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.i = string_end(self.b, self.i)?,
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *self.b.get(self.i)? {
                        b'"' => {
                            self.i = string_end(self.b, self.i)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.b.len() && !matches!(self.b[self.i], b',' | b'}' | b']') && !is_ws(self.b[self.i]) {
                    self.i += 1;
                }
            }
        }
        Some(())
    }

    /// At `{`: moves to the value of member `key` (the first one, as fastjson).
    fn enter_key(&mut self, key: &str) -> Option<()> {
        self.i += 1;
        loop {
            self.skip_ws();
            match self.peek()? {
                b'}' => return None,
                b',' => self.i += 1,
                b'"' => {
                    let start = self.i + 1;
                    self.i = string_end(self.b, self.i)?;
                    let raw_key = &self.b[start..self.i - 1];
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.skip_ws();
                    if key_eq(raw_key, key) {
                        return Some(());
                    }
                    self.skip_value()?;
                }
                _ => return None,
            }
        }
    }

    /// At `[`: moves to element `idx`.
    fn enter_index(&mut self, idx: usize) -> Option<()> {
        self.i += 1;
        let mut n = 0usize;
        loop {
            self.skip_ws();
            match self.peek()? {
                b']' => return None,
                b',' => self.i += 1,
                _ => {
                    if n == idx {
                        return Some(());
                    }
                    self.skip_value()?;
                    n += 1;
                }
            }
        }
    }

    /// At `{`: calls `f` with each member's raw (still escaped) key, in document order.
    fn for_each_key(&mut self, mut f: impl FnMut(&'r [u8])) -> Option<()> {
        self.i += 1;
        loop {
            self.skip_ws();
            match self.peek()? {
                b'}' => return Some(()),
                b',' => self.i += 1,
                b'"' => {
                    let start = self.i + 1;
                    self.i = string_end(self.b, self.i)?;
                    f(&self.b[start..self.i - 1]);
                    self.skip_ws();
                    self.i += 1; // ':'
                    self.skip_value()?;
                }
                _ => return None,
            }
        }
    }
}

/// The raw text of the value at `path` in the JSON text `raw`, if present.
pub(crate) fn raw_find<'r, 'p>(raw: &'r [u8], path: impl IntoIterator<Item = Tok<'p>>) -> Option<&'r [u8]> {
    let mut cur = RawCursor { b: raw, i: 0 };
    let mut digits = [0u8; 20];
    for tok in path {
        cur.skip_ws();
        match (cur.peek()?, tok) {
            (b'{', Tok::Key(k)) => cur.enter_key(k)?,
            (b'{', Tok::Idx(n)) => cur.enter_key(format_index(n, &mut digits))?,
            (b'[', Tok::Idx(n)) => cur.enter_index(n)?,
            (b'[', Tok::Key(k)) => cur.enter_index(parse_index(k)?)?,
            _ => return None,
        }
    }
    cur.skip_ws();
    let start = cur.i;
    cur.skip_value()?;
    Some(&raw[start..cur.i])
}

/// Calls `f` with the decoded keys of the object whose raw text is `span`, in document order.
pub(crate) fn for_each_raw_key(span: &[u8], mut f: impl FnMut(&[u8])) -> Option<()> {
    let mut cur = RawCursor { b: span, i: 0 };
    cur.skip_ws();
    if cur.peek()? != b'{' {
        return None;
    }
    let mut decoded = [0u8; 256];
    cur.for_each_key(|raw_key| {
        if memchr::memchr(b'\\', raw_key).is_none() {
            f(raw_key);
        } else {
            // Escaped keys are rare; decode into a bounded stack buffer (longer keys are passed raw).
            let mut n = 0usize;
            let mut fits = true;
            unescape(raw_key, |chunk| {
                if fits && n + chunk.len() <= decoded.len() {
                    decoded[n..n + chunk.len()].copy_from_slice(chunk);
                    n += chunk.len();
                } else {
                    fits = false;
                }
            });
            f(if fits { &decoded[..n] } else { raw_key });
        }
    })
}

fn format_index(n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Whether the raw (escaped) JSON string body `raw` decodes to `key`.
fn key_eq(raw: &[u8], key: &str) -> bool {
    if memchr::memchr(b'\\', raw).is_none() {
        return raw == key.as_bytes();
    }
    let key = key.as_bytes();
    let mut pos = 0usize;
    let mut same = true;
    unescape(raw, |chunk| {
        if same && key.len() >= pos + chunk.len() && &key[pos..pos + chunk.len()] == chunk {
            pos += chunk.len();
        } else {
            same = false;
        }
    });
    same && pos == key.len()
}

/// Decodes the escapes of a raw JSON string body, handing decoded UTF-8 to `sink` in chunks.
fn unescape(raw: &[u8], mut sink: impl FnMut(&[u8])) {
    let mut i = 0;
    while i < raw.len() {
        let Some(j) = memchr::memchr(b'\\', &raw[i..]) else {
            sink(&raw[i..]);
            return;
        };
        sink(&raw[i..i + j]);
        i += j + 1;
        let Some(&esc) = raw.get(i) else { return };
        i += 1;
        let simple = match esc {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(b) = simple {
            sink(&[b]);
            continue;
        }
        if esc != b'u' {
            continue;
        }
        let Some(hi) = hex4(raw, i) else { return };
        i += 4;
        let code = if (0xD800..0xDC00).contains(&hi) && raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u') {
            match hex4(raw, i + 2) {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                }
                _ => hi,
            }
        } else {
            hi
        };
        let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        sink(ch.encode_utf8(&mut buf).as_bytes());
    }
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Values)) -> String {
        let mut v = Values::new();
        f(&mut v);
        match v.get(0) {
            Some(crate::value::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected one string value, got {other:?}"),
        }
    }

    #[test]
    fn pointer_decodes_escapes_and_optional_leading_slash() {
        let p = JsonPointer::parse("/annotations/authorization.k8s.io~1decision").unwrap();
        assert_eq!(p.tokens(), ["annotations", "authorization.k8s.io/decision"]);
        assert_eq!(JsonPointer::parse("a/~0b").unwrap().tokens(), ["a", "~b"]);
        assert!(JsonPointer::parse("").is_err());
    }

    #[test]
    fn raw_find_walks_keys_indexes_and_escaped_keys() {
        let raw = br#" {"a": {"b\/c": [10, {"d" : "x y"}, [1]], "e\u0041": true}, "z": null} "#;
        assert_eq!(
            raw_find(raw, [Tok::Key("a"), Tok::Key("b/c"), Tok::Idx(1)]),
            Some(&br#"{"d" : "x y"}"#[..])
        );
        assert_eq!(
            raw_find(raw, [Tok::Key("a"), Tok::Key("b/c"), Tok::Key("2")]),
            Some(&b"[1]"[..])
        );
        assert_eq!(raw_find(raw, [Tok::Key("a"), Tok::Key("eA")]), Some(&b"true"[..]));
        assert_eq!(raw_find(raw, [Tok::Key("z")]), Some(&b"null"[..]));
        assert_eq!(raw_find(raw, [Tok::Key("a"), Tok::Key("b/c"), Tok::Idx(3)]), None);
        assert_eq!(raw_find(raw, [Tok::Key("missing")]), None);
    }

    #[test]
    fn compact_keeps_order_escapes_and_string_whitespace() {
        let span = b"{ \"b\" : [1, 2.50],\n  \"a\": \"x \\\" y\" }";
        assert_eq!(text(|o| push_compact(span, o)), r#"{"b":[1,2.50],"a":"x \" y"}"#);
    }

    #[test]
    fn indent_matches_go_json_indent() {
        let raw = br#"{"a":1,"b":[],"c":{"d":[true,null]},"e":{}}"#;
        let want = "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": {\n    \"d\": [\n      true,\n      null\n    ]\n  },\n  \"e\": {}\n}";
        assert_eq!(text(|o| push_indented(raw, o)), want);
    }

    #[test]
    fn push_text_renders_scalars_and_falls_back_without_raw() {
        let v: Value = serde_json::json!({"b": 1, "a": [true]});
        assert_eq!(text(|o| push_text(b"", &v, [], o)), r#"{"a":[true],"b":1}"#);
        assert_eq!(text(|o| push_text(b"", &Value::from(201), [], o)), "201");
        assert_eq!(text(|o| push_text(b"", &Value::Bool(false), [], o)), "false");
    }

    #[test]
    fn raw_keys_are_listed_in_document_order() {
        let mut keys = Vec::new();
        for_each_raw_key(br#"{"name":"x","hostPath":{"path":"/"},"emptyD\u0069r":{}}"#, |k| {
            keys.push(String::from_utf8_lossy(k).into_owned())
        });
        assert_eq!(keys, ["name", "hostPath", "emptyDir"]);
    }
}
