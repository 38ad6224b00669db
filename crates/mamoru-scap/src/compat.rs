//! Reader compatibility of written captures (see [`Compat`]).

use std::collections::HashMap;
use std::sync::OnceLock;

use mamoru_event::{cat, event_info, event_table, Direction, EventInfo, RawEvent};

use crate::converter::{apply_rule, default_value, encode_event_raw};
use crate::convtable::{table, Action, Instr, Rule};
use crate::error::ScapError;

/// `PPM_EVENT_MAX` of sysdig 0.29.3: its event table ends with `PPME_SYSCALL_CLONE3_X` (335).
pub const SYSDIG_0_29_EVENT_MAX: u16 = 336;
/// Threads tracked for "was the enter event just written" beyond which the tracking is reset.
const MAX_TRACKED_THREADS: usize = 1 << 16;

/// Which readers a written capture must satisfy.
///
/// Debian's sysdig 0.29.3 (libscap of March 2022) reads V2 event blocks and v9 process lists, but it predates the
/// converter: its event table ends before code 336 (after `clone3`), its parsers expect every syscall exit to follow its enter
/// event (socket, read, close, ... take the fd or the socket family from the enter event), and it prints an empty
/// fixed-width parameter by reading bytes that are not there. Events in the newest layout, as the sensor produces
/// them and as mamoru's reader delivers old captures after conversion, therefore need two adjustments for it:
///
/// * **enter events are re-created** in front of a syscall exit event that has no enter event right before it: its
///   parameters are the exit's parameters that the converter table says came from the enter event (falling back to
///   an exit parameter of the same name and type, then to the type's default value), with the exit's timestamp;
/// * **events are written in the form closest to what old drivers wrote**: trailing parameters that the converter
///   adds back, and newer versions that it rebuilds from an older one, are written as that shorter or older form,
///   so sysdig 0.29.3 does not print parameters that are empty (fewest empty fixed-width parameters first, then
///   fewest parameters; a form qualifies only if the converter rebuilds the event from it byte for byte).
///
/// Reading such a file back with conversion enabled (the default) yields exactly the events that were written: the
/// re-created enter events are consumed by the converter and the cut parameters are added back. Events with codes
/// sysdig 0.29.3 does not know are written unchanged (it skips them). Process lists are written in the current
/// layout, which sysdig 0.29.3 reads with one known flaw shared with every capture written by libscap 0.10 or later
/// (Falco's own included): it takes the bytes of `pidns_init_start_ts` for `loginuid` and `exe_writable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compat {
    /// Readable by Debian's sysdig 0.29.3 as well as by current libscap and mamoru (adjusts events as described
    /// above).
    #[default]
    Sysdig029,
    /// Current libscap and mamoru only: events are written exactly as given.
    Current,
}

impl Compat {
    /// Highest fd type number the target reader accepts in fd list blocks. sysdig 0.29's reader refuses the whole
    /// capture on a type past `SCAP_FD_FILE_V2` (16) ("wrong fd type 17" for a bpf fd in a live `/proc` snapshot),
    /// so newer types are written as unsupported fds with their type in the name.
    pub(crate) fn max_fd_type(self) -> u8 {
        match self {
            Compat::Sysdig029 => 16,
            Compat::Current => 21,
        }
    }
}

/// How to re-create the enter event of one exit event type.
#[derive(Debug)]
struct EnterRecipe {
    enter: &'static EventInfo,
    /// For each enter parameter, the exit parameter holding its value.
    sources: Vec<Option<usize>>,
}

/// Adjusts events for the target reader.
#[derive(Debug, Default)]
pub(crate) struct Downgrader {
    compat: Compat,
    /// Per thread, the enter event type written last (cleared by the thread's next syscall event).
    pending_enter: HashMap<u64, u16>,
    enter_buf: Vec<u8>,
}

impl Downgrader {
    pub fn new(compat: Compat) -> Self {
        Downgrader {
            compat,
            ..Downgrader::default()
        }
    }

    /// Calls `emit` with the bytes of each event to write for `ev`.
    pub fn adjust(
        &mut self,
        ev: &RawEvent<'_>,
        mut emit: impl FnMut(&[u8]) -> Result<(), ScapError>,
    ) -> Result<(), ScapError> {
        if self.compat == Compat::Current || ev.etype >= SYSDIG_0_29_EVENT_MAX {
            return emit(ev.bytes());
        }
        let info = ev.info();
        let previous = self.track(ev.tid, info);
        if info.dir == Direction::Exit && previous != Some(ev.etype.wrapping_sub(1)) {
            if let Some(recipe) = recipes().get(&ev.etype) {
                build_enter(ev, recipe, &mut self.enter_buf);
                if let Ok(enter) = RawEvent::parse(&self.enter_buf, ev.cpu) {
                    match smallest_form(&enter) {
                        Some(form) => emit(&form)?,
                        None => emit(enter.bytes())?,
                    }
                }
            }
        }
        match smallest_form(ev) {
            Some(form) => emit(&form),
            None => emit(ev.bytes()),
        }
    }

    /// Records a syscall event of thread `tid`; for an exit event, returns the enter event type last written on that
    /// thread. Other events (scheduler switches while the thread blocks in the syscall, ...) do not count.
    fn track(&mut self, tid: u64, info: &EventInfo) -> Option<u16> {
        if !is_syscall(info) {
            return None;
        }
        if info.dir == Direction::Exit {
            return self.pending_enter.remove(&tid);
        }
        if self.pending_enter.len() >= MAX_TRACKED_THREADS {
            self.pending_enter.clear();
        }
        self.pending_enter.insert(tid, info.code);
        None
    }
}

/// The form of `ev` that an old reader shows best and that conversion turns back into `ev` exactly: fewest empty
/// fixed-width parameters (which sysdig 0.29 misprints), then fewest parameters. `None` when `ev` itself is best.
///
/// Candidates are `ev` and the older versions it was converted from (inverting `change` rules), each cut after any
/// number of parameters; a candidate qualifies if the converter's rules, applied without an enter event, rebuild
/// `ev` byte for byte.
fn smallest_form(ev: &RawEvent<'_>) -> Option<Vec<u8>> {
    if !has_shorter_forms(ev.etype) {
        return None;
    }
    let score = |e: &RawEvent<'_>| (empty_fixed_width(e), e.nparams());
    let mut best: Option<((usize, usize), Vec<u8>)> = None;
    let own = score(ev);
    let mut versions = vec![ev.bytes().to_vec()];
    older_versions(ev, &mut versions, 0);
    let mut cand = Vec::new();
    for version in &versions {
        let Ok(v) = RawEvent::parse(version, ev.cpu) else {
            continue;
        };
        let params: Vec<&[u8]> = (0..v.nparams()).map(|i| v.param(i).unwrap_or(&[])).collect();
        for keep in 0..=params.len() {
            let is_self = std::ptr::eq(version, &versions[0]) && keep == params.len();
            if is_self || (keep < params.len() && !table().contains_key(&(v.etype, keep as u8))) {
                continue;
            }
            encode_event_raw(v.ts, v.tid, v.info(), &params[..keep], &mut cand);
            let Ok(c) = RawEvent::parse(&cand, ev.cpu) else {
                continue;
            };
            let sc = score(&c);
            if sc >= own || best.as_ref().is_some_and(|(b, _)| sc >= *b) {
                continue;
            }
            if upgrade_without_enter(&c).as_deref() == Some(ev.bytes()) {
                best = Some((sc, cand.clone()));
            }
        }
    }
    best.map(|(_, b)| b)
}

fn empty_fixed_width(e: &RawEvent<'_>) -> usize {
    (0..e.nparams())
        .filter(|&i| {
            e.param(i).is_some_and(<[u8]>::is_empty) && e.param_type(i).and_then(|t| t.fixed_width()).is_some()
        })
        .count()
}

/// Follows the converter's `add` and `change` rules from `ev` as if no enter event had been seen; the final event,
/// if any rule applied.
fn upgrade_without_enter(ev: &RawEvent<'_>) -> Option<Vec<u8>> {
    let mut cur = ev.bytes().to_vec();
    let mut next = Vec::new();
    let mut changed = false;
    for _ in 0..16 {
        let e = RawEvent::parse(&cur, ev.cpu).ok()?;
        let Some(rule) = table().get(&(e.etype, e.nparams().min(255) as u8)) else {
            break;
        };
        if !matches!(rule.action, Action::Add | Action::Change(_)) {
            break;
        }
        apply_rule(&e, rule, None, &mut next);
        std::mem::swap(&mut cur, &mut next);
        changed = true;
    }
    changed.then_some(cur)
}

/// Adds to `out` the older event versions that `change` rules (without enter-event or computed parameters) turn
/// into `ev`, recursively.
fn older_versions(ev: &RawEvent<'_>, out: &mut Vec<Vec<u8>>, depth: usize) {
    if depth >= 8 {
        return;
    }
    let Some(sources) = change_sources().get(&ev.etype) else {
        return;
    };
    for &(old, nold, rule) in sources {
        if rule.instrs.len() > ev.nparams() {
            continue;
        }
        let Some(info) = event_info(old) else {
            continue;
        };
        let mut params: Vec<Option<&[u8]>> = vec![None; nold as usize];
        let consistent = rule.instrs.iter().enumerate().all(|(k, ins)| {
            let have = ev.param(k).unwrap_or(&[]);
            match *ins {
                Instr::Old(i) => match params.get_mut(i as usize) {
                    Some(slot @ None) => {
                        *slot = Some(have);
                        true
                    }
                    Some(Some(prev)) => *prev == have,
                    None => false,
                },
                Instr::Empty => have.is_empty(),
                Instr::Default => ev.param_type(k).map(default_value).as_deref() == Some(have),
                Instr::Enter { .. } | Instr::ContainerJson => false,
            }
        });
        let Some(params) = params
            .into_iter()
            .collect::<Option<Vec<&[u8]>>>()
            .filter(|_| consistent)
        else {
            continue;
        };
        let mut bytes = Vec::new();
        encode_event_raw(ev.ts, ev.tid, info, &params, &mut bytes);
        if let Ok(older) = RawEvent::parse(&bytes, ev.cpu) {
            older_versions(&older, out, depth + 1);
        }
        out.push(bytes);
    }
}

/// Whether any rule could rebuild an event of this type from a shorter or older form (most types: no, and the
/// writer's hot path returns at once).
fn has_shorter_forms(etype: u16) -> bool {
    static TYPES: OnceLock<std::collections::HashSet<u16>> = OnceLock::new();
    TYPES
        .get_or_init(|| {
            table()
                .iter()
                .filter(|(_, r)| matches!(r.action, Action::Add))
                .map(|(&(code, _), _)| code)
                .chain(change_sources().keys().copied())
                .collect()
        })
        .contains(&etype)
}

/// `change` rules by the event type they produce: (old type, old parameter count, rule).
type ChangeSources = HashMap<u16, Vec<(u16, u8, &'static Rule)>>;

fn change_sources() -> &'static ChangeSources {
    static SOURCES: OnceLock<ChangeSources> = OnceLock::new();
    SOURCES.get_or_init(|| {
        let mut m = ChangeSources::new();
        for (&(old, n), rule) in table() {
            if let Action::Change(target) = rule.action {
                m.entry(target).or_default().push((old, n, rule));
            }
        }
        m
    })
}

/// Syscall events, as opposed to tracepoint and meta events (`switch`, `procexit`, `procinfo`, ...).
fn is_syscall(info: &EventInfo) -> bool {
    info.category & cat::SYSCALL != 0
}

/// Enter-event recipes by exit event type, derived from the converter table.
fn recipes() -> &'static HashMap<u16, EnterRecipe> {
    static RECIPES: OnceLock<HashMap<u16, EnterRecipe>> = OnceLock::new();
    RECIPES.get_or_init(|| {
        event_table()
            .iter()
            .filter(|x| x.dir == Direction::Exit && x.code < SYSDIG_0_29_EVENT_MAX && !x.is_unused())
            .filter_map(|x| recipe_for(x).map(|r| (x.code, r)))
            .collect()
    })
}

fn recipe_for(exit: &'static EventInfo) -> Option<EnterRecipe> {
    let enter = event_info(exit.code.checked_sub(1)?)?;
    if enter.dir != Direction::Enter || enter.name != exit.name || enter.is_unused() || !is_syscall(enter) {
        return None;
    }
    let mut sources = vec![None; enter.params.len()];
    // Where the converter would take enter parameters from when completing this exit type.
    for (&(code, n), rule) in table() {
        if code != exit.code || rule.action != Action::Add {
            continue;
        }
        for (k, ins) in rule.instrs.iter().enumerate() {
            if let Instr::Enter { index, .. } = *ins {
                if let Some(slot) = sources.get_mut(index as usize) {
                    slot.get_or_insert(n as usize + k);
                }
            }
        }
    }
    for (j, p) in enter.params.iter().enumerate() {
        if sources[j].is_none() {
            sources[j] = exit.params.iter().position(|x| x.name == p.name && x.ty == p.ty);
        }
    }
    Some(EnterRecipe { enter, sources })
}

fn build_enter(exit: &RawEvent<'_>, recipe: &EnterRecipe, out: &mut Vec<u8>) {
    let defaults: Vec<Vec<u8>> = recipe
        .enter
        .params
        .iter()
        .map(|p| vec![0u8; p.ty.fixed_width().unwrap_or(0)])
        .collect();
    let params: Vec<&[u8]> = recipe
        .sources
        .iter()
        .zip(&defaults)
        .map(|(src, def)| src.and_then(|i| exit.param(i)).unwrap_or(def))
        .collect();
    encode_event_raw(exit.ts, exit.tid, recipe.enter, &params, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converter::{Converted, Converter};
    use mamoru_event::EventBuilder;

    fn code(name: &str) -> u16 {
        event_table().iter().find(|e| e.enum_name == name).unwrap().code
    }

    fn adjust_all(d: &mut Downgrader, ev: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        d.adjust(&RawEvent::parse(ev, 0).unwrap(), |b| {
            out.push(b.to_vec());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn socket_exit_gets_its_enter_event_back() {
        let mut d = Downgrader::new(Compat::Sysdig029);
        let exit = EventBuilder::new(code("PPME_SOCKET_SOCKET_X"), 50, 3)
            .i64(4)
            .u32(10)
            .u32(1)
            .u32(0)
            .u32(0)
            .finish();
        let out = adjust_all(&mut d, &exit);
        assert_eq!(out.len(), 2);
        let enter = RawEvent::parse(&out[0], 0).unwrap();
        assert_eq!(enter.etype, code("PPME_SOCKET_SOCKET_E"));
        assert_eq!((enter.ts, enter.tid), (50, 3));
        assert_eq!(enter.param_u64(0), Some(10));
        assert_eq!(out[1], exit);
    }

    #[test]
    fn an_enter_event_already_written_is_not_duplicated() {
        let mut d = Downgrader::new(Compat::Sysdig029);
        let enter = EventBuilder::new(code("PPME_SYSCALL_CLOSE_E"), 1, 3).i64(4).finish();
        let exit = EventBuilder::new(code("PPME_SYSCALL_CLOSE_X"), 2, 3)
            .i64(0)
            .i64(4)
            .finish();
        assert_eq!(adjust_all(&mut d, &enter).len(), 1);
        assert_eq!(adjust_all(&mut d, &exit).len(), 1);
    }

    /// What mamoru's reader makes of the written events: conversion on, one thread.
    fn read_back(written: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut conv = Converter::new();
        let mut out = Vec::new();
        for w in written {
            let ev = RawEvent::parse(w, 0).unwrap();
            match conv.convert(&ev).unwrap() {
                Converted::Unchanged => out.push(w.clone()),
                Converted::Rewritten => out.push(conv.rewritten().to_vec()),
                Converted::Dropped => {}
            }
        }
        out
    }

    #[test]
    fn trailing_empty_parameters_are_cut_only_when_conversion_restores_them() {
        let mut d = Downgrader::new(Compat::Sysdig029);
        // open exit with empty dev and ino: reading back adds both empties again.
        let open = EventBuilder::new(code("PPME_SYSCALL_OPEN_X"), 2, 3)
            .i64(3)
            .str("/etc/passwd")
            .u32(1)
            .u32(0)
            .empty()
            .empty()
            .finish();
        let out = adjust_all(&mut d, &open);
        assert_eq!(RawEvent::parse(out.last().unwrap(), 0).unwrap().nparams(), 4);
        assert_eq!(read_back(&out), vec![open]);

        // recv exit with an empty tuple: no rule completes a 4-parameter recv exit, so the tuple must stay.
        let recv = EventBuilder::new(code("PPME_SOCKET_RECV_X"), 3, 3)
            .i64(1)
            .bytes(b"x")
            .i64(4)
            .u32(1)
            .empty()
            .finish();
        let out = adjust_all(&mut d, &recv);
        assert_eq!(out.last().unwrap(), &recv);
        assert_eq!(read_back(&out), vec![recv]);
    }

    #[test]
    fn converted_old_execve_is_written_as_its_old_version() {
        // An execve exit of the 16-parameter version, converted to the newest version, goes back to 16 parameters.
        let mut old = EventBuilder::new(code("PPME_SYSCALL_EXECVE_16_X"), 9, 3);
        for i in 0..16 {
            old = old.bytes(&[i as u8 + 1; 4]);
        }
        let old = old.finish();
        let newest = read_back(std::slice::from_ref(&old)).remove(0);
        assert_eq!(
            RawEvent::parse(&newest, 0).unwrap().etype,
            code("PPME_SYSCALL_EXECVE_19_X")
        );
        let mut d = Downgrader::new(Compat::Sysdig029);
        let out = adjust_all(&mut d, &newest);
        assert_eq!(out.last().unwrap(), &old);
        assert_eq!(read_back(&out), vec![newest]);
    }

    #[test]
    fn live_events_with_all_parameters_are_kept_whole() {
        let mut d = Downgrader::new(Compat::Sysdig029);
        let read = EventBuilder::new(code("PPME_SYSCALL_READ_X"), 3, 3)
            .i64(1)
            .bytes(b"x")
            .i64(4)
            .u32(1)
            .finish();
        let out = adjust_all(&mut d, &read);
        assert_eq!(out.len(), 2, "enter event re-created");
        assert_eq!(out[1], read);
        assert_eq!(read_back(&out), vec![read]);
    }

    #[test]
    fn current_compat_writes_events_unchanged() {
        let mut d = Downgrader::new(Compat::Current);
        let exit = EventBuilder::new(code("PPME_SOCKET_SOCKET_X"), 50, 3)
            .i64(4)
            .u32(10)
            .u32(1)
            .u32(0)
            .u32(0)
            .finish();
        assert_eq!(adjust_all(&mut d, &exit), vec![exit]);
    }
}
