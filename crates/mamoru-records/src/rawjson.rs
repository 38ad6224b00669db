//! Structural walking of JSON text without building a tree: find a top-level member, list array element spans.
//! Used to frame container documents (an `EventList`'s items, a CloudTrail file's `Records`) so that each record
//! is parsed once, from its own bytes, and keeps them as its raw text.
//!
//! The walkers assume well-formed input and return `None` where it is not; a record span they return is then
//! parsed by serde_json, which reports any error precisely.

use std::ops::Range;

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Index just past the string starting at `i` (which holds `"`).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        let j = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        i += j;
        if b[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// Index just past the value starting at (or after whitespace from) `i`.
pub(crate) fn value_end(b: &[u8], i: usize) -> Option<usize> {
    let mut i = skip_ws(b, i);
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match *b.get(i)? {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let start = i;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') && !is_ws(b[i]) {
                i += 1;
            }
            // A scalar is at least one byte: a stray `}` or `]` is malformed, and must not read as an empty value
            // (callers walking arrays would otherwise never advance).
            (i > start).then_some(i)
        }
    }
}

/// The span of the value of the first top-level member `key` of the object `doc` (keys compared unescaped-free:
/// a key written with escapes does not match, which is fine for the ASCII envelope keys looked up here).
pub(crate) fn find_member(doc: &[u8], key: &str) -> Option<Range<usize>> {
    let mut i = skip_ws(doc, 0);
    if doc.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(doc, i);
        match *doc.get(i)? {
            b'}' => return None,
            b',' => i += 1,
            b'"' => {
                let end = string_end(doc, i)?;
                let name = &doc[i + 1..end - 1];
                i = skip_ws(doc, end);
                if doc.get(i) != Some(&b':') {
                    return None;
                }
                let start = skip_ws(doc, i + 1);
                let stop = value_end(doc, start)?;
                if name == key.as_bytes() {
                    return Some(start..stop);
                }
                i = stop;
            }
            _ => return None,
        }
    }
}

/// Where the value of the first top-level member `key` of the object `doc` starts. Unlike [`find_member`] it does
/// not walk that value to its end: framing a CloudTrail file's `Records` then costs nothing before the records.
pub(crate) fn member_start(doc: &[u8], key: &str) -> Option<usize> {
    let mut i = skip_ws(doc, 0);
    if doc.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(doc, i);
        match *doc.get(i)? {
            b'}' => return None,
            b',' => i += 1,
            b'"' => {
                let end = string_end(doc, i)?;
                let name = &doc[i + 1..end - 1];
                i = skip_ws(doc, end);
                if doc.get(i) != Some(&b':') {
                    return None;
                }
                let start = skip_ws(doc, i + 1);
                if name == key.as_bytes() {
                    return (start < doc.len()).then_some(start);
                }
                i = value_end(doc, start)?;
            }
            _ => return None,
        }
    }
}

/// The spans of the elements of the array `arr` (offsets relative to `arr`).
pub(crate) fn element_spans(arr: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut i = skip_ws(arr, 0);
    if arr.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut spans = Vec::new();
    loop {
        i = skip_ws(arr, i);
        match *arr.get(i)? {
            b']' => return Some(spans),
            b',' => i += 1,
            _ => {
                let end = value_end(arr, i)?;
                spans.push(i..end);
                i = end;
            }
        }
    }
}

/// The string value of top-level member `key`, when it is a plain (escape-free) string.
pub(crate) fn member_str<'d>(doc: &'d [u8], key: &str) -> Option<&'d [u8]> {
    let span = find_member(doc, key)?;
    let v = &doc[span];
    (v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"').then(|| &v[1..v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_members_and_elements() {
        let doc = br#" { "kind" : "EventList", "a": {"items": 1}, "items": [ {"x":"]"} , [1,2], "s" ] } "#;
        assert_eq!(member_str(doc, "kind"), Some(&b"EventList"[..]));
        let items = find_member(doc, "items").unwrap();
        let arr = &doc[items];
        let spans = element_spans(arr).unwrap();
        let texts: Vec<&[u8]> = spans.into_iter().map(|r| &arr[r]).collect();
        assert_eq!(texts, [&br#"{"x":"]"}"#[..], b"[1,2]", b"\"s\""]);
        assert_eq!(find_member(doc, "missing"), None);
        assert_eq!(element_spans(b"[]").unwrap(), Vec::<Range<usize>>::new());
        assert_eq!(element_spans(b"{}"), None);
    }

    #[test]
    fn malformed_arrays_end_the_walk_instead_of_looping() {
        // Found by the fuzz runner: a stray closing brace inside an array made the walker spin, pushing empty spans
        // until memory ran out.
        assert_eq!(element_spans(b"[ {\"a\":1}, } ]"), None);
        assert_eq!(element_spans(b"[}"), None);
        assert_eq!(find_member(b"{\"k\": }", "k"), None);
    }
}
