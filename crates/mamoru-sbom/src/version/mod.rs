//! Version comparison with each ecosystem's own rules. OSV ranges are only evaluated with the comparator of the
//! record's ecosystem; there is no generic fallback that could silently order versions wrongly.

pub mod apk;
pub mod dpkg;
pub mod pep440;
pub mod semver;

use crate::package::Ecosystem;
use std::cmp::Ordering;

/// Compares two versions under the ordering of `ecosystem`, or `None` when either does not parse or the ecosystem
/// has no comparator here (Maven, RPM: matched by explicit `versions` lists only).
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    match ecosystem {
        Ecosystem::Debian => Some(dpkg::compare(a, b)),
        Ecosystem::Alpine => apk::compare(a, b),
        Ecosystem::PyPI => Some(pep440::Version::parse(a)?.cmp(&pep440::Version::parse(b)?)),
        Ecosystem::CratesIo | Ecosystem::Npm => Some(semver::Version::parse(a)?.cmp(&semver::Version::parse(b)?)),
        Ecosystem::Go => Some(semver::Version::parse_go(a)?.cmp(&semver::Version::parse_go(b)?)),
        Ecosystem::Maven | Ecosystem::Rpm => None,
    }
}

/// Compares under the semver rules OSV's `SEMVER` range type prescribes (a leading `v` is tolerated, as Go uses it).
pub fn compare_semver(a: &str, b: &str) -> Option<Ordering> {
    Some(semver::Version::parse_go(a)?.cmp(&semver::Version::parse_go(b)?))
}
