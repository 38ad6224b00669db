//! Rendering extracted values as text, the way Falco prints them: numbers in decimal, booleans as `true`/`false`,
//! addresses in their usual notation, byte buffers with non-printable bytes shown as `.`.

use mamoru_fields::{TypeClass, Value};
use std::io::Write;

/// Appends the text of `v` to `out`. `class` is the field's type class: byte buffers (`TypeClass::Bytes`) are
/// escaped, strings are copied verbatim.
pub(crate) fn write_value(v: Value<'_>, class: TypeClass, out: &mut Vec<u8>) {
    // Writing into a Vec<u8> cannot fail.
    let _ = match v {
        Value::Bytes(b) if class == TypeClass::Bytes => {
            write_printable(b, out);
            Ok(())
        }
        Value::Bytes(b) => {
            out.extend_from_slice(b);
            Ok(())
        }
        Value::U64(x) => write!(out, "{x}"),
        Value::I64(x) => write!(out, "{x}"),
        // libsinsp prints doubles with `%.1lf`.
        Value::Double(x) => write!(out, "{x:.1}"),
        Value::Bool(b) => write!(out, "{b}"),
        Value::Ip(ip) => write!(out, "{ip}"),
        Value::Net(net) => write!(out, "{net}"),
    };
}

/// Byte buffers print their printable ASCII bytes and a `.` for every other byte.
fn write_printable(b: &[u8], out: &mut Vec<u8>) {
    out.extend(b.iter().map(|c| if (0x20..0x7f).contains(c) { *c } else { b'.' }));
}

/// A small stack buffer holding the text of a non-string value, so string operators can compare numbers, booleans
/// and addresses without allocating.
pub(crate) struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl StackText {
    pub(crate) fn of(v: Value<'_>) -> StackText {
        let mut buf = [0u8; 64];
        let len = {
            let mut cur = std::io::Cursor::new(&mut buf[..]);
            // Every non-string value renders in fewer than 64 bytes (an IPv6 network is at most 49).
            let _ = match v {
                Value::Bytes(_) => Ok(()),
                Value::U64(x) => write!(cur, "{x}"),
                Value::I64(x) => write!(cur, "{x}"),
                Value::Double(x) => write!(cur, "{x:.1}"),
                Value::Bool(b) => write!(cur, "{b}"),
                Value::Ip(ip) => write!(cur, "{ip}"),
                Value::Net(net) => write!(cur, "{net}"),
            };
            cur.position() as usize
        };
        StackText { buf, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Base64 decoding (standard alphabet, padding optional) into `out`; false on any invalid input.
pub(crate) fn b64_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let data = match input.iter().position(|c| *c == b'=') {
        Some(p) => {
            let (data, pad) = input.split_at(p);
            if pad.len() > 2 || pad.iter().any(|c| *c != b'=') || (data.len() + pad.len()) % 4 != 0 {
                return false;
            }
            data
        }
        None => input,
    };
    if data.len() % 4 == 1 {
        return false;
    }
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let Some(s) = sextet(*c) else {
                return false;
            };
            acc |= s << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        b64_decode(s.as_bytes(), &mut out).then_some(out)
    }

    #[test]
    fn base64_with_and_without_padding() {
        assert_eq!(dec("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(dec("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(dec("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(dec("").as_deref(), Some(&b""[..]));
        assert_eq!(dec("a"), None);
        assert_eq!(dec("a$=="), None);
        assert_eq!(dec("aGk=x"), None);
    }

    #[test]
    fn value_text() {
        let mut out = Vec::new();
        write_value(Value::Bytes(b"GET /\r\n\x00"), TypeClass::Bytes, &mut out);
        assert_eq!(out, b"GET /...");
        assert_eq!(StackText::of(Value::I64(-5)).as_bytes(), b"-5");
        assert_eq!(StackText::of(Value::Bool(true)).as_bytes(), b"true");
        assert_eq!(StackText::of(Value::Double(1.25)).as_bytes(), b"1.2");
    }
}
