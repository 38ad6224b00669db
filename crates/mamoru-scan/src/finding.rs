//! Findings and reports: the common currency of every analyzer and output format.

use serde::{Deserialize, Serialize};

/// How bad a finding is, ordered (`Info` < `Critical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?} (info, low, medium, high, critical)"
            )),
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which analyzer family produced a finding. Later analyzers (packages, vulnerabilities) add variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A hostile or broken archive construct (traversal, bombs, device files...).
    Guard,
    /// A YARA rule matched.
    Malware,
    /// A file hash is on an IOC list.
    Ioc,
    /// Cryptominer heuristics (configs, pools, known binaries, fetch-and-run scripts).
    Miner,
    /// The image name imitates an official or trusted image.
    LookAlike,
    /// Risky image configuration.
    Config,
    /// A credential or private key.
    Secret,
    /// A vulnerable package (reserved for the vulnerability analyzer).
    Vulnerability,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Guard => "guard",
            Category::Malware => "malware",
            Category::Ioc => "ioc",
            Category::Miner => "miner",
            Category::LookAlike => "look-alike",
            Category::Config => "config",
            Category::Secret => "secret",
            Category::Vulnerability => "vulnerability",
        }
    }
}

/// Where a finding was made. Every field is optional because findings come from files, layers, image
/// metadata, or git history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Index of the layer (0 = base) that ships the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
    /// Path inside the image, the scanned directory, or the repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line number in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Git commit, for repository history scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Image metadata field (`config.Env[3]`, `history[2].created_by`, `reference`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Location {
    pub fn in_file(path: impl Into<String>) -> Self {
        Location {
            path: Some(path.into()),
            ..Location::default()
        }
    }

    pub fn in_field(field: impl Into<String>) -> Self {
        Location {
            field: Some(field.into()),
            ..Location::default()
        }
    }

    /// One-line rendering: `layer 2 (sha256:abcd…) opt/x/config.json:3`.
    pub fn display(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = self.layer {
            let short = self
                .layer_digest
                .as_deref()
                .map(|d| format!(" ({})", short_digest(d)))
                .unwrap_or_default();
            parts.push(format!("layer {l}{short}"));
        }
        if let Some(c) = &self.commit {
            parts.push(format!("commit {}", &c[..c.len().min(12)]));
        }
        if let Some(p) = &self.path {
            match self.line {
                Some(line) => parts.push(format!("{p}:{line}")),
                None => parts.push(p.clone()),
            }
        }
        if let Some(f) = &self.field {
            parts.push(f.clone());
        }
        parts.join(" ")
    }
}

/// `sha256:0123456789ab`.
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", &hex[..hex.len().min(12)]),
        None => d.to_string(),
    }
}

/// One finding: what rule fired where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    pub severity: Severity,
    /// Stable rule id, prefixed by its family: `yara:Linux_Cryptominer_Xmrig_...`, `gitleaks:aws-access-token`,
    /// `miner:stratum-url`, `guard:path-traversal`, `config:root-user`, `look-alike:namespace`.
    pub rule: String,
    /// Short headline.
    pub title: String,
    /// Why this fired, in words a reader can check.
    pub why: String,
    pub location: Location,
    /// Matched text (redacted for secrets unless asked otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// For files in image layers: whether the final (merged) image still shows this layer's file. `false` means
    /// a later layer deleted or replaced it, yet the layer still ships it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_final_image: Option<bool>,
}

impl Finding {
    pub fn new(
        category: Category,
        severity: Severity,
        rule: impl Into<String>,
        title: impl Into<String>,
        why: impl Into<String>,
        location: Location,
    ) -> Self {
        Finding {
            category,
            severity,
            rule: rule.into(),
            title: title.into(),
            why: why.into(),
            location,
            evidence: None,
            in_final_image: None,
        }
    }

    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }
}

/// One layer in a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerReport {
    pub index: usize,
    pub digest: String,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub entries: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The walk stopped early (see the guard findings).
    pub truncated: bool,
}

/// The scanned image, for reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageReport {
    pub names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    pub config_digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub layers: Vec<LayerReport>,
    /// Paths in the final merged filesystem.
    pub final_entries: usize,
}

/// Counters of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    pub files_seen: u64,
    pub files_analyzed: u64,
    pub bytes_analyzed: u64,
}

/// Everything a scan produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `image`, `fs` or `repo`.
    pub kind: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageReport>,
    pub findings: Vec<Finding>,
    pub stats: ScanStats,
}

impl Report {
    /// Findings at or above `threshold`.
    pub fn count_at_least(&self, threshold: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity >= threshold).count()
    }

    /// Sorts findings worst first, then by place, and drops exact duplicates.
    pub fn normalize(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.location.layer.cmp(&b.location.layer))
                .then_with(|| a.location.path.cmp(&b.location.path))
                .then_with(|| a.location.commit.cmp(&b.location.commit))
                .then_with(|| a.location.field.cmp(&b.location.field))
                .then_with(|| a.location.line.cmp(&b.location.line))
                .then_with(|| a.rule.cmp(&b.rule))
        });
        self.findings.dedup();
    }
}
