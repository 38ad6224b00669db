//! Matching packages against the OSV database.

use crate::db::Database;
use crate::osv;
use crate::package::Package;
use serde::Serialize;

/// One vulnerable package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnFinding {
    /// OSV id (`PYSEC-…`, `RUSTSEC-…`, `GO-…`, `GHSA-…`).
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity word (`LOW`…`CRITICAL`) from the record, when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// CVSS vectors from the record.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<String>,
    pub package: Package,
    /// First fixed version of the matching range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// Why the version matched (range or listed version).
    pub why: String,
    /// Set when a VEX statement suppresses this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<crate::vex::Suppression>,
}

impl VulnFinding {
    /// The id and its aliases: the names a VEX statement may use.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Every (package, advisory) pair where the package's version is affected, ordered by package then id.
pub fn match_vulns(db: &Database, packages: &[Package]) -> Vec<VulnFinding> {
    let mut out = Vec::new();
    for pkg in packages {
        for record in db.candidates(pkg) {
            let hit = record
                .affected
                .iter()
                .filter(|a| osv::names_package(a, pkg))
                .find_map(|a| osv::affects(a, pkg.ecosystem, &pkg.version));
            if let Some(reason) = hit {
                out.push(VulnFinding {
                    id: record.id.clone(),
                    aliases: record.aliases.clone(),
                    summary: record.summary.clone(),
                    severity: record.database_severity.as_ref().map(|s| s.to_ascii_uppercase()),
                    cvss: record.severity.iter().map(|s| s.score.clone()).collect(),
                    package: pkg.clone(),
                    fixed_version: reason.fixed,
                    why: reason.detail,
                    suppressed: None,
                });
            }
        }
    }
    out
}
