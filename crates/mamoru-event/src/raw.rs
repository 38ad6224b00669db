//! A zero-copy view over one scap event.

use crate::table::{event_info, EventInfo, ParamType};
use thiserror::Error;

/// Header length of events in V2 blocks and in the sensor's ring buffer (`ts, tid, len, type, nparams`).
pub const HEADER_LEN_V2: usize = 26;
/// Header length of events in legacy V1 blocks (no `nparams`; it comes from the event table).
pub const HEADER_LEN_V1: usize = 22;
/// Upper bound on parameters per event (the largest row of the table has 32).
pub const MAX_PARAMS: usize = 40;

/// Why bytes could not be read as an event. Offsets are relative to the start of the event.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    #[error("event truncated: need {need} bytes, have {have}")]
    Truncated { need: usize, have: usize },
    #[error("event length field {len} disagrees with the {have} bytes available")]
    BadLength { len: usize, have: usize },
    #[error("unknown event type {0}")]
    UnknownType(u16),
    #[error("event type {etype} has {nparams} parameters, more than the {max} mamoru accepts")]
    TooManyParams { etype: u16, nparams: usize, max: usize },
    #[error("parameter lengths of event type {etype} add up past the end of the event (byte offset {offset})")]
    ParamOverflow { etype: u16, offset: usize },
}

/// One scap event, borrowed from the buffer it was read from. Parameter offsets are computed once at parse time,
/// so every parameter access afterwards is a slice.
#[derive(Clone, Copy)]
pub struct RawEvent<'a> {
    bytes: &'a [u8],
    pub ts: u64,
    pub tid: u64,
    pub etype: u16,
    pub cpu: u16,
    nparams: u8,
    /// Start and end offsets of each parameter within `bytes`.
    spans: [(u32, u32); MAX_PARAMS],
}

impl std::fmt::Debug for RawEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEvent")
            .field("ts", &self.ts)
            .field("tid", &self.tid)
            .field("type", &self.name())
            .field("etype", &self.etype)
            .field("nparams", &self.nparams)
            .finish()
    }
}

fn rd_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn rd_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn rd_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl<'a> RawEvent<'a> {
    /// Parses an event in the V2 layout (26-byte header with `nparams`), as the sensor and V2 capture blocks hold it.
    /// `bytes` may extend past the event; only `len` bytes are used.
    pub fn parse(bytes: &'a [u8], cpu: u16) -> Result<Self, EventError> {
        Self::parse_with_header(bytes, cpu, true)
    }

    /// Parses an event in the legacy V1 layout (22-byte header; the parameter count comes from the event table).
    pub fn parse_v1(bytes: &'a [u8], cpu: u16) -> Result<Self, EventError> {
        Self::parse_with_header(bytes, cpu, false)
    }

    fn parse_with_header(bytes: &'a [u8], cpu: u16, v2: bool) -> Result<Self, EventError> {
        let hlen = if v2 { HEADER_LEN_V2 } else { HEADER_LEN_V1 };
        if bytes.len() < hlen {
            return Err(EventError::Truncated {
                need: hlen,
                have: bytes.len(),
            });
        }
        let ts = rd_u64(bytes, 0);
        let tid = rd_u64(bytes, 8);
        let len = rd_u32(bytes, 16) as usize;
        let etype = rd_u16(bytes, 20);
        if len < hlen || len > bytes.len() {
            return Err(EventError::BadLength { len, have: bytes.len() });
        }
        let bytes = &bytes[..len];
        let info = event_info(etype).ok_or(EventError::UnknownType(etype))?;
        let nparams = if v2 {
            rd_u32(bytes, 22) as usize
        } else {
            info.params.len()
        };
        if nparams > MAX_PARAMS {
            return Err(EventError::TooManyParams {
                etype,
                nparams,
                max: MAX_PARAMS,
            });
        }
        let lw = if info.large_payload() { 4 } else { 2 };
        let mut off = hlen + nparams * lw;
        if off > len {
            return Err(EventError::Truncated { need: off, have: len });
        }
        let mut spans = [(0u32, 0u32); MAX_PARAMS];
        for (i, span) in spans.iter_mut().enumerate().take(nparams) {
            let at = hlen + i * lw;
            let plen = if lw == 4 {
                rd_u32(bytes, at) as usize
            } else {
                rd_u16(bytes, at) as usize
            };
            let end = off
                .checked_add(plen)
                .filter(|e| *e <= len)
                .ok_or(EventError::ParamOverflow { etype, offset: at })?;
            *span = (off as u32, end as u32);
            off = end;
        }
        Ok(RawEvent {
            bytes,
            ts,
            tid,
            etype,
            cpu,
            nparams: nparams as u8,
            spans,
        })
    }

    /// The event's bytes (header included), exactly as written by the driver.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The table row describing this event type.
    pub fn info(&self) -> &'static EventInfo {
        // parse() only accepts codes present in the table.
        event_info(self.etype).unwrap_or(&crate::table::EVENT_TABLE[0])
    }

    /// `evt.type` name.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    pub fn nparams(&self) -> usize {
        self.nparams as usize
    }

    /// Raw bytes of parameter `i`; `None` if the event has fewer parameters.
    pub fn param(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.nparams as usize {
            return None;
        }
        let (s, e) = self.spans[i];
        Some(&self.bytes[s as usize..e as usize])
    }

    /// Index of the parameter named `name` in this event type.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        // Same as `EventInfo::param_index`, with a length and first-byte check in front of the byte comparison:
        // state parsing looks parameters up by name many times per event.
        let n = name.as_bytes();
        self.info().params.iter().position(|p| {
            let b = p.name.as_bytes();
            b.len() == n.len() && b.first() == n.first() && b == n
        })
    }

    /// Raw bytes of the parameter named `name`.
    pub fn param_by_name(&self, name: &str) -> Option<&'a [u8]> {
        self.param(self.param_index(name)?)
    }

    /// Parameter `i` as an unsigned integer, using the declared width (sign-extended for signed types).
    /// Empty parameters (the driver could not read the value) give `None`.
    pub fn param_u64(&self, i: usize) -> Option<u64> {
        let b = self.param(i)?;
        let ty = self.info().params.get(i).map(|p| p.ty);
        decode_int(b, ty)
    }

    /// Parameter `i` as a signed integer.
    pub fn param_i64(&self, i: usize) -> Option<i64> {
        self.param_u64(i).map(|v| v as i64)
    }

    /// Parameter `i` as a string: the bytes up to the first NUL.
    pub fn param_str(&self, i: usize) -> Option<&'a [u8]> {
        let b = self.param(i)?;
        Some(match b.iter().position(|c| *c == 0) {
            Some(n) => &b[..n],
            None => b,
        })
    }

    /// Declared type of parameter `i`.
    pub fn param_type(&self, i: usize) -> Option<ParamType> {
        self.info().params.get(i).map(|p| p.ty)
    }

    /// The return value (`res` or, for events whose first exit parameter is the new fd/pid, that parameter).
    pub fn result(&self) -> Option<i64> {
        let info = self.info();
        let first = info.params.first()?;
        match first.name {
            "res" | "fd" => self.param_i64(0),
            _ => None,
        }
    }
}

/// Decodes a little-endian integer of the declared type; signed types are sign-extended.
fn decode_int(b: &[u8], ty: Option<ParamType>) -> Option<u64> {
    let signed = ty.map(ParamType::is_signed).unwrap_or(false);
    Some(match b.len() {
        1 => {
            if signed {
                b[0] as i8 as i64 as u64
            } else {
                b[0] as u64
            }
        }
        2 => {
            let v = rd_u16(b, 0);
            if signed {
                v as i16 as i64 as u64
            } else {
                v as u64
            }
        }
        4 => {
            let v = rd_u32(b, 0);
            if signed {
                v as i32 as i64 as u64
            } else {
                v as u64
            }
        }
        8 => rd_u64(b, 0),
        _ => return None,
    })
}
