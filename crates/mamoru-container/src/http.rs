//! The small HTTP/1.0 client the Docker, Podman and CRI-O inspection endpoints need: one GET per connection over
//! a unix socket, body capped, `Content-Length`, close-delimited and chunked bodies understood.

use crate::LookupError;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Responses larger than this are refused (an inspection document is a few KiB).
const MAX_RESPONSE: u64 = 4 << 20;

/// Status code and body of `GET path` on the unix socket `socket`.
pub async fn get(socket: &Path, path: &str) -> Result<(u16, Vec<u8>), LookupError> {
    let io = |e: std::io::Error| LookupError::Connect {
        socket: socket.to_path_buf(),
        reason: e.to_string(),
    };
    let mut stream = UnixStream::connect(socket).await.map_err(io)?;
    let req = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\nAccept: application/json\r\n\r\n");
    stream.write_all(req.as_bytes()).await.map_err(io)?;
    let mut buf = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE + 1)
        .read_to_end(&mut buf)
        .await
        .map_err(io)?;
    if buf.len() as u64 > MAX_RESPONSE {
        return Err(LookupError::Http {
            what: path.to_string(),
            reason: format!("response larger than {MAX_RESPONSE} bytes"),
        });
    }
    parse_response(&buf).map_err(|reason| LookupError::Http {
        what: path.to_string(),
        reason,
    })
}

/// Splits a raw response into status and decoded body.
pub fn parse_response(buf: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "headers are not UTF-8")?;
    let body = &buf[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if k.eq_ignore_ascii_case("content-length") {
            length = v.parse().ok();
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        match length {
            Some(n) if n <= body.len() => body[..n].to_vec(),
            Some(_) => return Err("body shorter than Content-Length".into()),
            None => body.to_vec(),
        }
    };
    Ok((status, body))
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = std::str::from_utf8(&body[..eol]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}xx").expect("valid");
        assert_eq!(r, (200, b"{}".to_vec()));
        let r = parse_response(b"HTTP/1.1 404 Not Found\r\n\r\nmissing").expect("valid");
        assert_eq!(r, (404, b"missing".to_vec()));
        let r =
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .expect("valid");
        assert_eq!(r.1, b"abcde");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab").is_err());
        assert!(parse_response(b"garbage").is_err());
    }
}
