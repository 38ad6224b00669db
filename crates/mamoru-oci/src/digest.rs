//! Digest checks for blobs: names must be well-formed (they become file names) and content must hash to them.

use crate::error::OciError;
use sha2::{Digest as _, Sha256};
use std::io::{self, Read};

/// Splits `sha256:HEX`, refusing anything that is not a known algorithm with lower-case hex of the right length.
pub fn parse_digest(digest: &str) -> Result<(&str, &str), OciError> {
    let bad = || OciError::Format(format!("malformed digest {digest:?}"));
    let (alg, hex) = digest.split_once(':').ok_or_else(bad)?;
    let expected_len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(bad()),
    };
    if hex.len() != expected_len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad());
    }
    Ok((alg, hex))
}

/// `sha256:HEX` of bytes.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Checks a fully read document against its digest (sha256 only; other algorithms are accepted unchecked).
pub fn verify_bytes(digest: &str, data: &[u8]) -> Result<(), OciError> {
    let (alg, _) = parse_digest(digest)?;
    if alg == "sha256" {
        let actual = sha256_digest(data);
        if actual != digest {
            return Err(OciError::DigestMismatch {
                digest: digest.to_string(),
                actual,
            });
        }
    }
    Ok(())
}

/// Hashes a stream as it is read and fails at its end if the content does not match the expected sha256 digest.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    expected: String,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, digest: &str) -> Self {
        let hasher = digest.starts_with("sha256:").then(Sha256::new);
        VerifyingReader {
            inner,
            hasher,
            expected: digest.to_string(),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(h) = self.hasher.as_mut() {
                h.update(&buf[..n]);
            }
        } else if !buf.is_empty() {
            if let Some(h) = self.hasher.take() {
                let actual = format!("sha256:{}", hex::encode(h.finalize()));
                if actual != self.expected {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("blob {} hashes to {actual}", self.expected),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Reads at most `cap` bytes of a document, failing if it is longer.
pub fn read_capped(mut reader: impl Read, cap: u64, what: &str) -> Result<Vec<u8>, OciError> {
    let mut data = Vec::new();
    (&mut reader)
        .take(cap + 1)
        .read_to_end(&mut data)
        .map_err(|source| OciError::Read {
            what: what.to_string(),
            source,
        })?;
    if data.len() as u64 > cap {
        return Err(OciError::Format(format!("{what} is larger than {cap} bytes")));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_validated() {
        assert!(parse_digest("sha256:../../etc/passwd").is_err());
        assert!(parse_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        let d = sha256_digest(b"abc");
        assert!(verify_bytes(&d, b"abc").is_ok());
        assert!(verify_bytes(&d, b"abd").is_err());
        let mut r = VerifyingReader::new(&b"abd"[..], &d);
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
        let mut r = VerifyingReader::new(&b"abc"[..], &d);
        assert!(io::copy(&mut r, &mut io::sink()).is_ok());
    }
}
