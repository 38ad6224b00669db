//! Brings events of old captures to the newest event versions, as libscap's savefile converter does.
//!
//! Current drivers send only exit events, each carrying every parameter of its syscall. Older drivers split a
//! syscall into an enter event (arguments) and an exit event (result), and older event versions carry fewer
//! parameters. The [`Converter`] follows libscap's rules (`data/converter-table.txt`, keyed by event type and
//! parameter count):
//!
//! * enter events of converter-managed syscalls are remembered per thread and **dropped**;
//! * the next matching exit event of that thread is rewritten to the newest version of its syscall, taking missing
//!   parameters from the remembered enter event, and leaving the rest empty or at their default value as the table
//!   says (empty when the enter event is missing, e.g. because the capture started mid-syscall);
//! * old enter-event versions that the converter does not manage, and unused event types, are dropped;
//! * everything else (events already in their newest version, meta events such as `procexit`, `switch`, container
//!   and plugin events, events with *more* parameters than this build knows) passes through unchanged.
//!
//! Two deliberate differences from libscap, which aborts the whole capture in both cases: a remembered enter event
//! of a different syscall is treated as missing (counted in [`ConverterStats::enter_mismatch`]), and an event that
//! needs a conversion the table does not describe is delivered as it is (counted in
//! [`ConverterStats::unconvertible`]).

use std::collections::HashMap;

use mamoru_event::{event_info, flags, Direction, EventError, EventInfo, ParamType, RawEvent, HEADER_LEN_V2};

use crate::convtable::{table, Action, Instr, Rule, Table};

/// Upper bound on successive rewrites of one event (the longest chain, execve 8 → 19, has 6 steps).
const MAX_STEPS: usize = 16;
/// Threads with a remembered enter event beyond which the memory is reset (a capture full of threads that never
/// finish their syscalls must not grow without bound).
const MAX_PENDING_THREADS: usize = 1 << 16;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converted {
    /// Deliver the event as it was read.
    Unchanged,
    /// Deliver [`Converter::rewritten`] instead.
    Rewritten,
    /// Do not deliver anything.
    Dropped,
}

/// Counters of what the converter did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConverterStats {
    pub rewritten: u64,
    /// Enter events dropped (remembered for their exit event, or old versions with no successor).
    pub dropped_enter: u64,
    /// Events of types flagged unused.
    pub dropped_unused: u64,
    /// Events needing a conversion the table does not describe; delivered as they were.
    pub unconvertible: u64,
    /// Exit events whose remembered enter event belonged to another syscall.
    pub enter_mismatch: u64,
}

/// Why an event could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    pub etype: u16,
    pub reason: String,
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event type {}: {}", self.etype, self.reason)
    }
}

impl std::error::Error for ConvertError {}

/// Stateful converter: remembers enter events per thread. Feed it every event of a capture in order.
#[derive(Debug)]
pub struct Converter {
    table: &'static Table,
    /// Remembered enter event per thread id, in the V2 layout; empty when none.
    enters: HashMap<u64, Vec<u8>>,
    /// Two buffers used alternately by successive rewrite steps; `out` indexes the one holding the result.
    bufs: [Vec<u8>; 2],
    out: usize,
    stats: ConverterStats,
}

impl Default for Converter {
    fn default() -> Self {
        Self::new()
    }
}

enum Next {
    Deliver,
    Drop { enter: bool },
    Convert,
}

impl Converter {
    pub fn new() -> Self {
        Converter {
            table: table(),
            enters: HashMap::new(),
            bufs: [Vec::new(), Vec::new()],
            out: 0,
            stats: ConverterStats::default(),
        }
    }

    pub fn stats(&self) -> ConverterStats {
        self.stats
    }

    /// The event produced by the last call that returned [`Converted::Rewritten`] (V2 layout).
    pub fn rewritten(&self) -> &[u8] {
        &self.bufs[self.out]
    }

    /// Forgets every remembered enter event (e.g. at the start of a new capture section).
    pub fn reset(&mut self) {
        self.enters.clear();
    }

    /// Decides what to deliver for `ev`, rewriting it when needed.
    pub fn convert(&mut self, ev: &RawEvent<'_>) -> Result<Converted, ConvertError> {
        // The rewrite buffers leave `self` for the duration so events borrowed from them can coexist with `&mut self`.
        let mut bufs = std::mem::take(&mut self.bufs);
        let result = self.run(ev, &mut bufs);
        self.bufs = bufs;
        result
    }

    fn run(&mut self, ev: &RawEvent<'_>, bufs: &mut [Vec<u8>; 2]) -> Result<Converted, ConvertError> {
        let mut current: Option<usize> = None; // None: the input event; Some(i): bufs[i]
        for _ in 0..MAX_STEPS {
            let rule = {
                let cur = view(ev, bufs, current)?;
                match self.next_step(&cur) {
                    Next::Deliver => return Ok(self.deliver(current)),
                    Next::Drop { enter: true } => {
                        self.stats.dropped_enter += 1;
                        return Ok(Converted::Dropped);
                    }
                    Next::Drop { enter: false } => {
                        self.stats.dropped_unused += 1;
                        return Ok(Converted::Dropped);
                    }
                    Next::Convert => {}
                }
                let Some(rule) = self.table.get(&(cur.etype, cur.nparams().min(255) as u8)) else {
                    self.stats.unconvertible += 1;
                    tracing::debug!(
                        target: "mamoru_scap::converter",
                        etype = cur.etype,
                        nparams = cur.nparams(),
                        "no conversion rule; delivering the event unchanged"
                    );
                    if cur.info().dir == Direction::Enter {
                        self.stats.dropped_enter += 1;
                        return Ok(Converted::Dropped);
                    }
                    return Ok(self.deliver(current));
                };
                match rule.action {
                    Action::Store | Action::StorePass => {
                        self.remember(&cur);
                        self.stats.dropped_enter += 1;
                        return Ok(Converted::Dropped);
                    }
                    Action::Pass if is_syscall_enter(cur.info()) => {
                        self.stats.dropped_enter += 1;
                        return Ok(Converted::Dropped);
                    }
                    Action::Pass => return Ok(self.deliver(current)),
                    Action::Add | Action::Change(_) => rule,
                }
            };
            let dst = current.map_or(0, |i| 1 - i);
            let (lo, hi) = bufs.split_at_mut(1);
            let (src, out) = if dst == 0 {
                (&hi[0], &mut lo[0])
            } else {
                (&lo[0], &mut hi[0])
            };
            let cur = match current {
                None => *ev,
                Some(_) => RawEvent::parse(src, ev.cpu).map_err(|e| internal(ev.etype, e))?,
            };
            if self.rewrite(&cur, rule, out) {
                if let Some(stored) = self.enters.get_mut(&cur.tid) {
                    stored.clear();
                }
            }
            current = Some(dst);
        }
        Err(ConvertError {
            etype: ev.etype,
            reason: format!("still not in its newest version after {MAX_STEPS} rewrites"),
        })
    }

    fn deliver(&mut self, current: Option<usize>) -> Converted {
        match current {
            None => Converted::Unchanged,
            Some(i) => {
                self.out = i;
                self.stats.rewritten += 1;
                Converted::Rewritten
            }
        }
    }

    /// libscap's eligibility rules (converter README), in order.
    fn next_step(&self, ev: &RawEvent<'_>) -> Next {
        let info = ev.info();
        if info.is_unused() {
            return Next::Drop { enter: false };
        }
        let managed = info.has_flag(flags::CONVERTER_MANAGED);
        let old = info.has_flag(flags::OLD_VERSION);
        let enter = info.dir == Direction::Enter;
        if !managed {
            return if old && enter {
                Next::Drop { enter: true }
            } else {
                Next::Deliver
            };
        }
        if enter {
            return Next::Convert;
        }
        let want = info.params.len();
        if ev.nparams() > want {
            // Written by a newer driver than this build knows: nothing to add.
            return Next::Deliver;
        }
        if old || ev.nparams() != want {
            Next::Convert
        } else {
            Next::Deliver
        }
    }

    fn remember(&mut self, ev: &RawEvent<'_>) {
        if !self.enters.contains_key(&ev.tid) && self.enters.len() >= MAX_PENDING_THREADS {
            self.enters.clear();
        }
        let slot = self.enters.entry(ev.tid).or_default();
        slot.clear();
        slot.extend_from_slice(ev.bytes());
    }

    /// Writes the rewritten event into `out`; returns whether the remembered enter event was used.
    fn rewrite(&mut self, cur: &RawEvent<'_>, rule: &Rule, out: &mut Vec<u8>) -> bool {
        let enter = self.enter_for(cur);
        apply_rule(cur, rule, enter.as_ref(), out)
    }

    /// The remembered enter event of `cur`'s thread, if it is the enter event of the same syscall.
    fn enter_for(&mut self, cur: &RawEvent<'_>) -> Option<RawEvent<'_>> {
        let stored = self.enters.get(&cur.tid).filter(|b| !b.is_empty())?;
        let enter = RawEvent::parse(stored, cur.cpu).ok()?;
        if enter.etype.wrapping_add(1) != cur.etype {
            self.stats.enter_mismatch += 1;
            return None;
        }
        Some(enter)
    }
}

/// Applies an `add` or `change` rule to `cur`, writing the new event into `out`; returns whether a parameter came
/// from `enter` (the remembered enter event of the same syscall, if any).
pub(crate) fn apply_rule(cur: &RawEvent<'_>, rule: &Rule, enter: Option<&RawEvent<'_>>, out: &mut Vec<u8>) -> bool {
    let (etype, keep) = match rule.action {
        Action::Change(t) => (t, 0),
        _ => (cur.etype, cur.nparams()),
    };
    let Some(target) = event_info(etype) else {
        return false;
    };
    let mut params: Vec<ParamValue<'_>> = Vec::with_capacity(keep + rule.instrs.len());
    for i in 0..keep {
        params.push(ParamValue::Bytes(cur.param(i).unwrap_or(&[])));
    }
    let mut used_enter = false;
    for (k, ins) in rule.instrs.iter().enumerate() {
        let ty = target.params.get(keep + k).map(|p| p.ty);
        let value = match *ins {
            Instr::Old(i) => ParamValue::Bytes(cur.param(i as usize).unwrap_or(&[])),
            Instr::Empty => ParamValue::Bytes(&[]),
            Instr::Default => ParamValue::Default,
            Instr::ContainerJson => ParamValue::Owned(container_json(cur)),
            Instr::Enter {
                index,
                empty_if_missing,
            } => match enter.and_then(|e| e.param(index as usize)) {
                Some(b) => {
                    used_enter = true;
                    ParamValue::Bytes(b)
                }
                None if empty_if_missing => ParamValue::Bytes(&[]),
                None => ParamValue::Default,
            },
        };
        params.push(value.capped(ty));
    }
    encode_event(cur.ts, cur.tid, target, &params, out);
    used_enter
}

/// The event a conversion step works on: the input, or the result of the previous step.
fn view<'b, 'e: 'b>(
    ev: &RawEvent<'e>,
    bufs: &'b [Vec<u8>; 2],
    current: Option<usize>,
) -> Result<RawEvent<'b>, ConvertError> {
    match current {
        None => Ok(*ev),
        Some(i) => RawEvent::parse(&bufs[i], ev.cpu).map_err(|e| internal(ev.etype, e)),
    }
}

fn internal(etype: u16, e: EventError) -> ConvertError {
    ConvertError {
        etype,
        reason: format!("rewritten event does not parse: {e}"),
    }
}

/// Syscall enter events: those the converter manages or that are old versions. Meta events numbered as enter
/// events (procexit, switch, container and plugin events, ...) are neither.
fn is_syscall_enter(info: &EventInfo) -> bool {
    info.dir == Direction::Enter && (info.has_flag(flags::CONVERTER_MANAGED) || info.has_flag(flags::OLD_VERSION))
}

enum ParamValue<'a> {
    Bytes(&'a [u8]),
    Owned(Vec<u8>),
    Default,
}

impl<'a> ParamValue<'a> {
    /// Cuts integer parameters to their width (an old 64-bit value moved into a 32-bit parameter keeps its low
    /// bytes) and resolves defaults, as libscap does.
    fn capped(self, ty: Option<ParamType>) -> ParamValue<'a> {
        let width = ty.and_then(converter_width);
        match self {
            ParamValue::Bytes(b) => ParamValue::Bytes(&b[..width.map_or(b.len(), |w| w.min(b.len()))]),
            ParamValue::Owned(mut v) => {
                if let Some(w) = width {
                    v.truncate(w);
                }
                ParamValue::Owned(v)
            }
            ParamValue::Default => ParamValue::Owned(ty.map(default_value).unwrap_or_default()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            ParamValue::Bytes(b) => b,
            ParamValue::Owned(v) => v,
            ParamValue::Default => &[],
        }
    }
}

/// Widths libscap's converter knows for fixed-size parameter types; other types are variable-length to it.
fn converter_width(ty: ParamType) -> Option<usize> {
    use ParamType::*;
    match ty {
        Uint8 | Flags8 | Enumflags8 | Sigtype => Some(1),
        Int16 | Uint16 | Flags16 | Enumflags16 | Syscallid => Some(2),
        Int32 | Uint32 | Flags32 | Enumflags32 | Uid | Gid | Mode | Sigset => Some(4),
        Int64 | Uint64 | Reltime | Abstime | Errno | Fd | Pid => Some(8),
        _ => None,
    }
}

/// The default value of a parameter type: zero of its width, `-1` for uid/gid, `AF_UNSPEC` for socket addresses,
/// nothing for variable-length types.
pub(crate) fn default_value(ty: ParamType) -> Vec<u8> {
    match ty {
        ParamType::Uid | ParamType::Gid => u32::MAX.to_le_bytes().to_vec(),
        ParamType::Sockaddr => vec![mamoru_event::PPM_AF_UNSPEC],
        t => vec![0; converter_width(t).unwrap_or(0)],
    }
}

/// `{"id":"…","type":N,"name":"…","image":"…"}` from `PPME_CONTAINER_E` (id, type, name, image), NUL-terminated,
/// exactly as libscap builds it (no escaping).
fn container_json(ev: &RawEvent<'_>) -> Vec<u8> {
    let text = |i| String::from_utf8_lossy(ev.param_str(i).unwrap_or(&[])).into_owned();
    let ty = ev.param_u64(1).unwrap_or(0);
    let mut json = format!(
        "{{\"id\":\"{}\",\"type\":{},\"name\":\"{}\",\"image\":\"{}\"}}",
        text(0),
        ty,
        text(2),
        text(3)
    )
    .into_bytes();
    json.push(0);
    json
}

/// Lays out an event in the V2 layout with the parameter length width of its type.
pub(crate) fn encode_event_raw(ts: u64, tid: u64, info: &EventInfo, params: &[&[u8]], out: &mut Vec<u8>) {
    let large = info.large_payload();
    let lw = if large { 4 } else { 2 };
    let data: usize = params.iter().map(|p| p.len()).sum();
    let len = HEADER_LEN_V2 + lw * params.len() + data;
    out.clear();
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&tid.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&info.code.to_le_bytes());
    out.extend_from_slice(&(params.len() as u32).to_le_bytes());
    for p in params {
        if large {
            out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(p.len().min(u16::MAX as usize) as u16).to_le_bytes());
        }
    }
    for p in params {
        let n = if large { p.len() } else { p.len().min(u16::MAX as usize) };
        out.extend_from_slice(&p[..n]);
    }
}

fn encode_event(ts: u64, tid: u64, info: &EventInfo, params: &[ParamValue<'_>], out: &mut Vec<u8>) {
    let slices: Vec<&[u8]> = params.iter().map(ParamValue::bytes).collect();
    encode_event_raw(ts, tid, info, &slices, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_event::EventBuilder;

    fn code(name: &str) -> u16 {
        mamoru_event::event_table()
            .iter()
            .find(|e| e.enum_name == name)
            .unwrap()
            .code
    }

    fn run(conv: &mut Converter, bytes: &[u8]) -> (Converted, Option<Vec<u8>>) {
        let ev = RawEvent::parse(bytes, 0).unwrap();
        let r = conv.convert(&ev).unwrap();
        let out = (r == Converted::Rewritten).then(|| conv.rewritten().to_vec());
        (r, out)
    }

    #[test]
    fn enter_event_is_dropped_and_its_arguments_complete_the_exit() {
        let mut conv = Converter::new();
        let enter = EventBuilder::new(code("PPME_SYSCALL_READ_E"), 10, 7)
            .i64(3)
            .u32(100)
            .finish();
        let exit = EventBuilder::new(code("PPME_SYSCALL_READ_X"), 11, 7)
            .i64(5)
            .bytes(b"hello")
            .finish();
        assert_eq!(run(&mut conv, &enter).0, Converted::Dropped);
        let (r, out) = run(&mut conv, &exit);
        assert_eq!(r, Converted::Rewritten);
        let out = out.unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!(ev.nparams(), 4);
        assert_eq!(ev.ts, 11);
        assert_eq!(ev.param(1), Some(&b"hello"[..]));
        assert_eq!(ev.param_i64(2), Some(3));
        assert_eq!(ev.param_u64(3), Some(100));
    }

    #[test]
    fn exit_without_enter_gets_default_values() {
        let mut conv = Converter::new();
        let exit = EventBuilder::new(code("PPME_SYSCALL_READ_X"), 11, 7)
            .i64(5)
            .bytes(b"x")
            .finish();
        let out = run(&mut conv, &exit).1.unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!(ev.param_i64(2), Some(0));
        assert_eq!(ev.param(3).map(<[u8]>::len), Some(4));
    }

    #[test]
    fn old_version_is_rewritten_to_the_newest_with_empty_fallbacks() {
        // openat (old, 1 param) → openat_2 with dirfd, name, flags, mode from the enter event, dev and ino empty.
        let mut conv = Converter::new();
        let exit = EventBuilder::new(code("PPME_SYSCALL_OPENAT_X"), 2, 9).i64(4).finish();
        let out = run(&mut conv, &exit).1.unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!(ev.etype, code("PPME_SYSCALL_OPENAT_2_X"));
        assert_eq!(ev.nparams(), ev.info().params.len());
        assert_eq!(ev.param_i64(0), Some(4));
        assert_eq!(ev.param(2), Some(&[][..]));
    }

    #[test]
    fn enter_of_another_syscall_is_not_used() {
        let mut conv = Converter::new();
        let enter = EventBuilder::new(code("PPME_SYSCALL_CLOSE_E"), 1, 7).i64(3).finish();
        let exit = EventBuilder::new(code("PPME_SYSCALL_READ_X"), 2, 7)
            .i64(5)
            .bytes(b"x")
            .finish();
        run(&mut conv, &enter);
        let out = run(&mut conv, &exit).1.unwrap();
        assert_eq!(RawEvent::parse(&out, 0).unwrap().param_i64(2), Some(0));
        assert_eq!(conv.stats().enter_mismatch, 1);
    }

    #[test]
    fn newest_events_and_meta_events_pass_unchanged() {
        let mut conv = Converter::new();
        let exit = EventBuilder::new(code("PPME_SYSCALL_CLOSE_X"), 2, 7)
            .i64(0)
            .i64(3)
            .finish();
        assert_eq!(run(&mut conv, &exit).0, Converted::Unchanged);
        let procexit = EventBuilder::new(code("PPME_PROCEXIT_1_E"), 3, 7)
            .i64(0)
            .i64(0)
            .u8(0)
            .u8(0)
            .i64(0)
            .finish();
        assert_eq!(run(&mut conv, &procexit).0, Converted::Unchanged);
    }

    #[test]
    fn old_enter_versions_without_rules_are_dropped() {
        let mut conv = Converter::new();
        let ev = EventBuilder::new(code("PPME_SOCKET_GETSOCKNAME_E"), 3, 7).finish();
        assert_eq!(run(&mut conv, &ev).0, Converted::Dropped);
    }

    #[test]
    fn container_event_becomes_container_json_2() {
        let mut conv = Converter::new();
        let ev = EventBuilder::new(code("PPME_CONTAINER_E"), 3, 0)
            .str("abc")
            .u32(1)
            .str("web")
            .str("nginx")
            .finish();
        let out = run(&mut conv, &ev).1.unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!(ev.etype, code("PPME_CONTAINER_JSON_2_E"));
        assert_eq!(
            ev.param_str(0),
            Some(&br#"{"id":"abc","type":1,"name":"web","image":"nginx"}"#[..])
        );
    }

    #[test]
    fn wide_integers_are_cut_to_the_new_parameter_width() {
        // bpf: the old enter `cmd` is 64-bit, the new exit parameter 32-bit.
        let mut conv = Converter::new();
        let enter = EventBuilder::new(code("PPME_SYSCALL_BPF_E"), 1, 7).i64(5).finish();
        let exit = EventBuilder::new(code("PPME_SYSCALL_BPF_X"), 2, 7).i64(0).finish();
        run(&mut conv, &enter);
        let out = run(&mut conv, &exit).1.unwrap();
        let ev = RawEvent::parse(&out, 0).unwrap();
        assert_eq!(ev.etype, code("PPME_SYSCALL_BPF_2_X"));
        assert_eq!(ev.param(1).map(<[u8]>::len), Some(4));
    }
}
