//! PEP 440 versions (PyPI): `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the normalisations PEP 440 allows
//! (`alpha`/`beta`/`c`/`pre`/`preview`, `rev`/`r`/`-N` post-releases, `_`/`-` separators, implicit numbers).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    epoch: u64,
    release: Vec<u64>,
    /// (kind 0=a 1=b 2=rc, number)
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LocalPart {
    // Alphanumeric segments sort before numeric ones in local versions.
    Str(String),
    Num(u64),
}

/// Reads a run of digits at `s[*i..]`.
fn digits(s: &[u8], i: &mut usize) -> Option<u64> {
    let start = *i;
    while *i < s.len() && s[*i].is_ascii_digit() {
        *i += 1;
    }
    if start == *i {
        return None;
    }
    std::str::from_utf8(&s[start..*i]).ok()?.parse().ok()
}

fn skip_sep(s: &[u8], i: &mut usize) {
    if *i < s.len() && matches!(s[*i], b'.' | b'-' | b'_') {
        *i += 1;
    }
}

/// Matches one of `words` at `s[*i..]` (longest first), returning its index.
fn word(s: &[u8], i: &mut usize, words: &[&str]) -> Option<usize> {
    for (n, w) in words.iter().enumerate() {
        if s[*i..].starts_with(w.as_bytes()) {
            *i += w.len();
            return Some(n);
        }
    }
    None
}

impl Version {
    pub fn parse(input: &str) -> Option<Self> {
        let lower = input.trim().to_ascii_lowercase();
        let (main, local) = match lower.split_once('+') {
            Some((m, l)) => (m, Some(l)),
            None => (lower.as_str(), None),
        };
        let s = main.as_bytes();
        let mut i = 0;
        if s.first() == Some(&b'v') {
            i = 1;
        }
        let mut epoch = 0;
        let first = digits(s, &mut i)?;
        let mut release = vec![first];
        if s.get(i) == Some(&b'!') {
            epoch = first;
            i += 1;
            release = vec![digits(s, &mut i)?];
        }
        while s.get(i) == Some(&b'.') && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            release.push(digits(s, &mut i)?);
        }
        let mut v = Version {
            epoch,
            release,
            pre: None,
            post: None,
            dev: None,
            local: Vec::new(),
        };
        // Pre-release.
        let save = i;
        skip_sep(s, &mut i);
        const PRE: [&str; 8] = ["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"];
        if let Some(k) = word(s, &mut i, &PRE) {
            let kind = match PRE[k] {
                "alpha" | "a" => 0,
                "beta" | "b" => 1,
                _ => 2,
            };
            skip_sep(s, &mut i);
            v.pre = Some((kind, digits(s, &mut i).unwrap_or(0)));
        } else {
            i = save;
        }
        // Post-release: `.postN`, `-N`, `revN`, `rN`.
        let save = i;
        if s.get(i) == Some(&b'-') && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            v.post = digits(s, &mut i);
        } else {
            skip_sep(s, &mut i);
            if word(s, &mut i, &["post", "rev", "r"]).is_some() {
                skip_sep(s, &mut i);
                v.post = Some(digits(s, &mut i).unwrap_or(0));
            } else {
                i = save;
            }
        }
        // Development release.
        let save = i;
        skip_sep(s, &mut i);
        if word(s, &mut i, &["dev"]).is_some() {
            skip_sep(s, &mut i);
            v.dev = Some(digits(s, &mut i).unwrap_or(0));
        } else {
            i = save;
        }
        if i != s.len() {
            return None;
        }
        if let Some(l) = local {
            for part in l.split(['.', '-', '_']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                v.local.push(match part.parse() {
                    Ok(n) if part.bytes().all(|b| b.is_ascii_digit()) => LocalPart::Num(n),
                    _ => LocalPart::Str(part.to_string()),
                });
            }
        }
        Some(v)
    }

    /// The sort key of the pre/post/dev suffix, following PEP 440's ordering:
    /// `1.0.dev0 < 1.0a1.dev0 < 1.0a1 < 1.0a1.post1 < 1.0 < 1.0.post1.dev0 < 1.0.post1`.
    fn suffix_key(&self) -> (u8, u8, u64, u8, u64, u8, u64) {
        let (pre_rank, pre_kind, pre_num) = match (self.pre, self.post, self.dev) {
            (Some((kind, n)), _, _) => (1, kind, n),
            // A bare dev release sorts before any pre-release of the same release.
            (None, None, Some(_)) => (0, 0, 0),
            _ => (2, 0, 0),
        };
        let (post_rank, post_num) = self.post.map_or((0, 0), |n| (1, n));
        let (dev_rank, dev_num) = self.dev.map_or((1, 0), |n| (0, n));
        (pre_rank, pre_kind, pre_num, post_rank, post_num, dev_rank, dev_num)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| cmp_release(&self.release, &other.release))
            .then_with(|| self.suffix_key().cmp(&other.suffix_key()))
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Release segments compare with trailing zeros ignored (`1.0 == 1.0.0`).
fn cmp_release(a: &[u64], b: &[u64]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| a.get(i).copied().unwrap_or(0).cmp(&b.get(i).copied().unwrap_or(0)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::Version;
    use std::cmp::Ordering::*;

    fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
        let pa = Version::parse(a).unwrap_or_else(|| panic!("parse {a}"));
        let pb = Version::parse(b).unwrap_or_else(|| panic!("parse {b}"));
        pa.cmp(&pb)
    }

    #[test]
    fn pep440_example_ordering() {
        // The ordering example from PEP 440's "Summary of permitted suffixes and relative ordering".
        let chain = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for w in chain.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
            assert_eq!(cmp(w[1], w[0]), Greater, "{} > {}", w[1], w[0]);
        }
    }

    #[test]
    fn normalisation_and_epochs() {
        assert_eq!(cmp("1.0", "1.0.0"), Equal);
        assert_eq!(cmp("1.0alpha1", "1.0a1"), Equal);
        assert_eq!(cmp("1.0-beta.2", "1.0b2"), Equal);
        assert_eq!(cmp("1.0c1", "1.0rc1"), Equal);
        assert_eq!(cmp("1.0-1", "1.0.post1"), Equal);
        assert_eq!(cmp("1.0rev1", "1.0.post1"), Equal);
        assert_eq!(cmp("1.0.DEV", "1.0.dev0"), Equal);
        assert_eq!(cmp("v2.0", "2.0"), Equal);
        assert_eq!(cmp("1!1.0", "2.0"), Greater);
        assert_eq!(cmp("2.10", "2.9"), Greater);
        assert!(Version::parse("1.0-foo").is_none());
        assert!(Version::parse("not a version").is_none());
        assert!(Version::parse("1.0+").is_none());
    }
}
