//! Alpine apk versions: `N(.N)*[letter](_suffix[N])*[~hash][-rN]`. Pre-release suffixes (`_alpha`, `_beta`, `_pre`,
//! `_rc`) sort before the plain release, post-release suffixes (`_cvs`, `_svn`, `_git`, `_hg`, `_p`) after it;
//! components after the first with a leading zero compare as strings, as apk-tools does.

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
struct Parsed<'a> {
    numbers: Vec<&'a str>,
    letter: Option<u8>,
    suffixes: Vec<(i8, u64)>,
    revision: u64,
}

const SUFFIXES: [(&str, i8); 9] = [
    ("alpha", -4),
    ("beta", -3),
    ("pre", -2),
    ("rc", -1),
    ("cvs", 1),
    ("svn", 2),
    ("git", 3),
    ("hg", 4),
    ("p", 5),
];

fn parse(v: &str) -> Option<Parsed<'_>> {
    let v = v.trim();
    let (v, revision) = match v.rsplit_once("-r") {
        Some((main, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => (main, r.parse().ok()?),
        _ => (v, 0),
    };
    // A `~hash` (commit id) does not order.
    let v = v.split_once('~').map_or(v, |(main, _)| main);
    let mut parts = v.split('_');
    let head = parts.next()?;
    let (nums, letter) = match head.as_bytes().last() {
        Some(c) if c.is_ascii_lowercase() => (&head[..head.len() - 1], Some(*c)),
        _ => (head, None),
    };
    let numbers: Vec<&str> = nums.split('.').collect();
    if numbers
        .iter()
        .any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut suffixes = Vec::new();
    for s in parts {
        let (name, rank) = SUFFIXES.iter().find(|(name, _)| s.starts_with(name))?;
        let n = &s[name.len()..];
        let num = if n.is_empty() { 0 } else { n.parse().ok()? };
        suffixes.push((*rank, num));
    }
    Some(Parsed {
        numbers,
        letter,
        suffixes,
        revision,
    })
}

fn cmp_numbers(a: &[&str], b: &[&str]) -> Ordering {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let ord = if i > 0 && (x.starts_with('0') || y.starts_with('0')) {
            x.cmp(y)
        } else {
            let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        };
        if ord.is_ne() {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// Orders two apk versions, or `None` if either is not a valid apk version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    let n = a.suffixes.len().max(b.suffixes.len());
    let suffix_ord = (0..n)
        .map(|i| {
            let x = a.suffixes.get(i).copied().unwrap_or((0, 0));
            let y = b.suffixes.get(i).copied().unwrap_or((0, 0));
            x.cmp(&y)
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal);
    Some(
        cmp_numbers(&a.numbers, &b.numbers)
            .then_with(|| a.letter.cmp(&b.letter))
            .then(suffix_ord)
            .then_with(|| a.revision.cmp(&b.revision)),
    )
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn known_orderings() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-r0", Equal),
            ("1.0-r1", "1.0-r0", Greater),
            ("1.0-r10", "1.0-r9", Greater),
            ("1.0_alpha", "1.0", Less),
            ("1.0_alpha1", "1.0_alpha2", Less),
            ("1.0_alpha9", "1.0_beta1", Less),
            ("1.0_rc1", "1.0", Less),
            ("1.0", "1.0_p1", Less),
            ("1.0_git20200101", "1.0", Greater),
            ("1.0", "1.0a", Less),
            ("1.0a", "1.0b", Less),
            ("1.0", "1.0.1", Less),
            ("1.10", "1.9", Greater),
            ("1.01", "1.1", Less),
            ("3.1.4-r5", "3.1.4-r4", Greater),
            ("1.1.1w-r1", "1.1.1t-r3", Greater),
            ("2.0~abc123", "2.0", Equal),
            ("9", "10", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), Some(want), "{a} vs {b}");
            assert_eq!(compare(b, a), Some(want.reverse()), "{b} vs {a}");
        }
        assert_eq!(compare("1.0_foo", "1.0"), None);
        assert_eq!(compare("x.y", "1.0"), None);
    }
}
