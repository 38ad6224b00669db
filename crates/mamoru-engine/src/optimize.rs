//! Shaping compiled conditions for speed without changing their results (evaluation has no side effects, so
//! sub-conditions may be shared and `or` children regrouped): per-event result caches for sub-conditions that occur
//! more than once in a ruleset, constant folding and flattening, and merging `or`s of same-field tests.

use crate::check::{Node, Quant, Test};
use crate::sets::{BytesSet, PrefixSet};
use crate::slots::SlotId;
use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;
use rustc_hash::FxHashMap;

/// Whether remembering a node's result beats re-evaluating it: composite nodes and leaves whose test costs more than
/// a lookup (searches, patterns, hashing, field-to-field). A plain equality on an extracted value is as cheap as the
/// cache probe itself.
pub(crate) fn worth_caching(n: &Node) -> bool {
    match n {
        Node::Const(_) | Node::Exists(_) | Node::EventCode(_) | Node::Cached { .. } => false,
        Node::And(_) | Node::Or(_) | Node::Not(_) | Node::Fields { .. } => true,
        Node::Check { test, .. } => !matches!(
            test,
            Test::Eq(_)
                | Test::Ne(_)
                | Test::Ord(..)
                | Test::StartsWith(_)
                | Test::EndsWith(_)
                | Test::U64(..)
                | Test::I64(..)
                | Test::F64(..)
                | Test::Bool(..)
                | Test::InBool { .. }
                | Test::Ip(..)
                | Test::Net(..)
        ),
    }
}

/// Counts how often each shared-predicate id occurs in `node`.
pub(crate) fn count_predicates(node: &Node, counts: &mut [u32]) {
    match node {
        Node::Cached { id, node } => {
            counts[*id as usize] += 1;
            count_predicates(node, counts);
        }
        Node::And(cs) | Node::Or(cs) => cs.iter().for_each(|c| count_predicates(c, counts)),
        Node::Not(c) => count_predicates(c, counts),
        Node::Const(_) | Node::Exists(_) | Node::EventCode(_) | Node::Check { .. } | Node::Fields { .. } => {}
    }
}

/// The final shape of a compiled condition once every rule is compiled: a sub-condition keeps its result cache only
/// if it occurs at least twice in the ruleset (ids renumbered densely through `remap`); the nesting left by removed
/// caches is flattened, and `or`s of same-field equality or substring tests are merged.
pub(crate) fn finalize(node: Node, counts: &[u32], remap: &mut FxHashMap<u32, u32>) -> Node {
    match node {
        Node::Cached { id, node } => {
            let inner = finalize(*node, counts, remap);
            if counts[id as usize] < 2 || matches!(inner, Node::Const(_)) {
                return inner;
            }
            let next = remap.len() as u32;
            let id = *remap.entry(id).or_insert(next);
            Node::Cached {
                id,
                node: Box::new(inner),
            }
        }
        Node::And(cs) => finalize_group(true, cs, counts, remap),
        Node::Or(cs) => finalize_group(false, cs, counts, remap),
        Node::Not(c) => match finalize(*c, counts, remap) {
            Node::Const(b) => Node::Const(!b),
            Node::Not(inner) => *inner,
            n => Node::Not(Box::new(n)),
        },
        n => n,
    }
}

fn finalize_group(conj: bool, children: Box<[Node]>, counts: &[u32], remap: &mut FxHashMap<u32, u32>) -> Node {
    let mut flat = Vec::with_capacity(children.len());
    for c in children.into_vec() {
        match (conj, finalize(c, counts, remap)) {
            (true, Node::And(inner)) | (false, Node::Or(inner)) => flat.extend(inner.into_vec()),
            (_, n) => flat.push(n),
        }
    }
    if !conj {
        flat = merge_or_checks(flat);
    }
    combine(conj, flat)
}

/// An `and` (`conj`) or `or` of compiled children, with constants folded.
pub(crate) fn combine(conj: bool, children: Vec<Node>) -> Node {
    let mut out = Vec::with_capacity(children.len());
    for c in children {
        match c {
            Node::Const(b) if b == conj => {}
            Node::Const(b) => return Node::Const(b),
            n => out.push(n),
        }
    }
    match out.len() {
        0 => Node::Const(conj),
        1 => out.pop().unwrap_or(Node::Const(conj)),
        _ if conj => Node::And(out.into_boxed_slice()),
        _ => Node::Or(out.into_boxed_slice()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum MergeKind {
    Equal,
    Contains,
    Prefix,
}

/// Children of an `or` that can merge: same slot, same quantifier, same kind of test.
type MergeKey = (SlotId, Quant, MergeKind);

/// A merge group: where its node goes in the output, and the literals it collects.
type MergeGroup = (usize, Vec<Box<[u8]>>);

fn merge_key(n: &Node) -> Option<MergeKey> {
    match n {
        Node::Check { slot, quant, test } if *quant != Quant::All => match test {
            Test::Eq(_) | Test::InBytes(_) => Some((*slot, *quant, MergeKind::Equal)),
            Test::Contains(_) => Some((*slot, *quant, MergeKind::Contains)),
            Test::StartsWith(_) | Test::StartsWithAny(_) => Some((*slot, *quant, MergeKind::Prefix)),
            _ => None,
        },
        _ => None,
    }
}

fn needles(n: &Node, out: &mut Vec<Box<[u8]>>) {
    if let Node::Check { test, .. } = n {
        match test {
            Test::Eq(b) => out.push(b.clone()),
            Test::InBytes(set) => out.extend(set.iter().map(Box::from)),
            Test::Contains(f) => out.push(f.needle().into()),
            Test::StartsWith(p) => out.push(p.clone()),
            Test::StartsWithAny(set) => out.extend(set.iter().map(Box::from)),
            _ => {}
        }
    }
}

/// Merges the children of an `or` that test the same slot for equality (into one set), for prefixes (into one
/// prefix set) or for substrings (into one Aho-Corasick automaton). Evaluation has no side effects, so regrouping the children keeps the result.
pub(crate) fn merge_or_checks(children: Vec<Node>) -> Vec<Node> {
    let mut counts: FxHashMap<MergeKey, usize> = FxHashMap::default();
    for c in &children {
        if let Some(k) = merge_key(c) {
            *counts.entry(k).or_default() += 1;
        }
    }
    if counts.values().all(|n| *n < 2) {
        return children;
    }
    let mut out: Vec<Node> = Vec::with_capacity(children.len());
    let mut groups: FxHashMap<MergeKey, MergeGroup> = FxHashMap::default();
    for c in children {
        match merge_key(&c).filter(|k| counts[k] >= 2) {
            Some(k) => {
                let next = out.len();
                let entry = groups.entry(k).or_insert_with(|| (next, Vec::new()));
                if entry.0 == next {
                    out.push(Node::Const(false));
                }
                needles(&c, &mut entry.1);
            }
            None => out.push(c),
        }
    }
    for ((slot, quant, kind), (at, pats)) in groups {
        let test = match kind {
            MergeKind::Equal => Test::InBytes(Box::new(BytesSet::new(pats))),
            MergeKind::Prefix => Test::StartsWithAny(Box::new(PrefixSet::new(pats))),
            MergeKind::Contains => match AhoCorasick::new(pats.iter()) {
                Ok(ac) => Test::ContainsAny(ac),
                // Unreachable for byte-string patterns; keep the checks separate if it ever fails.
                Err(_) => Test::AnyOf(
                    pats.iter()
                        .map(|p| Test::Contains(Box::new(Finder::new(p).into_owned())))
                        .collect(),
                ),
            },
        };
        out[at] = Node::Check { slot, quant, test };
    }
    out
}
