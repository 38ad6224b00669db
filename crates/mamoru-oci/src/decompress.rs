//! Layer decompression (gzip, zstd, plain) by magic bytes, with decompression-bomb caps.

use crate::limits::Limits;
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

/// Compression of a layer blob, detected from its first bytes (media types lie or are absent in docker archives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

/// Why decompression was stopped: carried inside the `io::Error` so the tar reader's error path can report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BombError {
    pub produced: u64,
    pub consumed: u64,
    pub why: String,
}

impl std::fmt::Display for BombError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} bytes out of {} compressed bytes)",
            self.why, self.produced, self.consumed
        )
    }
}

impl std::error::Error for BombError {}

/// Counts bytes read from the compressed blob.
struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Decompressed stream of one layer whose output is capped absolutely and by ratio to the consumed input.
pub struct LayerStream<'a> {
    inner: Box<dyn Read + 'a>,
    consumed: Rc<Cell<u64>>,
    produced: u64,
    compression: Compression,
    max_bytes: u64,
    max_ratio: u64,
    ratio_floor: u64,
}

impl<'a> LayerStream<'a> {
    /// Wraps `blob`, detecting its compression from the first bytes.
    pub fn new(blob: impl Read + 'a, limits: &Limits) -> io::Result<Self> {
        let consumed = Rc::new(Cell::new(0));
        let counting = CountingReader {
            inner: blob,
            count: Rc::clone(&consumed),
        };
        let mut buffered = BufReader::with_capacity(64 * 1024, counting);
        let head = buffered.fill_buf()?;
        let compression = detect(head);
        let inner: Box<dyn Read + 'a> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            Compression::Zstd => Box::new(ZstdReader::new(buffered)?),
            Compression::None => Box::new(buffered),
        };
        Ok(LayerStream {
            inner,
            consumed,
            produced: 0,
            compression,
            max_bytes: limits.max_layer_bytes,
            max_ratio: limits.max_ratio.max(1),
            ratio_floor: limits.ratio_floor_bytes,
        })
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Uncompressed bytes produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Compressed bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.consumed.get()
    }

    fn check_caps(&self) -> io::Result<()> {
        let consumed = self.consumed.get();
        let why = if self.produced > self.max_bytes {
            Some(format!("uncompressed size exceeds the {} byte cap", self.max_bytes))
        } else if self.compression != Compression::None
            && self.produced > self.ratio_floor
            && self.produced > consumed.saturating_mul(self.max_ratio)
        {
            Some(format!("compression ratio exceeds {}:1", self.max_ratio))
        } else {
            None
        };
        match why {
            Some(why) => Err(io::Error::other(BombError {
                produced: self.produced,
                consumed,
                why,
            })),
            None => Ok(()),
        }
    }
}

impl Read for LayerStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        self.check_caps()?;
        Ok(n)
    }
}

fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// zstd through the pure-Rust decoder; several concatenated frames are read one after another.
struct ZstdReader<R: BufRead> {
    decoder: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> ZstdReader<R> {
    fn new(source: R) -> io::Result<Self> {
        let decoder = ruzstd::decoding::StreamingDecoder::new(source).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(ZstdReader { decoder: Some(decoder) })
    }
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // Frame finished: continue with the next frame if more input follows.
            let Some(decoder) = self.decoder.take() else {
                return Ok(0);
            };
            let mut source = decoder.into_inner();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let next = ruzstd::decoding::StreamingDecoder::new(source).map_err(|e| io::Error::other(e.to_string()))?;
            self.decoder = Some(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn detects_and_decodes_gzip_and_plain() {
        let limits = Limits::default();
        let packed = gzip(b"hello world");
        let mut s = LayerStream::new(&packed[..], &limits).unwrap();
        assert_eq!(s.compression(), Compression::Gzip);
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let s = LayerStream::new(&b"plain"[..], &limits).unwrap();
        assert_eq!(s.compression(), Compression::None);
    }

    #[test]
    fn ratio_cap_stops_a_bomb() {
        let limits = Limits {
            ratio_floor_bytes: 1 << 20,
            max_ratio: 100,
            ..Limits::default()
        };
        let packed = gzip(&vec![0u8; 16 << 20]);
        let mut s = LayerStream::new(&packed[..], &limits).unwrap();
        let err = io::copy(&mut s, &mut io::sink()).unwrap_err();
        let bomb = err.get_ref().and_then(|e| e.downcast_ref::<BombError>()).unwrap();
        assert!(bomb.why.contains("ratio"), "{bomb}");
    }

    #[test]
    fn absolute_cap_applies_to_plain_streams() {
        let limits = Limits {
            max_layer_bytes: 1000,
            ..Limits::default()
        };
        let data = vec![7u8; 5000];
        let mut s = LayerStream::new(&data[..], &limits).unwrap();
        assert!(io::copy(&mut s, &mut io::sink()).is_err());
    }
}
