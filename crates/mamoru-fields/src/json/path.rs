//! Walking a record: pointer lookups in its JSON tape, and rendering values as the plugins render them.
//!
//! The Falco plugins render a non-string JSON value as its JSON text the way fastjson's `MarshalTo` does: the
//! original text of the record with insignificant whitespace removed (original key order, original string escapes,
//! original number spelling). The tape keeps every value's span in the record's text, so [`push_text`] copies that
//! span with [`extend_compact`].

use crate::value::Values;
use mamoru_records::{JsonKind, JsonRef};

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
    pub fn lookup<'v>(&self, root: JsonRef<'v>) -> Option<JsonRef<'v>> {
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
pub(crate) fn step<'v>(v: JsonRef<'v>, key: &str) -> Option<JsonRef<'v>> {
    match v.kind() {
        JsonKind::Object => v.get(key),
        JsonKind::Array => parse_index(key).and_then(|i| v.at(i)),
        _ => None,
    }
}

/// The value at `path` (object keys), if present.
pub(crate) fn get<'v>(v: JsonRef<'v>, path: &[&str]) -> Option<JsonRef<'v>> {
    path.iter().try_fold(v, |v, k| step(v, k))
}

/// The string at `path`, if present and a string (fastjson `GetStringBytes` semantics: `None` for non-strings).
pub(crate) fn str_at<'v>(v: JsonRef<'v>, path: &[&str]) -> Option<&'v str> {
    get(v, path).and_then(JsonRef::as_str)
}

/// The elements of the array at `path`, if present and an array.
pub(crate) fn array_at<'v>(v: JsonRef<'v>, path: &[&str]) -> Option<mamoru_records::json::Children<'v>> {
    get(v, path).and_then(JsonRef::as_array)
}

/// Pushes `v` as the plugins render a value as a string: a string as itself, anything else as its JSON text.
pub(crate) fn push_text(v: JsonRef<'_>, out: &mut Values) {
    out.begin_bytes();
    extend_text(v, out);
}

/// Appends the text rendering of `v` (see [`push_text`]) to the value started with [`Values::begin_bytes`].
pub(crate) fn extend_text(v: JsonRef<'_>, out: &mut Values) {
    match v.as_str() {
        Some(s) => out.extend_last(s.as_bytes()),
        None => extend_compact(v.raw(), out),
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
    fn push_text_renders_strings_decoded_and_the_rest_as_compact_text() {
        let doc = mamoru_records::JsonDoc::parse(
            br#"{"s": "a\u0041", "o": { "b" : [1, 2.50] }, "n": 1e3, "t": true}"#.to_vec(),
        )
        .unwrap();
        let root = doc.root().unwrap();
        let render = |k: &str| text(|o| push_text(root.get(k).unwrap(), o));
        assert_eq!(render("s"), "aA");
        assert_eq!(render("o"), r#"{"b":[1,2.50]}"#);
        assert_eq!(render("n"), "1e3");
        assert_eq!(render("t"), "true");
    }

    #[test]
    fn pointers_walk_keys_and_indexes() {
        let doc = mamoru_records::JsonDoc::parse(br#"{"a": {"b/c": [10, {"d": "x"}]}}"#.to_vec()).unwrap();
        let p = JsonPointer::parse("/a/b~1c/1/d").unwrap();
        assert_eq!(p.lookup(doc.root().unwrap()).and_then(JsonRef::as_str), Some("x"));
        assert!(JsonPointer::parse("/a/b~1c/2")
            .unwrap()
            .lookup(doc.root().unwrap())
            .is_none());
    }
}
