//! Legacy (V1) event layout: a 22-byte header without `nparams`.
//!
//! Old drivers wrote as many parameters as the event had *at the time*, which can be fewer than today's table lists.
//! Like libscap, the parameter count is recovered from the event length: starting from today's count, take the
//! largest `n` whose `n` lengths plus the bytes they describe end exactly at the end of the event. The event is then
//! laid out in the V2 layout (with `nparams`, and with `u32` lengths for event types that are large-payload today),
//! so everything above the reader sees one layout.

use mamoru_event::{event_info, HEADER_LEN_V1, HEADER_LEN_V2};

use crate::wire::{le_u16, le_u32};

/// `PPME_NOTIFICATION_E` and `PPME_INFRASTRUCTURE_EVENT_E`: old captures overstate their length by 3 bytes.
const NOTIFICATION_E: u16 = 280;
const INFRASTRUCTURE_EVENT_E: u16 = 286;

/// Why a V1 event could not be upgraded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum V1Error {
    Truncated { need: usize, have: usize },
    NoParamCount,
}

impl std::fmt::Display for V1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            V1Error::Truncated { need, have } => {
                write!(f, "legacy event needs {need} bytes, the block holds {have}")
            }
            V1Error::NoParamCount => write!(
                f,
                "legacy event: no parameter count makes the parameter lengths add up to the event length"
            ),
        }
    }
}

/// Rewrites the V1 event at the start of `src` into `out` in the V2 layout. The caller has checked that the type is
/// inside the event table.
pub(crate) fn upgrade(src: &[u8], out: &mut Vec<u8>) -> Result<(), V1Error> {
    if src.len() < HEADER_LEN_V1 {
        return Err(V1Error::Truncated {
            need: HEADER_LEN_V1,
            have: src.len(),
        });
    }
    let mut len = le_u32(src, 16) as usize;
    let etype = le_u16(src, 20);
    if len > src.len() || len < HEADER_LEN_V1 {
        return Err(V1Error::Truncated {
            need: len.max(HEADER_LEN_V1),
            have: src.len(),
        });
    }
    if (etype == NOTIFICATION_E || etype == INFRASTRUCTURE_EVENT_E) && len >= HEADER_LEN_V1 + 3 {
        len -= 3;
    }
    let info = event_info(etype);
    let table_nparams = info.map(|i| i.params.len()).unwrap_or(0);
    let nparams = infer_nparams(&src[..len], table_nparams)?;
    let large = info.map(|i| i.large_payload()).unwrap_or(false);
    let lw = if large { 4 } else { 2 };
    let lens_end = HEADER_LEN_V1 + 2 * nparams;
    let data = &src[lens_end..len];
    let new_len = HEADER_LEN_V2 + lw * nparams + data.len();

    out.clear();
    out.extend_from_slice(&src[..16]); // ts, tid
    out.extend_from_slice(&(new_len as u32).to_le_bytes());
    out.extend_from_slice(&etype.to_le_bytes());
    out.extend_from_slice(&(nparams as u32).to_le_bytes());
    for i in 0..nparams {
        let l = le_u16(src, HEADER_LEN_V1 + 2 * i);
        if large {
            out.extend_from_slice(&(l as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&l.to_le_bytes());
        }
    }
    out.extend_from_slice(data);
    Ok(())
}

/// The largest parameter count (at most today's) whose lengths describe exactly the bytes of the event.
fn infer_nparams(ev: &[u8], table_nparams: usize) -> Result<usize, V1Error> {
    let end = ev.len();
    for n in (0..=table_nparams).rev() {
        let lens_end = HEADER_LEN_V1 + 2 * n;
        if lens_end > end {
            continue;
        }
        let total: usize = (0..n).map(|i| le_u16(ev, HEADER_LEN_V1 + 2 * i) as usize).sum();
        match (lens_end + total).cmp(&end) {
            std::cmp::Ordering::Equal => return Ok(n),
            // Fewer parameters only describe fewer bytes: no smaller count can match.
            std::cmp::Ordering::Less => return Err(V1Error::NoParamCount),
            std::cmp::Ordering::Greater => continue,
        }
    }
    Err(V1Error::NoParamCount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_event::RawEvent;

    fn v1_event(etype: u16, params: &[&[u8]]) -> Vec<u8> {
        let data: usize = params.iter().map(|p| p.len()).sum();
        let len = HEADER_LEN_V1 + 2 * params.len() + data;
        let mut b = Vec::new();
        b.extend_from_slice(&5u64.to_le_bytes());
        b.extend_from_slice(&9u64.to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&etype.to_le_bytes());
        for p in params {
            b.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
        for p in params {
            b.extend_from_slice(p);
        }
        b
    }

    #[test]
    fn event_with_todays_parameter_count_is_upgraded() {
        // PPME_SYSCALL_CLOSE_X (5): res, fd.
        let src = v1_event(5, &[&0i64.to_le_bytes(), &3i64.to_le_bytes()]);
        let mut out = Vec::new();
        upgrade(&src, &mut out).unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!((ev.ts, ev.tid, ev.nparams()), (5, 9, 2));
        assert_eq!(ev.param_i64(1), Some(3));
    }

    #[test]
    fn old_event_with_fewer_parameters_keeps_its_own_count() {
        // An old close exit carried only `res`.
        let src = v1_event(5, &[&(-9i64).to_le_bytes()]);
        let mut out = Vec::new();
        upgrade(&src, &mut out).unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!(ev.nparams(), 1);
        assert_eq!(ev.param_i64(0), Some(-9));
    }

    #[test]
    fn trailing_garbage_makes_the_count_unrecoverable() {
        let mut src = v1_event(5, &[&0i64.to_le_bytes()]);
        // Claim one extra byte that no parameter describes... with 2 params the lengths would overrun instead.
        src.push(0);
        let len = src.len() as u32;
        src[16..20].copy_from_slice(&len.to_le_bytes());
        assert_eq!(upgrade(&src, &mut Vec::new()), Err(V1Error::NoParamCount));
    }

    #[test]
    fn length_beyond_the_block_is_truncation() {
        let mut src = v1_event(5, &[&0i64.to_le_bytes()]);
        src[16..20].copy_from_slice(&500u32.to_le_bytes());
        assert!(matches!(upgrade(&src, &mut Vec::new()), Err(V1Error::Truncated { .. })));
    }
}
