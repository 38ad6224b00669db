//! Packages and vulnerabilities in the scan: a [`FileAnalyzer`] that hands package databases and manifests to
//! mamoru-sbom's collector during the layer walk, keeps the packages the final image still shows (the merged view),
//! matches them against the local OSV database, and applies VEX statements. The package list also feeds the
//! CycloneDX and SPDX outputs.

use crate::analyzer::{FileAnalyzer, FileRef, FileWorker, Origin};
use crate::finding::{Category, Finding, Location, Severity};
use mamoru_oci::MergedView;
use mamoru_sbom::{match_vulns, Database, Package, PackageCollector, Vex, VulnFinding};
use std::sync::Mutex;

/// Collects packages and, with a database, reports their known vulnerabilities.
pub struct PackagesAnalyzer {
    collector: PackageCollector,
    db: Option<Database>,
    vex: Vex,
    /// Names VEX statements may use for the scanned product (the target, the image digest).
    subjects: Vec<String>,
    packages: Mutex<Vec<Package>>,
}

impl PackagesAnalyzer {
    pub fn new(db: Option<Database>, vex: Vex, subjects: Vec<String>) -> Self {
        PackagesAnalyzer {
            collector: PackageCollector::new(),
            db,
            vex,
            subjects,
            packages: Mutex::new(Vec::new()),
        }
    }

    /// The packages found (after the scan finished).
    pub fn packages(&self) -> Vec<Package> {
        self.packages.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

struct CollectWorker<'a>(&'a PackageCollector);

impl FileWorker for CollectWorker<'_> {
    fn analyze(&mut self, file: &FileRef, content: &[u8], _out: &mut Vec<Finding>) {
        let layer = match &file.origin {
            Origin::Layer { index, .. } => Some(*index),
            Origin::Filesystem | Origin::Commit { .. } => None,
        };
        self.0.add_file(&file.path, file.mode, layer, content);
    }
}

impl FileAnalyzer for PackagesAnalyzer {
    fn name(&self) -> &'static str {
        "packages"
    }

    fn wants(&self, file: &FileRef) -> bool {
        self.collector.wants(&file.path, file.mode).is_some()
    }

    fn worker(&self) -> Box<dyn FileWorker + '_> {
        Box::new(CollectWorker(&self.collector))
    }

    fn finish(&self, merged: Option<&MergedView>, out: &mut Vec<Finding>) {
        // Inventory describes the final image: a package database a later layer replaced is not installed.
        let visible = |path: &str, layer: Option<usize>| match (merged, layer) {
            (Some(m), Some(l)) => m.is_visible(path.trim_start_matches('/'), l),
            _ => true,
        };
        let packages = self.collector.finish(&visible);
        if let Some(db) = &self.db {
            let mut vulns = match_vulns(db, &packages);
            self.vex.apply(&mut vulns, &self.subjects);
            out.extend(vulns.iter().map(vuln_finding));
        }
        *self.packages.lock().unwrap_or_else(|e| e.into_inner()) = packages;
    }
}

/// OSV's severity word as a finding severity; records without one are reported as medium and say so.
fn severity_of(v: &VulnFinding) -> (Severity, bool) {
    match v.severity.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("CRITICAL") => (Severity::Critical, true),
        Some("HIGH") => (Severity::High, true),
        Some("MODERATE") | Some("MEDIUM") => (Severity::Medium, true),
        Some("LOW") => (Severity::Low, true),
        _ => (Severity::Medium, false),
    }
}

fn vuln_finding(v: &VulnFinding) -> Finding {
    let (mut severity, known) = severity_of(v);
    let p = &v.package;
    let mut why = format!("{} {} {}: {}", p.ecosystem.osv_name(), p.name, p.version, v.why);
    if let Some(fixed) = &v.fixed_version {
        why.push_str(&format!("; fixed in {fixed}"));
    }
    if !known {
        why.push_str("; the advisory gives no severity (reported as medium)");
    }
    let mut location = Location::in_file(p.path.clone());
    location.layer = p.layer;
    let title = v
        .summary
        .clone()
        .unwrap_or_else(|| format!("{} in {} {}", v.id, p.name, p.version));
    let mut f = Finding::new(
        Category::Vulnerability,
        severity,
        format!("osv:{}", v.id),
        title,
        why,
        location,
    );
    if let Some(s) = &v.suppressed {
        // Kept in the report with the reason, below any --fail-on threshold.
        severity = Severity::Info;
        f.severity = severity;
        f.evidence = Some(format!(
            "suppressed by VEX ({}): status {}{}{}",
            s.document,
            s.status,
            s.justification.as_deref().map(|j| format!(", {j}")).unwrap_or_default(),
            s.statement.as_deref().map(|t| format!(": {t}")).unwrap_or_default(),
        ));
    }
    f
}
