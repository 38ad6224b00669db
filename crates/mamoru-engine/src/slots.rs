//! Extraction slots and the per-evaluation scratch space.
//!
//! Every distinct extraction a ruleset needs — a bound field, or a transformer applied to another slot — is one
//! slot. During an evaluation a slot is extracted at most once, on first use, into the [`Scratch`]'s value arena;
//! the slot table records where its values landed under a generation stamp, so starting a new event costs one
//! counter increment instead of clearing a table.

use crate::text::{b64_decode, write_value, StackText};
use mamoru_fields::{Extractor, Source, TypeClass, Value, Values};
use rustc_hash::FxHashMap;

pub(crate) type SlotId = u32;

/// Reusable per-thread evaluation state: the value arena and the slot table. One `Scratch` may serve any number of
/// rulesets; it grows to the working size of the largest and then stops allocating.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) values: Values,
    stamps: Vec<Stamp>,
    predicates: Vec<PredicateStamp>,
    generation: u32,
    /// Work buffer for transformers and regex input sanitising.
    pub(crate) tmp: Vec<u8>,
    /// The catalogue's code of the event being evaluated (`evt.type` tests read it).
    pub(crate) event_code: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct PredicateStamp {
    generation: u32,
    value: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Stamp {
    generation: u32,
    start: u32,
    end: u32,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch::default()
    }

    /// Starts a new event: forgets every extracted value and cached predicate result.
    pub(crate) fn begin(&mut self, num_slots: usize, num_predicates: usize) {
        self.values.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After 2^32 events stamps could alias; reset them once.
            self.stamps.iter_mut().for_each(|s| *s = Stamp::default());
            self.predicates.iter_mut().for_each(|s| *s = PredicateStamp::default());
            self.generation = 1;
        }
        if self.stamps.len() < num_slots {
            self.stamps.resize(num_slots, Stamp::default());
        }
        if self.predicates.len() < num_predicates {
            self.predicates.resize(num_predicates, PredicateStamp::default());
        }
    }

    #[inline]
    pub(crate) fn predicate(&self, id: u32) -> Option<bool> {
        let p = self.predicates[id as usize];
        (p.generation == self.generation).then_some(p.value)
    }

    #[inline]
    pub(crate) fn set_predicate(&mut self, id: u32, value: bool) {
        self.predicates[id as usize] = PredicateStamp {
            generation: self.generation,
            value,
        };
    }

    #[inline]
    pub(crate) fn value(&self, i: usize) -> Option<Value<'_>> {
        self.values.get(i)
    }
}

/// How a slot obtains its values.
pub(crate) enum SlotKind<S: Source> {
    /// A catalogue field.
    Field(Box<dyn Extractor<S>>),
    /// A per-value transformer over another slot.
    Map { op: MapOp, input: SlotId },
    /// `len()` of a list: the number of values of the input.
    Count { input: SlotId },
    /// `join(sep, list)`: one string.
    Join { sep: Box<[u8]>, input: SlotId },
    /// `concat(a, b, ...)`: one string; no value if any field part has none.
    Concat(Vec<ConcatPart>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapOp {
    Lower,
    Upper,
    Basename,
    B64,
    Len,
}

pub(crate) enum ConcatPart {
    Slot(SlotId),
    Literal(Box<[u8]>),
}

/// All the slots of one ruleset, deduplicated by a canonical key (`proc.aname[2]`, `tolower(proc.name)`).
pub(crate) struct SlotTable<S: Source> {
    kinds: Vec<SlotKind<S>>,
    by_key: FxHashMap<String, SlotId>,
}

impl<S: Source> Default for SlotTable<S> {
    fn default() -> Self {
        SlotTable {
            kinds: Vec::new(),
            by_key: FxHashMap::default(),
        }
    }
}

impl<S: Source> SlotTable<S> {
    pub(crate) fn len(&self) -> usize {
        self.kinds.len()
    }

    /// The slot for `key`, created with `make` if it does not exist yet.
    pub(crate) fn intern(&mut self, key: String, make: impl FnOnce() -> SlotKind<S>) -> SlotId {
        if let Some(id) = self.by_key.get(&key) {
            return *id;
        }
        let id = self.kinds.len() as SlotId;
        self.kinds.push(make());
        self.by_key.insert(key, id);
        id
    }

    /// The arena positions of `slot`'s values for the current event, extracting them on first use.
    #[inline]
    pub(crate) fn range(&self, slot: SlotId, ev: &S::Event<'_>, sc: &mut Scratch) -> (usize, usize) {
        let st = sc.stamps[slot as usize];
        if st.generation == sc.generation {
            return (st.start as usize, st.end as usize);
        }
        self.fill(slot, ev, sc)
    }

    #[inline(never)]
    fn fill(&self, slot: SlotId, ev: &S::Event<'_>, sc: &mut Scratch) -> (usize, usize) {
        let (start, end) = self.extract(slot, ev, sc);
        sc.stamps[slot as usize] = Stamp {
            generation: sc.generation,
            start: start as u32,
            end: end as u32,
        };
        (start, end)
    }

    fn extract(&self, slot: SlotId, ev: &S::Event<'_>, sc: &mut Scratch) -> (usize, usize) {
        match &self.kinds[slot as usize] {
            SlotKind::Field(x) => {
                let start = sc.values.len();
                x.extract(ev, &mut sc.values);
                (start, sc.values.len())
            }
            SlotKind::Map { op, input } => {
                let (a, b) = self.range(*input, ev, sc);
                map_values(*op, a, b, sc)
            }
            SlotKind::Count { input } => {
                let (a, b) = self.range(*input, ev, sc);
                let start = sc.values.len();
                if b > a {
                    sc.values.push_u64((b - a) as u64);
                }
                (start, sc.values.len())
            }
            SlotKind::Join { sep, input } => {
                let (a, b) = self.range(*input, ev, sc);
                let start = sc.values.len();
                if b > a {
                    let Scratch { values, tmp, .. } = sc;
                    tmp.clear();
                    for i in a..b {
                        if i > a {
                            tmp.extend_from_slice(sep);
                        }
                        if let Some(v) = values.get(i) {
                            write_value(v, TypeClass::String, tmp);
                        }
                    }
                    values.push_bytes(tmp);
                }
                (start, sc.values.len())
            }
            SlotKind::Concat(parts) => self.concat(parts, ev, sc),
        }
    }

    fn concat(&self, parts: &[ConcatPart], ev: &S::Event<'_>, sc: &mut Scratch) -> (usize, usize) {
        // Extract every part first: extraction appends to the arena, so the text is assembled afterwards.
        for p in parts {
            if let ConcatPart::Slot(s) = p {
                let (a, b) = self.range(*s, ev, sc);
                if a == b {
                    let here = sc.values.len();
                    return (here, here);
                }
            }
        }
        let start = sc.values.len();
        let mut text = std::mem::take(&mut sc.tmp);
        text.clear();
        for p in parts {
            match p {
                ConcatPart::Literal(l) => text.extend_from_slice(l),
                ConcatPart::Slot(s) => {
                    let (a, _) = self.range(*s, ev, sc);
                    if let Some(v) = sc.values.get(a) {
                        write_value(v, TypeClass::String, &mut text);
                    }
                }
            }
        }
        sc.values.push_bytes(&text);
        sc.tmp = text;
        (start, sc.values.len())
    }
}

/// What one input value becomes under a per-value transformer.
enum Mapped {
    /// The transformed bytes are in the scratch work buffer.
    Text,
    Number(u64),
    Unchanged(Value<'static>),
    Failed,
}

/// Applies a per-value transformer to the values in `a..b`, appending the results. A base64 value that does not
/// decode makes the whole extraction fail (no value), as in libsinsp.
fn map_values(op: MapOp, a: usize, b: usize, sc: &mut Scratch) -> (usize, usize) {
    let start = sc.values.len();
    let Scratch { values, tmp, .. } = sc;
    for i in a..b {
        let Some(v) = values.get(i) else { continue };
        tmp.clear();
        let mapped = match (op, v) {
            (MapOp::Lower, Value::Bytes(bytes)) => {
                tmp.extend(bytes.iter().map(u8::to_ascii_lowercase));
                Mapped::Text
            }
            (MapOp::Upper, Value::Bytes(bytes)) => {
                tmp.extend(bytes.iter().map(u8::to_ascii_uppercase));
                Mapped::Text
            }
            (MapOp::Basename, Value::Bytes(bytes)) => {
                let base = match memchr::memrchr(b'/', bytes) {
                    Some(p) => &bytes[p + 1..],
                    None => bytes,
                };
                tmp.extend_from_slice(base);
                Mapped::Text
            }
            (MapOp::B64, Value::Bytes(bytes)) => {
                if b64_decode(bytes, tmp) {
                    Mapped::Text
                } else {
                    Mapped::Failed
                }
            }
            (MapOp::Len, Value::Bytes(bytes)) => Mapped::Number(bytes.len() as u64),
            (MapOp::Len, other) => Mapped::Number(StackText::of(other).as_bytes().len() as u64),
            (_, other) => Mapped::Unchanged(detach(other)),
        };
        match mapped {
            Mapped::Text => values.push_bytes(tmp),
            Mapped::Number(n) => values.push_u64(n),
            Mapped::Unchanged(v) => values.push(v),
            Mapped::Failed => {
                values.truncate(start);
                return (start, start);
            }
        }
    }
    (start, values.len())
}

/// A non-string value without its borrow of the arena (strings are handled by the callers).
fn detach(v: Value<'_>) -> Value<'static> {
    match v {
        Value::Bytes(_) => Value::Bytes(&[]),
        Value::U64(x) => Value::U64(x),
        Value::I64(x) => Value::I64(x),
        Value::Bool(x) => Value::Bool(x),
        Value::Ip(x) => Value::Ip(x),
        Value::Net(x) => Value::Net(x),
        Value::Double(x) => Value::Double(x),
    }
}
