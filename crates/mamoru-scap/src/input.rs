//! The byte stream under the reader: plain or gzip (detected from the first two bytes), with position tracking.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BUF_CAPACITY: usize = 256 * 1024;

pub(crate) enum Input<R: Read> {
    Plain(BufReader<R>),
    // Boxed: the decoder state is ~350 bytes, the plain reader ~40; one allocation per open file.
    Gzip(Box<BufReader<MultiGzDecoder<BufReader<R>>>>),
}

impl<R: Read> Input<R> {
    /// Wraps `inner`, inflating it if it starts with the gzip magic.
    pub fn detect(inner: R) -> io::Result<Self> {
        let mut buffered = BufReader::with_capacity(BUF_CAPACITY, inner);
        let head = buffered.fill_buf()?;
        if head.len() >= 2 && head[..2] == GZIP_MAGIC {
            let decoder = MultiGzDecoder::new(buffered);
            Ok(Input::Gzip(Box::new(BufReader::with_capacity(BUF_CAPACITY, decoder))))
        } else {
            Ok(Input::Plain(buffered))
        }
    }

    pub fn is_gzip(&self) -> bool {
        matches!(self, Input::Gzip(_))
    }

    /// Reads until `buf` is full or the input ends; returns how many bytes were read. A gzip stream cut short ends
    /// like a plain file does (the caller reports the truncation with its offset).
    pub fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            match self.read(&mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}
