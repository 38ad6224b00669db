//! Loading rules files and compiling them for every source mamoru knows.

use mamoru_engine::{EngineConfig, SourceRuleset};
use mamoru_fields::json::{catalog_for, JsonSource, JSON_SOURCES};
use mamoru_fields::syscall::{Syscall, SyscallCatalog};
use mamoru_fields::Catalog;
use mamoru_rules::{load_files, load_sources, Diagnostic, LoadOptions, LoadedRules, Severity};
use std::path::PathBuf;
use std::sync::Arc;

/// The rules bundled in the binary, loaded when no `-r` is given: Falco's stable ruleset, mamoru's own rules (which
/// build on it), the Kubernetes audit and CloudTrail plugin rules, and mamoru's Okta, GitHub and GCP audit rules
/// (see rules/SOURCE.md).
pub const BUNDLED_RULES: &[(&str, &str)] = &[
    (
        "<bundled>/falco_rules.yaml",
        include_str!("../../../rules/falco_rules.yaml"),
    ),
    (
        "<bundled>/mamoru_rules.yaml",
        include_str!("../../../rules/mamoru_rules.yaml"),
    ),
    (
        "<bundled>/k8s_audit_rules.yaml",
        include_str!("../../../rules/k8s_audit_rules.yaml"),
    ),
    (
        "<bundled>/aws_cloudtrail_rules.yaml",
        include_str!("../../../rules/aws_cloudtrail_rules.yaml"),
    ),
    (
        "<bundled>/okta_rules.yaml",
        include_str!("../../../rules/okta_rules.yaml"),
    ),
    (
        "<bundled>/github_rules.yaml",
        include_str!("../../../rules/github_rules.yaml"),
    ),
    (
        "<bundled>/gcp_auditlog_rules.yaml",
        include_str!("../../../rules/gcp_auditlog_rules.yaml"),
    ),
];

/// Every source a rule may name.
pub fn known_sources() -> Vec<String> {
    std::iter::once("syscall")
        .chain(JSON_SOURCES.iter().copied())
        .map(String::from)
        .collect()
}

/// The syscall catalogue, shared.
pub fn syscall_catalog() -> Arc<dyn Catalog<Syscall>> {
    Arc::new(SyscallCatalog::new())
}

/// The catalogue of a JSON source (`k8s_audit`, `aws_cloudtrail`, ...).
pub fn json_catalog(source: &str) -> Option<Arc<dyn Catalog<JsonSource>>> {
    catalog_for(source).map(|c| Arc::new(c) as Arc<dyn Catalog<JsonSource>>)
}

/// Rules loaded and compiled for every source.
pub struct Rulesets {
    pub loaded: LoadedRules,
    pub syscall: SourceRuleset<Syscall>,
    pub json: Vec<SourceRuleset<JsonSource>>,
    /// Loader diagnostics followed by compiler diagnostics, in order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Rulesets {
    /// Loads `files` in order (or the bundled rules when `files` is empty) and compiles them.
    pub fn load(files: &[PathBuf], cfg: &EngineConfig) -> Rulesets {
        Self::load_with(files, cfg, syscall_catalog())
    }

    /// As [`Rulesets::load`], with the syscall rules bound to `syscall` (e.g. a catalogue with the Kubernetes API
    /// enrichment, [`SyscallCatalog::with_k8s_api`]).
    pub fn load_with(files: &[PathBuf], cfg: &EngineConfig, syscall: Arc<dyn Catalog<Syscall>>) -> Rulesets {
        let opts = LoadOptions::with_sources(known_sources());
        let loaded = if files.is_empty() {
            load_sources(BUNDLED_RULES, &opts)
        } else {
            load_files(files, &opts)
        };
        Self::compile_with(loaded, cfg, syscall)
    }

    /// Compiles loaded rules for every source. Compilation is skipped when loading failed (as Falco stops at the
    /// first load error), so the diagnostics then hold only the loader's.
    pub fn compile(loaded: LoadedRules, cfg: &EngineConfig) -> Rulesets {
        Self::compile_with(loaded, cfg, syscall_catalog())
    }

    /// As [`Rulesets::compile`], with the syscall rules bound to `syscall`.
    pub fn compile_with(loaded: LoadedRules, cfg: &EngineConfig, syscall: Arc<dyn Catalog<Syscall>>) -> Rulesets {
        let mut diagnostics = loaded.diagnostics.clone();
        let empty = LoadedRules::default();
        let input = if loaded.has_errors() { &empty } else { &loaded };
        let (syscall, d) = SourceRuleset::compile(input, syscall, cfg);
        diagnostics.extend(d);
        let mut json = Vec::new();
        for source in JSON_SOURCES {
            if let Some(catalog) = json_catalog(source) {
                let (rs, d) = SourceRuleset::compile(input, catalog, cfg);
                diagnostics.extend(d);
                json.push(rs);
            }
        }
        Rulesets {
            loaded,
            syscall,
            json,
            diagnostics,
        }
    }

    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// The compiled ruleset of a JSON source.
    pub fn json_ruleset(&self, source: &str) -> Option<&SourceRuleset<JsonSource>> {
        self.json.iter().find(|r| r.source_name() == source)
    }
}
