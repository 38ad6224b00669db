//! What loading rules files produces: the rules, with macros resolved and lists substituted, ready for the engine
//! to compile against a source's field catalogue; and the diagnostics, classified as Falco classifies them.

use crate::ast::Expr;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Rule priorities, most severe first (Falco's numeric order: EMERGENCY = 0 ... DEBUG = 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    /// Parses a priority case-insensitively (`info` is accepted for Informational).
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The capitalised name Falco prints in alerts (`Warning`, `Informational`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

/// Where an item or a problem is: file, 1-based line and column, the item's kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
    /// `rule`, `macro`, `list`, `required_engine_version`, ... (empty for file-level problems).
    pub item_type: String,
    pub item_name: String,
}

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One error or warning, with Falco's code (`LOAD_ERR_YAML_PARSE`, `LOAD_UNUSED_MACRO`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub location: Location,
    /// The offending text (a line of the file or of the condition), for a caret display; may be empty.
    pub snippet: String,
}

/// One rule, ready to compile. `condition` has every macro inlined and every list substituted, exceptions appended
/// (`(cond) and not (...)`), so it contains no `Expr::Macro` unless a macro was undefined (already reported).
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub name: String,
    pub desc: String,
    /// The final condition text (after appends, list substitution and exceptions) as Falco would compile it.
    pub condition_text: String,
    pub condition: Expr,
    /// Output format, trimmed.
    pub output: String,
    pub priority: Priority,
    pub source: String,
    pub tags: BTreeSet<String>,
    pub enabled: bool,
    pub warn_evttypes: bool,
    pub skip_if_unknown_filter: bool,
    pub capture: bool,
    pub capture_duration_ms: u64,
    pub exception_fields: BTreeSet<String>,
    /// Where the rule was first defined (its evaluation-order position is its index in [`LoadedRules::rules`]).
    pub location: Location,
    /// Where the condition text starts in the file (line/col of the `condition:` value), to map parse positions.
    pub condition_location: Location,
}

/// A plugin requirement (`required_plugin_versions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRequirement {
    pub name: String,
    pub version: String,
    pub alternatives: Vec<(String, String)>,
}

/// Everything loaded from one or more rules files, in load order.
#[derive(Debug, Clone, Default)]
pub struct LoadedRules {
    /// Rules in evaluation order (order of first definition), including disabled ones.
    pub rules: Vec<RuleDef>,
    /// Macro names with their source location (for `rules list`), in definition order.
    pub macros: Vec<(String, Location)>,
    /// List names with their items, in definition order.
    pub lists: Vec<(String, Vec<String>, Location)>,
    /// For each macro (parallel to `macros`), the sources of the rules that use it, directly or through other macros.
    pub macro_sources: Vec<BTreeSet<String>>,
    /// For each list (parallel to `lists`), the sources of the rules that use it, directly or through macros.
    pub list_sources: Vec<BTreeSet<String>>,
    pub required_engine_version: Option<String>,
    pub required_plugin_versions: Vec<PluginRequirement>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedRules {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}
