//! Constant sets the compiler builds from right-hand-side lists: byte strings (for `in`, `intersects`, `= anyof`),
//! numbers, and event codes.

use rustc_hash::FxHashSet;

/// Lists up to this size are searched linearly (faster than hashing short lists).
const LINEAR_MAX: usize = 4;

/// A set of byte strings with a length filter in front of the lookup.
#[derive(Debug)]
pub(crate) struct BytesSet {
    min_len: usize,
    max_len: usize,
    repr: BytesRepr,
}

#[derive(Debug)]
enum BytesRepr {
    Linear(Box<[Box<[u8]>]>),
    Hashed(FxHashSet<Box<[u8]>>),
}

impl BytesSet {
    pub(crate) fn new(items: impl IntoIterator<Item = Box<[u8]>>) -> BytesSet {
        let mut unique: FxHashSet<Box<[u8]>> = items.into_iter().collect();
        let min_len = unique.iter().map(|b| b.len()).min().unwrap_or(usize::MAX);
        let max_len = unique.iter().map(|b| b.len()).max().unwrap_or(0);
        let repr = if unique.len() <= LINEAR_MAX {
            BytesRepr::Linear(unique.drain().collect())
        } else {
            BytesRepr::Hashed(unique)
        };
        BytesSet { min_len, max_len, repr }
    }

    #[inline]
    pub(crate) fn contains(&self, v: &[u8]) -> bool {
        if v.len() < self.min_len || v.len() > self.max_len {
            return false;
        }
        match &self.repr {
            BytesRepr::Linear(items) => items.iter().any(|i| **i == *v),
            BytesRepr::Hashed(set) => set.contains(v),
        }
    }

    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        match &self.repr {
            BytesRepr::Linear(items) => Box::new(items.iter().map(|b| &**b)),
            BytesRepr::Hashed(set) => Box::new(set.iter().map(|b| &**b)),
        }
    }
}

/// A set of prefixes (`startswith anyof (...)`, `or`-chains of `startswith` on one field), bucketed by first byte
/// so a lookup only tries the prefixes that can match.
#[derive(Debug)]
pub(crate) struct PrefixSet {
    /// Sorted, so that prefixes sharing a first byte are contiguous.
    prefixes: Box<[Box<[u8]>]>,
    /// Per first byte, the range of `prefixes` starting with it.
    buckets: Box<[(u32, u32); 256]>,
    has_empty: bool,
}

impl PrefixSet {
    pub(crate) fn new(items: impl IntoIterator<Item = Box<[u8]>>) -> PrefixSet {
        let mut prefixes: Vec<Box<[u8]>> = items.into_iter().collect();
        prefixes.sort();
        prefixes.dedup();
        let has_empty = prefixes.first().is_some_and(|p| p.is_empty());
        prefixes.retain(|p| !p.is_empty());
        let mut buckets = Box::new([(0u32, 0u32); 256]);
        for (i, p) in prefixes.iter().enumerate() {
            let b = &mut buckets[p[0] as usize];
            if b.0 == b.1 {
                *b = (i as u32, i as u32 + 1);
            } else {
                b.1 = i as u32 + 1;
            }
        }
        PrefixSet {
            prefixes: prefixes.into_boxed_slice(),
            buckets,
            has_empty,
        }
    }

    #[inline]
    pub(crate) fn matches(&self, v: &[u8]) -> bool {
        if self.has_empty {
            return true;
        }
        let Some(&first) = v.first() else {
            return false;
        };
        let (start, end) = self.buckets[first as usize];
        self.prefixes[start as usize..end as usize]
            .iter()
            .any(|p| v.starts_with(p))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let empty: Option<&[u8]> = self.has_empty.then_some(&[]);
        empty.into_iter().chain(self.prefixes.iter().map(|p| &**p))
    }
}

/// A set of 64-bit numbers (numeric `in`).
#[derive(Debug)]
pub(crate) enum NumSet<T> {
    Linear(Box<[T]>),
    Hashed(FxHashSet<T>),
}

impl<T: Copy + Eq + std::hash::Hash> NumSet<T> {
    pub(crate) fn new(items: impl IntoIterator<Item = T>) -> NumSet<T> {
        let unique: FxHashSet<T> = items.into_iter().collect();
        if unique.len() <= LINEAR_MAX * 2 {
            NumSet::Linear(unique.into_iter().collect())
        } else {
            NumSet::Hashed(unique)
        }
    }

    #[inline]
    pub(crate) fn contains(&self, v: T) -> bool {
        match self {
            NumSet::Linear(items) => items.contains(&v),
            NumSet::Hashed(set) => set.contains(&v),
        }
    }
}

/// A fixed-size bit set over event codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSet {
    words: Vec<u64>,
    len: usize,
}

impl CodeSet {
    pub fn empty(len: usize) -> CodeSet {
        CodeSet {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    pub fn all(len: usize) -> CodeSet {
        let mut s = CodeSet::empty(len);
        for i in 0..len {
            s.insert(i);
        }
        s
    }

    /// Number of codes the set ranges over.
    pub fn universe(&self) -> usize {
        self.len
    }

    pub fn insert(&mut self, code: usize) {
        if code < self.len {
            self.words[code / 64] |= 1 << (code % 64);
        }
    }

    pub fn contains(&self, code: usize) -> bool {
        code < self.len && self.words[code / 64] & (1 << (code % 64)) != 0
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    pub fn union_with(&mut self, other: &CodeSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= *b;
        }
    }

    pub fn intersect_with(&mut self, other: &CodeSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= *b;
        }
    }

    pub fn complement(&mut self) {
        for w in &mut self.words {
            *w = !*w;
        }
        let tail = self.len % 64;
        if tail != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << tail) - 1;
            }
        }
    }

    /// The codes in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|c| self.contains(*c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_set_both_representations() {
        for n in [3usize, 40] {
            let s = BytesSet::new((0..n).map(|i| format!("item{i}").into_bytes().into_boxed_slice()));
            assert!(s.contains(b"item0"));
            assert!(s.contains(format!("item{}", n - 1).as_bytes()));
            assert!(!s.contains(b"item"));
            assert!(!s.contains(b"other-long-value"));
            assert_eq!(s.iter().count(), n);
        }
        assert!(!BytesSet::new(Vec::new()).contains(b""));
    }

    #[test]
    fn prefix_set_buckets() {
        let s = PrefixSet::new(["/etc".as_bytes(), b"/usr/lib", b"/usr", b"bin"].map(Box::from));
        assert!(s.matches(b"/etc/passwd"));
        assert!(s.matches(b"/usr/share"));
        assert!(s.matches(b"binary"));
        assert!(!s.matches(b"/var/x"));
        assert!(!s.matches(b""));
        assert!(!s.matches(b"/us"));
        assert_eq!(s.iter().count(), 4);
        let all = PrefixSet::new([Box::from(&b""[..]), Box::from(&b"x"[..])]);
        assert!(all.matches(b"anything"));
        assert!(all.matches(b""));
    }

    #[test]
    fn code_set_algebra() {
        let mut a = CodeSet::empty(70);
        a.insert(1);
        a.insert(65);
        let mut c = a.clone();
        c.complement();
        assert_eq!(c.count(), 68);
        assert!(!c.contains(65));
        assert!(!c.contains(69 + 1));
        let mut all = CodeSet::all(70);
        all.intersect_with(&a);
        assert_eq!(all, a);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![1, 65]);
    }
}
