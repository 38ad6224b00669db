//! The compiled form of a condition: a tree of [`Node`]s whose leaves test extracted values with a [`Test`]
//! specialised at compile time for the operator and the field's type (constants parsed once, lists turned into
//! hash sets, path tries or Aho-Corasick automata). Evaluation is a direct recursive `match`: no dynamic dispatch
//! other than the extractor call, and no allocation.

use crate::glob::glob_match;
use crate::pmatch::PathSet;
use crate::sets::{BytesSet, CodeSet, NumSet, PrefixSet};
use crate::slots::{Scratch, SlotId, SlotTable};
use crate::text::StackText;
use aho_corasick::AhoCorasick;
use mamoru_fields::{IpNet, Source, TypeClass, Value};
use mamoru_rules::ast::CmpOp;
use memchr::memmem::Finder;
use regex::bytes::Regex;
use std::cmp::Ordering;
use std::net::IpAddr;

/// A compiled boolean expression.
pub(crate) enum Node {
    Const(bool),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    /// `field exists`.
    Exists(SlotId),
    /// `evt.type` against constants, decided by the event's code: the set holds every code whose `evt.type` passes.
    EventCode(Box<CodeSet>),
    /// A field against constants.
    Check {
        slot: SlotId,
        quant: Quant,
        test: Test,
    },
    /// A sub-condition shared by several rules: evaluated once per event, its result kept in the scratch space.
    Cached {
        id: u32,
        node: Box<Node>,
    },
    /// A field against another field (`val(...)` or a transformer on the right).
    Fields {
        lhs: SlotId,
        quant: Quant,
        rhs: SlotId,
        cmp: FieldCmp,
    },
}

/// How the values of a field combine: a plain field uses its (only) value; an any-of field (`proc.aname`) is true
/// if any value passes; a list field under `in` needs every value to pass, under `intersects` any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Quant {
    First,
    Any,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumOp {
    pub(crate) fn from_cmp(op: CmpOp) -> Option<NumOp> {
        Some(match op {
            CmpOp::Eq => NumOp::Eq,
            CmpOp::Ne => NumOp::Ne,
            CmpOp::Lt => NumOp::Lt,
            CmpOp::Le => NumOp::Le,
            CmpOp::Gt => NumOp::Gt,
            CmpOp::Ge => NumOp::Ge,
            _ => return None,
        })
    }

    #[inline]
    fn holds(self, ord: Option<Ordering>) -> bool {
        match (self, ord) {
            (_, None) => self == NumOp::Ne,
            (NumOp::Eq, Some(o)) => o == Ordering::Equal,
            (NumOp::Ne, Some(o)) => o != Ordering::Equal,
            (NumOp::Lt, Some(o)) => o == Ordering::Less,
            (NumOp::Le, Some(o)) => o != Ordering::Greater,
            (NumOp::Gt, Some(o)) => o == Ordering::Greater,
            (NumOp::Ge, Some(o)) => o != Ordering::Less,
        }
    }
}

/// A test of one value against constants. Large payloads are boxed so that nodes stay small and a rule's tree
/// packs densely in cache.
pub(crate) enum Test {
    // Strings and byte buffers.
    Eq(Box<[u8]>),
    Ne(Box<[u8]>),
    Ord(NumOp, Box<[u8]>),
    Contains(Box<Finder<'static>>),
    /// The needle is stored lower-cased.
    IContains(Box<[u8]>),
    StartsWith(Box<[u8]>),
    EndsWith(Box<[u8]>),
    Glob(Box<[u8]>),
    IGlob(Box<[u8]>),
    Regex(Box<Regex>),
    PMatch(PathSet),
    InBytes(Box<BytesSet>),
    NotInBytes(Box<BytesSet>),
    ContainsAny(AhoCorasick),
    StartsWithAny(Box<PrefixSet>),
    // Numbers.
    U64(NumOp, u64),
    I64(NumOp, i64),
    F64(NumOp, f64),
    InU64(Box<NumSet<u64>>),
    InI64(Box<NumSet<i64>>),
    InF64(Box<[f64]>),
    Bool(NumOp, bool),
    InBool {
        has_true: bool,
        has_false: bool,
    },
    // Addresses.
    Ip(NumOp, IpAddr),
    Net(NumOp, IpNet),
    InIp(Box<[IpAddr]>),
    InNet(Box<[IpNet]>),
    // String-operator modifiers over per-element tests.
    OneOf(Box<[Test]>),
    AnyOf(Box<[Test]>),
    AllOf(Box<[Test]>),
}

/// A field-to-field comparison: the operator and the (shared) type of both sides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldCmp {
    pub op: CmpOp,
    pub class: TypeClass,
    pub domain: NumDomain,
}

/// How numeric values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumDomain {
    Unsigned,
    Signed,
    Float,
}

impl Node {
    pub(crate) fn eval<S: Source>(&self, slots: &SlotTable<S>, ev: &S::Event<'_>, sc: &mut Scratch) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::And(children) => children.iter().all(|c| c.eval(slots, ev, sc)),
            Node::Or(children) => children.iter().any(|c| c.eval(slots, ev, sc)),
            Node::Not(child) => !child.eval(slots, ev, sc),
            Node::Cached { id, node } => {
                if let Some(known) = sc.predicate(*id) {
                    return known;
                }
                let v = node.eval(slots, ev, sc);
                sc.set_predicate(*id, v);
                v
            }
            Node::Exists(slot) => {
                let (a, b) = slots.range(*slot, ev, sc);
                b > a
            }
            Node::EventCode(codes) => codes.contains(sc.event_code),
            Node::Check { slot, quant, test } => {
                let (a, b) = slots.range(*slot, ev, sc);
                if a == b {
                    return false;
                }
                let Scratch { values, tmp, .. } = sc;
                match quant {
                    Quant::First => values.get(a).is_some_and(|v| test.matches(v, tmp)),
                    Quant::Any => (a..b).any(|i| values.get(i).is_some_and(|v| test.matches(v, tmp))),
                    Quant::All => (a..b).all(|i| values.get(i).is_some_and(|v| test.matches(v, tmp))),
                }
            }
            Node::Fields { lhs, quant, rhs, cmp } => {
                let (la, lb) = slots.range(*lhs, ev, sc);
                if la == lb {
                    return false;
                }
                let (ra, rb) = slots.range(*rhs, ev, sc);
                if ra == rb {
                    return false;
                }
                let values = &sc.values;
                let one = |i: usize| {
                    values
                        .get(i)
                        .is_some_and(|l| field_matches(cmp, l, (ra..rb).filter_map(|j| values.get(j))))
                };
                match quant {
                    Quant::First => one(la),
                    Quant::Any => (la..lb).any(one),
                    Quant::All => (la..lb).all(one),
                }
            }
        }
    }
}

/// Calls `f` with the bytes of a string value, or with the text of any other value.
#[inline]
fn with_bytes<R>(v: Value<'_>, f: impl FnOnce(&[u8]) -> R) -> R {
    match v {
        Value::Bytes(b) => f(b),
        other => f(StackText::of(other).as_bytes()),
    }
}

fn parse_text<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

#[inline]
fn to_u64(v: Value<'_>) -> Option<u64> {
    match v {
        Value::U64(x) => Some(x),
        Value::I64(x) => Some(x as u64),
        Value::Double(x) => Some(x as u64),
        Value::Bool(b) => Some(b as u64),
        Value::Bytes(b) => parse_text::<u64>(b).or_else(|| parse_text::<i64>(b).map(|x| x as u64)),
        Value::Ip(_) | Value::Net(_) => None,
    }
}

#[inline]
fn to_i64(v: Value<'_>) -> Option<i64> {
    match v {
        Value::I64(x) => Some(x),
        Value::U64(x) => Some(x as i64),
        Value::Double(x) => Some(x as i64),
        Value::Bool(b) => Some(b as i64),
        Value::Bytes(b) => parse_text::<i64>(b).or_else(|| parse_text::<u64>(b).map(|x| x as i64)),
        Value::Ip(_) | Value::Net(_) => None,
    }
}

#[inline]
fn to_f64(v: Value<'_>) -> Option<f64> {
    match v {
        Value::Double(x) => Some(x),
        Value::U64(x) => Some(x as f64),
        Value::I64(x) => Some(x as f64),
        Value::Bool(b) => Some(b as u64 as f64),
        Value::Bytes(b) => parse_text::<f64>(b),
        Value::Ip(_) | Value::Net(_) => None,
    }
}

#[inline]
fn to_bool(v: Value<'_>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(b),
        Value::Bytes(b) => match b {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        },
        other => to_u64(other).map(|x| x != 0),
    }
}

#[inline]
fn to_ip(v: Value<'_>) -> Option<IpAddr> {
    match v {
        Value::Ip(ip) => Some(ip),
        Value::Net(net) => Some(net.addr),
        Value::Bytes(b) => parse_text::<IpAddr>(b),
        _ => None,
    }
}

/// Case-insensitive (ASCII) substring search; `needle` is lower-case.
pub(crate) fn icontains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), &hay[..=last_start])
        .any(|p| hay[p..p + needle.len()].eq_ignore_ascii_case(needle))
}

/// Full-match regex test. Falco matches the UTF-8-sanitised text; invalid sequences become U+FFFD in `tmp`.
fn regex_matches(re: &Regex, b: &[u8], tmp: &mut Vec<u8>) -> bool {
    if std::str::from_utf8(b).is_ok() {
        return re.is_match(b);
    }
    tmp.clear();
    for chunk in b.utf8_chunks() {
        tmp.extend_from_slice(chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            tmp.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    re.is_match(tmp)
}

impl Test {
    #[inline]
    pub(crate) fn matches(&self, v: Value<'_>, tmp: &mut Vec<u8>) -> bool {
        match self {
            Test::Eq(r) => with_bytes(v, |b| b == &**r),
            Test::Ne(r) => with_bytes(v, |b| b != &**r),
            Test::Ord(op, r) => with_bytes(v, |b| op.holds(Some(b.cmp(r)))),
            Test::Contains(f) => with_bytes(v, |b| f.find(b).is_some()),
            Test::IContains(n) => with_bytes(v, |b| icontains(b, n)),
            Test::StartsWith(p) => with_bytes(v, |b| b.starts_with(p)),
            Test::EndsWith(s) => with_bytes(v, |b| b.ends_with(s)),
            Test::Glob(p) => with_bytes(v, |b| glob_match(p, b, false)),
            Test::IGlob(p) => with_bytes(v, |b| glob_match(p, b, true)),
            Test::Regex(re) => with_bytes(v, |b| regex_matches(re, b, tmp)),
            Test::PMatch(set) => with_bytes(v, |b| set.matches(b)),
            Test::InBytes(set) => with_bytes(v, |b| set.contains(b)),
            Test::NotInBytes(set) => with_bytes(v, |b| !set.contains(b)),
            Test::ContainsAny(ac) => with_bytes(v, |b| ac.is_match(b)),
            Test::StartsWithAny(set) => with_bytes(v, |b| set.matches(b)),
            Test::U64(op, r) => to_u64(v).is_some_and(|x| op.holds(Some(x.cmp(r)))),
            Test::I64(op, r) => to_i64(v).is_some_and(|x| op.holds(Some(x.cmp(r)))),
            Test::F64(op, r) => to_f64(v).is_some_and(|x| op.holds(x.partial_cmp(r))),
            Test::InU64(set) => to_u64(v).is_some_and(|x| set.contains(x)),
            Test::InI64(set) => to_i64(v).is_some_and(|x| set.contains(x)),
            Test::InF64(items) => to_f64(v).is_some_and(|x| items.contains(&x)),
            Test::Bool(op, r) => to_bool(v).is_some_and(|x| op.holds(Some(x.cmp(r)))),
            Test::InBool { has_true, has_false } => to_bool(v).is_some_and(|x| if x { *has_true } else { *has_false }),
            // A value of the other address family is unequal (libsinsp: `op == CO_NE`).
            Test::Ip(op, r) => to_ip(v).is_some_and(|x| (x == *r) == (*op == NumOp::Eq)),
            Test::Net(op, net) => to_ip(v).is_some_and(|x| net.contains(&x) == (*op == NumOp::Eq)),
            Test::InIp(items) => to_ip(v).is_some_and(|x| items.contains(&x)),
            Test::InNet(nets) => to_ip(v).is_some_and(|x| nets.iter().any(|n| n.contains(&x))),
            Test::OneOf(tests) => {
                let mut hits = 0;
                for t in tests.iter() {
                    if t.matches(v, tmp) {
                        hits += 1;
                        if hits > 1 {
                            return false;
                        }
                    }
                }
                hits == 1
            }
            Test::AnyOf(tests) => tests.iter().any(|t| t.matches(v, tmp)),
            Test::AllOf(tests) => tests.iter().all(|t| t.matches(v, tmp)),
        }
    }
}

/// Compares value `l` with the right-hand field's values `rhs` (its first value, or any of them for `in`).
fn field_matches<'v>(cmp: &FieldCmp, l: Value<'_>, mut rhs: impl Iterator<Item = Value<'v>>) -> bool {
    match cmp.op {
        CmpOp::In | CmpOp::Intersects => rhs.any(|r| compare_values(cmp, CmpOp::Eq, l, r)),
        op => rhs.next().is_some_and(|r| compare_values(cmp, op, l, r)),
    }
}

fn compare_values(cmp: &FieldCmp, op: CmpOp, l: Value<'_>, r: Value<'_>) -> bool {
    match cmp.class {
        TypeClass::String | TypeClass::Bytes => with_bytes(l, |lb| with_bytes(r, |rb| compare_bytes(op, lb, rb))),
        TypeClass::Numeric => {
            let Some(nop) = NumOp::from_cmp(op) else {
                return false;
            };
            match cmp.domain {
                NumDomain::Unsigned => match (to_u64(l), to_u64(r)) {
                    (Some(a), Some(b)) => nop.holds(Some(a.cmp(&b))),
                    _ => false,
                },
                NumDomain::Signed => match (to_i64(l), to_i64(r)) {
                    (Some(a), Some(b)) => nop.holds(Some(a.cmp(&b))),
                    _ => false,
                },
                NumDomain::Float => match (to_f64(l), to_f64(r)) {
                    (Some(a), Some(b)) => nop.holds(a.partial_cmp(&b)),
                    _ => false,
                },
            }
        }
        TypeClass::Bool => match (to_bool(l), to_bool(r), op) {
            (Some(a), Some(b), CmpOp::Eq) => a == b,
            (Some(a), Some(b), CmpOp::Ne) => a != b,
            _ => false,
        },
        TypeClass::Ip | TypeClass::Net => match (to_ip(l), to_ip(r), op) {
            (Some(a), Some(b), CmpOp::Eq) => a == b,
            (Some(a), Some(b), CmpOp::Ne) => a != b,
            _ => false,
        },
    }
}

fn compare_bytes(op: CmpOp, l: &[u8], r: &[u8]) -> bool {
    match op {
        CmpOp::Eq => l == r,
        CmpOp::Ne => l != r,
        CmpOp::Lt => l < r,
        CmpOp::Le => l <= r,
        CmpOp::Gt => l > r,
        CmpOp::Ge => l >= r,
        CmpOp::Contains | CmpOp::BContains => memchr::memmem::find(l, r).is_some(),
        CmpOp::IContains => {
            // The right side is not lower-cased ahead of time here; compare window by window.
            r.is_empty() || l.windows(r.len()).any(|w| w.eq_ignore_ascii_case(r))
        }
        CmpOp::StartsWith | CmpOp::BStartsWith => l.starts_with(r),
        CmpOp::EndsWith => l.ends_with(r),
        CmpOp::Glob => glob_match(r, l, false),
        CmpOp::IGlob => glob_match(r, l, true),
        CmpOp::In | CmpOp::Intersects => l == r,
        // Rejected at compile time for field right-hand sides.
        CmpOp::Regex | CmpOp::PMatch => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icontains_ascii() {
        assert!(icontains(b"Hello World", b"world"));
        assert!(icontains(b"WORLD", b"world"));
        assert!(!icontains(b"wor", b"world"));
        assert!(icontains(b"anything", b""));
        assert!(icontains(b"a-b", b"-b"));
    }

    #[test]
    fn numeric_ops_hold() {
        assert!(NumOp::Le.holds(Some(Ordering::Equal)));
        assert!(!NumOp::Lt.holds(Some(Ordering::Equal)));
        assert!(NumOp::Ne.holds(None), "NaN is unequal to everything");
        assert!(!NumOp::Eq.holds(None));
    }
}

#[cfg(test)]
mod layout {
    #[test]
    fn nodes_stay_small() {
        // Large test payloads are boxed so that a rule's nodes pack densely in cache.
        assert!(
            std::mem::size_of::<super::Node>() <= 48,
            "{}",
            std::mem::size_of::<super::Node>()
        );
    }
}
