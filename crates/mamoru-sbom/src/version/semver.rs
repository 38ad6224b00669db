//! Semantic versions (crates.io, npm, OSV `SEMVER` ranges) and Go module versions (`v` prefix, `+incompatible`,
//! pseudo-versions, which are ordinary semver pre-releases and so order correctly without special cases).

use std::cmp::Ordering;

/// One pre-release identifier: numeric identifiers sort before alphanumeric ones.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(u64),
    Alnum(String),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
            (Ident::Num(_), Ident::Alnum(_)) => Ordering::Less,
            (Ident::Alnum(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alnum(a), Ident::Alnum(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed version; build metadata is dropped because it never takes part in ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    core: [u64; 3],
    pre: Vec<Ident>,
}

impl Version {
    /// Parses `MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`; missing minor/patch count as 0 (lenient, as OSV data and
    /// lock files contain `1.2`). A leading `=` or `v` is accepted.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_start_matches('=');
        let s = s.strip_prefix('v').unwrap_or(s);
        let s = s.split_once('+').map_or(s, |(v, _build)| v);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut nums = [0u64; 3];
        for (i, part) in core.split('.').enumerate() {
            if i == 3 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            nums[i] = part.parse().ok()?;
        }
        let pre = match pre {
            None => Vec::new(),
            Some("") => return None,
            Some(p) => p
                .split('.')
                .map(|id| match id.parse::<u64>() {
                    Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Ident::Num(n),
                    _ => Ident::Alnum(id.to_string()),
                })
                .collect(),
        };
        Some(Version { core: nums, pre })
    }

    /// Parses a Go module version: `v1.2.3`, `v2.0.0+incompatible`, `v0.0.0-20200124225646-8b5121be2f68`; Go's
    /// toolchain/stdlib versions (`1.21`, `go1.21.3`, `1.21rc2`) are accepted too.
    pub fn parse_go(s: &str) -> Option<Self> {
        let s = s.trim();
        let s = s.strip_prefix("go").unwrap_or(s);
        if let Some(v) = Self::parse(s) {
            return Some(v);
        }
        // Go toolchain pre-releases are written `1.21rc2` / `1.21beta1`: normalise to `1.21.0-rc.2`.
        let s = s.strip_prefix('v').unwrap_or(s);
        let cut = s.find(|c: char| c.is_ascii_alphabetic())?;
        let (core, tag) = s.split_at(cut);
        let num_at = tag.find(|c: char| c.is_ascii_digit()).unwrap_or(tag.len());
        let (word, n) = tag.split_at(num_at);
        let mut v = Self::parse(core)?;
        v.pre = vec![Ident::Alnum(word.to_string())];
        if !n.is_empty() {
            v.pre.push(Ident::Num(n.parse().ok()?));
        }
        Some(v)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                // A pre-release sorts before its release.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::Version;
    use std::cmp::Ordering::*;

    fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
        Version::parse_go(a).unwrap().cmp(&Version::parse_go(b).unwrap())
    }

    #[test]
    fn semver_spec_precedence() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        for w in chain.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
            assert_eq!(cmp(w[1], w[0]), Greater);
        }
    }

    #[test]
    fn build_metadata_and_lenient_forms() {
        assert_eq!(cmp("1.0.0+build.1", "1.0.0+build.2"), Equal);
        assert_eq!(cmp("1.2", "1.2.0"), Equal);
        assert_eq!(cmp("0.0.0-0", "0.0.0"), Less);
        assert_eq!(cmp("0.0.0-0", "0.0.0-alpha"), Less);
        assert!(Version::parse("1.2.3.4").is_none());
        assert!(Version::parse("1.x").is_none());
        assert!(Version::parse("").is_none());
        assert!(Version::parse("1.0.0-").is_none());
    }

    #[test]
    fn go_versions() {
        assert_eq!(cmp("v1.2.3", "1.2.3"), Equal);
        assert_eq!(cmp("v2.0.0+incompatible", "v2.0.0"), Equal);
        assert_eq!(cmp("v2.0.0+incompatible", "v1.9.9"), Greater);
        // Pseudo-versions sort by timestamp, before the next release.
        assert_eq!(
            cmp(
                "v0.0.0-20200124225646-8b5121be2f68",
                "v0.0.0-20200122000000-aaaaaaaaaaaa"
            ),
            Greater
        );
        assert_eq!(cmp("v0.0.0-20200124225646-8b5121be2f68", "v0.0.1"), Less);
        assert_eq!(cmp("v1.2.4-0.20200101000000-abcdefabcdef", "v1.2.3"), Greater);
        assert_eq!(cmp("v1.2.4-0.20200101000000-abcdefabcdef", "v1.2.4"), Less);
        assert_eq!(cmp("go1.21.3", "1.21.3"), Equal);
        assert_eq!(cmp("1.21rc2", "1.21.0"), Less);
        assert_eq!(cmp("1.21rc2", "1.21rc10"), Less);
        assert_eq!(cmp("1.13.0-0", "1.12.16"), Greater);
    }
}
