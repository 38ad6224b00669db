//! Little-endian field access over a block body ([`Cursor`]) and the matching encoder ([`Out`]).

use crate::error::BodyError;

/// Reads fields front to back; every read is bounds-checked and reports the body offset it failed at.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], BodyError> {
        if self.remaining() < n {
            return Err(BodyError::new(
                self.pos,
                format!("{what} needs {n} bytes, {} left in the block", self.remaining()),
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn skip(&mut self, n: usize, what: &str) -> Result<(), BodyError> {
        self.bytes(n, what).map(|_| ())
    }

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], BodyError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N, what)?);
        Ok(a)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, BodyError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16, BodyError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, BodyError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, BodyError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub fn i64(&mut self, what: &str) -> Result<i64, BodyError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// A `u16` length followed by that many bytes (strings in state blocks are not NUL-terminated on disk).
    pub fn str16(&mut self, what: &str) -> Result<&'a [u8], BodyError> {
        let n = self.u16(what)? as usize;
        self.bytes(n, what)
    }
}

/// Appends little-endian fields to a byte vector.
pub(crate) struct Out<'a>(pub &'a mut Vec<u8>);

impl Out<'_> {
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    /// A `u16` length and the bytes, cut to `max` bytes (the limit readers enforce for that field).
    pub fn str16(&mut self, s: &[u8], max: usize) -> &mut Self {
        let s = &s[..s.len().min(max).min(u16::MAX as usize)];
        self.u16(s.len() as u16).bytes(s)
    }
    /// Overwrites a `u32` placeholder written earlier at `at`.
    pub fn patch_u32(&mut self, at: usize, v: u32) {
        self.0[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Reads a little-endian `u16` at `at` (caller guarantees bounds).
pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Reads a little-endian `u32` at `at` (caller guarantees bounds).
pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
