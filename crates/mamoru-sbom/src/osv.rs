//! OSV records (the subset matching needs) and the range evaluation of the OSV schema: `introduced`, `fixed`,
//! `last_affected` and `limit` events over `ECOSYSTEM` and `SEMVER` ranges, plus explicit `versions` lists.
//! `GIT` ranges name commits, which installed packages do not carry, and are ignored.

use crate::package::{Ecosystem, Package};
use crate::version;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Severity word from GHSA-derived `database_specific.severity`, kept when present.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "database_severity")]
    pub database_severity: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Severity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Affected {
    pub package: AffectedPackage,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AffectedPackage {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Event {
    fn version(&self) -> Option<&str> {
        self.introduced
            .as_deref()
            .or(self.fixed.as_deref())
            .or(self.last_affected.as_deref())
            .or(self.limit.as_deref())
    }
}

/// Parses one OSV JSON document, keeping what matching needs (`database_specific.severity` is lifted).
pub fn parse_record(value: serde_json::Value) -> Result<Record, serde_json::Error> {
    let db_sev = value
        .get("database_specific")
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .map(str::to_string);
    let mut rec: Record = serde_json::from_value(value)?;
    rec.database_severity = db_sev;
    Ok(rec)
}

/// Why a package version is affected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchReason {
    /// e.g. `introduced 0, fixed 2.10.1` or `listed version`.
    pub detail: String,
    /// The first fixed version of the matching range, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
}

/// Whether `affected` names `pkg` (ecosystem, optional distro release, normalised name).
pub fn names_package(affected: &Affected, pkg: &Package) -> bool {
    let Some((eco, release)) = Ecosystem::from_osv(&affected.package.ecosystem) else {
        return false;
    };
    if eco != pkg.ecosystem {
        return false;
    }
    if let (Some(release), Some(ours)) = (release, pkg.distro_release.as_deref()) {
        if !same_release(eco, release, ours) {
            return false;
        }
    }
    let wanted = eco.normalize_name(&affected.package.name);
    let ours = eco.normalize_name(&pkg.name);
    if wanted == ours {
        return true;
    }
    // Distro advisories are keyed by source package.
    pkg.source_name
        .as_deref()
        .is_some_and(|s| eco.normalize_name(s) == wanted)
}

/// `Debian:12` vs VERSION_ID `12`; `Alpine:v3.18` vs `3.18.4`.
fn same_release(eco: Ecosystem, osv_release: &str, version_id: &str) -> bool {
    let osv = osv_release.trim_start_matches('v');
    let ours: Vec<&str> = version_id.split('.').collect();
    let want: Vec<&str> = osv.split('.').collect();
    let n = match eco {
        Ecosystem::Alpine => 2,
        _ => 1,
    };
    ours.iter().take(n).eq(want.iter().take(n))
}

/// Checks a package version against one `affected` entry.
pub fn affects(affected: &Affected, eco: Ecosystem, ver: &str) -> Option<MatchReason> {
    for listed in &affected.versions {
        let equal = match version::compare(eco, listed, ver) {
            Some(o) => o == Ordering::Equal,
            None => listed == ver,
        };
        if equal {
            return Some(MatchReason {
                detail: format!("version {listed} is listed as affected"),
                fixed: None,
            });
        }
    }
    for range in &affected.ranges {
        let cmp = |a: &str, b: &str| match range.kind.as_str() {
            "SEMVER" => version::compare_semver(a, b),
            "ECOSYSTEM" => version::compare(eco, a, b),
            _ => None,
        };
        if let Some(reason) = in_range(range, ver, &cmp) {
            return Some(reason);
        }
    }
    None
}

/// The OSV evaluation: events sorted by version, walking up to the package version; `limit` events bound the range.
fn in_range(range: &Range, ver: &str, cmp: &dyn Fn(&str, &str) -> Option<Ordering>) -> Option<MatchReason> {
    // "0" means "since the beginning"; it is below every version.
    let event_cmp = |a: &str, b: &str| -> Option<Ordering> {
        match (a == "0", b == "0") {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            _ => cmp(a, b),
        }
    };
    // Every event version must parse under this range's ordering, or the range cannot be evaluated.
    let mut events: Vec<&Event> = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let v = e.version()?;
        if v != "0" {
            cmp(v, v)?;
        }
        events.push(e);
    }
    cmp(ver, ver)?;
    events.sort_by(|a, b| event_cmp(a.version().unwrap_or("0"), b.version().unwrap_or("0")).unwrap_or(Ordering::Equal));
    let limits: Vec<&str> = events.iter().filter_map(|e| e.limit.as_deref()).collect();
    if !limits.is_empty() && !limits.iter().any(|l| event_cmp(ver, l) == Some(Ordering::Less)) {
        return None;
    }
    let mut affected: Option<(String, Option<String>)> = None;
    for (i, e) in events.iter().enumerate() {
        if let Some(intro) = e.introduced.as_deref() {
            if event_cmp(ver, intro)? != Ordering::Less {
                // The range closes at the next fixed/last_affected event, if any.
                let closing = events[i + 1..]
                    .iter()
                    .find_map(|n| n.fixed.clone().or(n.last_affected.clone()));
                affected = Some((intro.to_string(), closing));
            }
        } else if let Some(fixed) = e.fixed.as_deref() {
            if event_cmp(ver, fixed)? != Ordering::Less {
                affected = None;
            }
        } else if let Some(last) = e.last_affected.as_deref() {
            if event_cmp(ver, last)? == Ordering::Greater {
                affected = None;
            }
        }
    }
    let (intro, closing) = affected?;
    let fixed = closing.filter(|c| range.events.iter().any(|e| e.fixed.as_deref() == Some(c)));
    let detail = match (&fixed, range.events.iter().any(|e| e.last_affected.is_some())) {
        (Some(f), _) => format!("{} range: introduced {intro}, fixed {f}", range.kind),
        (None, true) => format!("{} range: introduced {intro}, up to last_affected", range.kind),
        (None, false) => format!("{} range: introduced {intro}, no fix", range.kind),
    };
    Some(MatchReason { detail, fixed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(kind: &str, events: &[(&str, &str)]) -> Affected {
        let events = events
            .iter()
            .map(|(k, v)| {
                let mut e = Event::default();
                let v = Some(v.to_string());
                match *k {
                    "introduced" => e.introduced = v,
                    "fixed" => e.fixed = v,
                    "last_affected" => e.last_affected = v,
                    _ => e.limit = v,
                }
                e
            })
            .collect();
        Affected {
            package: AffectedPackage {
                ecosystem: "PyPI".into(),
                name: "x".into(),
            },
            ranges: vec![Range {
                kind: kind.into(),
                events,
            }],
            versions: vec![],
        }
    }

    #[test]
    fn ranges() {
        let a = range(
            "ECOSYSTEM",
            &[
                ("introduced", "0"),
                ("fixed", "2.10.1"),
                ("introduced", "2.11"),
                ("fixed", "2.11.3"),
            ],
        );
        let hit = |v: &str| affects(&a, Ecosystem::PyPI, v).is_some();
        assert!(hit("2.10"));
        assert!(hit("2.10.1rc1"));
        assert!(!hit("2.10.1"));
        assert!(!hit("2.10.5"));
        assert!(hit("2.11.0"));
        assert!(!hit("2.11.3"));
        assert!(!hit("3.0"));
        assert_eq!(
            affects(&a, Ecosystem::PyPI, "2.11.1").and_then(|r| r.fixed).as_deref(),
            Some("2.11.3")
        );

        let la = range("SEMVER", &[("introduced", "1.0.0"), ("last_affected", "1.4.2")]);
        assert!(affects(&la, Ecosystem::CratesIo, "1.4.2").is_some());
        assert!(affects(&la, Ecosystem::CratesIo, "1.4.3").is_none());
        assert!(affects(&la, Ecosystem::CratesIo, "0.9.0").is_none());

        let lim = range("SEMVER", &[("introduced", "0"), ("limit", "2.0.0")]);
        assert!(affects(&lim, Ecosystem::Go, "v1.9.0").is_some());
        assert!(affects(&lim, Ecosystem::Go, "v2.0.0").is_none());

        // An unparsable version never matches a range (no guessing).
        assert!(affects(&a, Ecosystem::PyPI, "garbage").is_none());
        // Unknown range types are ignored.
        assert!(affects(&range("GIT", &[("introduced", "abc")]), Ecosystem::PyPI, "1.0").is_none());
    }

    #[test]
    fn explicit_versions_use_ecosystem_equality() {
        let mut a = range("GIT", &[]);
        a.versions = vec!["1.0".into()];
        assert!(affects(&a, Ecosystem::PyPI, "1.0.0").is_some());
        assert!(affects(&a, Ecosystem::PyPI, "1.0.1").is_none());
    }

    #[test]
    fn names_and_releases() {
        let mut pkg = Package::new(
            Ecosystem::Debian,
            "libssl3",
            "3.0.11-1~deb12u2",
            "var/lib/dpkg/status",
            None,
        );
        pkg.source_name = Some("openssl".into());
        pkg.distro_release = Some("12".into());
        let aff = |eco: &str, name: &str| Affected {
            package: AffectedPackage {
                ecosystem: eco.into(),
                name: name.into(),
            },
            ranges: vec![],
            versions: vec![],
        };
        assert!(names_package(&aff("Debian:12", "openssl"), &pkg));
        assert!(!names_package(&aff("Debian:11", "openssl"), &pkg));
        assert!(names_package(&aff("Debian", "libssl3"), &pkg));
        let py = Package::new(Ecosystem::PyPI, "PyYAML", "5.3", "m", None);
        assert!(names_package(&aff("PyPI", "pyyaml"), &py));
        assert!(!names_package(&aff("npm", "pyyaml"), &py));
    }
}
