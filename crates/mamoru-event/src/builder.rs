//! Builds scap events byte for byte: used by the capture writer, the `/proc`-free test harness and the benchmarks.

use crate::raw::HEADER_LEN_V2;
use crate::table::event_info;

/// Accumulates the parameters of one event and lays it out in the V2 scap layout.
///
/// Parameters must be pushed in table order; [`EventBuilder::finish`] writes the header and the length array.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    ts: u64,
    tid: u64,
    etype: u16,
    large: bool,
    lens: Vec<u32>,
    data: Vec<u8>,
}

impl EventBuilder {
    pub fn new(etype: u16, ts: u64, tid: u64) -> Self {
        let large = event_info(etype).map(|i| i.large_payload()).unwrap_or(false);
        EventBuilder {
            ts,
            tid,
            etype,
            large,
            lens: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Appends raw parameter bytes.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.lens.push(b.len() as u32);
        self.data.extend_from_slice(b);
        self
    }

    /// Appends a NUL-terminated string parameter.
    pub fn str(mut self, s: impl AsRef<[u8]>) -> Self {
        let s = s.as_ref();
        self.lens.push(s.len() as u32 + 1);
        self.data.extend_from_slice(s);
        self.data.push(0);
        self
    }

    /// Appends an empty parameter (the driver's way of saying "no value").
    pub fn empty(self) -> Self {
        self.bytes(&[])
    }

    pub fn u8(self, v: u8) -> Self {
        self.bytes(&[v])
    }
    pub fn u16(self, v: u16) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn u32(self, v: u32) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn u64(self, v: u64) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn i32(self, v: i32) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    pub fn i64(self, v: i64) -> Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends a NUL-separated list (execve `args`, `env`, `cgroups`): each item followed by a NUL.
    pub fn nul_list<I, S>(self, items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut buf = Vec::new();
        for it in items {
            buf.extend_from_slice(it.as_ref());
            buf.push(0);
        }
        self.bytes(&buf)
    }

    /// Lays the event out: header, parameter lengths (u16, or u32 for large-payload types), parameter bytes.
    pub fn finish(self) -> Vec<u8> {
        let lw = if self.large { 4 } else { 2 };
        let len = HEADER_LEN_V2 + self.lens.len() * lw + self.data.len();
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.tid.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&self.etype.to_le_bytes());
        out.extend_from_slice(&(self.lens.len() as u32).to_le_bytes());
        for l in &self.lens {
            if self.large {
                out.extend_from_slice(&l.to_le_bytes());
            } else {
                out.extend_from_slice(&(*l as u16).to_le_bytes());
            }
        }
        out.extend_from_slice(&self.data);
        out
    }
}
