//! Falco's rules language, loaded exactly as Falco loads it.
//!
//! [`load_files`] (or [`load_str`], [`load_sources`]) reads YAML rules files in order into one namespace of lists,
//! macros and rules, applies redefinitions, `append` and `override`, substitutes lists into conditions (textually,
//! like Falco), parses the conditions ([`parse_condition`], Falco's grammar and error texts), inlines macros
//! (honouring definition order, detecting reference loops) and compiles exceptions into the conditions. The result,
//! [`LoadedRules`], holds one [`RuleDef`] per rule whose source is known, with its fully expanded condition
//! [`ast::Expr`], ready for the engine to type-check against a source's field catalogue; and every warning and error
//! as a [`Diagnostic`] with Falco's code, the file, line and column, and the item it concerns. Loading stops at the
//! first error, as Falco does; warnings found before it are kept. Checking that fields exist and operators fit their
//! types is the engine's job, not this crate's.
//!
//! ```
//! use mamoru_rules::{load_str, LoadOptions};
//! let yaml = "- macro: sh\n  condition: proc.name = sh\n- rule: r\n  desc: d\n  condition: evt.type = execve and sh\n  output: o\n  priority: INFO\n";
//! let loaded = load_str("rules.yaml", yaml, &LoadOptions::default());
//! assert!(!loaded.has_errors());
//! assert_eq!(loaded.rules[0].condition.to_string(), "(evt.type = execve and proc.name = sh)");
//! ```

pub mod ast;
pub mod loaded;

mod collector;
mod compiler;
mod diag;
mod display;
mod parser;
mod reader;
mod source;
mod yaml;

pub use compiler::{MAX_EXPANDED_DEPTH, MAX_EXPANDED_NODES};
pub use display::format_value;
pub use loaded::{Diagnostic, LoadedRules, Location, PluginRequirement, Priority, RuleDef, Severity};
pub use parser::{
    list_operators, operator_modifiers, parse_condition, parse_condition_with_max_depth, supported_operators,
    ParseError, MAX_PARSE_DEPTH,
};

use collector::{Collector, Version};
use source::{ItemId, SourceFile};
use std::path::{Path, PathBuf};

/// The rules-engine version mamoru implements (Falco's engine version scheme; rules files state the minimum they
/// need with `required_engine_version`).
pub const ENGINE_VERSION: &str = "0.63.0";

/// The source rules default to when they do not name one.
pub const DEFAULT_SOURCE: &str = "syscall";

/// How to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Event sources the engine can evaluate. Rules of any other source get a `LOAD_UNKNOWN_SOURCE` warning and are
    /// left out of [`LoadedRules::rules`].
    pub known_sources: Vec<String>,
}

impl Default for LoadOptions {
    /// Only the `syscall` source.
    fn default() -> Self {
        LoadOptions {
            known_sources: vec![DEFAULT_SOURCE.to_string()],
        }
    }
}

impl LoadOptions {
    pub fn with_sources<I, S>(sources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        LoadOptions {
            known_sources: sources.into_iter().map(Into::into).collect(),
        }
    }
}

/// Loads rules files in order (later files may append to or override what earlier ones define). A file that
/// cannot be read is a `LOAD_ERR_FILE_READ` error.
pub fn load_files<P: AsRef<Path>>(paths: &[P], opts: &LoadOptions) -> LoadedRules {
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let path = p.as_ref().to_path_buf();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text =
                    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                files.push(SourceFile::new(path, text));
            }
            Err(e) => {
                let mut out = LoadedRules::default();
                out.diagnostics.push(Diagnostic {
                    severity: Severity::Error,
                    code: "LOAD_ERR_FILE_READ",
                    message: format!("Could not read rules file: {e}"),
                    location: Location {
                        file: path,
                        ..Location::default()
                    },
                    snippet: String::new(),
                });
                return out;
            }
        }
    }
    load(files, opts)
}

/// Loads rules from a string, `name` standing for the file name in diagnostics.
pub fn load_str(name: &str, text: &str, opts: &LoadOptions) -> LoadedRules {
    load(vec![SourceFile::new(PathBuf::from(name), text.to_string())], opts)
}

/// Loads several (name, text) sources in order, as [`load_files`] does with files.
pub fn load_sources<N: AsRef<Path>, T: AsRef<str>>(sources: &[(N, T)], opts: &LoadOptions) -> LoadedRules {
    let files = sources
        .iter()
        .map(|(n, t)| SourceFile::new(n.as_ref().to_path_buf(), t.as_ref().to_string()))
        .collect();
    load(files, opts)
}

fn load(files: Vec<SourceFile>, opts: &LoadOptions) -> LoadedRules {
    let mut out = LoadedRules::default();
    let mut collector = Collector::default();
    let engine_version = Version::parse(ENGINE_VERSION).unwrap_or(Version {
        major: 0,
        minor: 63,
        patch: 0,
    });
    let mut read_ok = true;
    {
        let mut cx = reader::ReadContext {
            files: &files,
            collector: &mut collector,
            diagnostics: &mut out.diagnostics,
            known_sources: &opts.known_sources,
            engine_version,
        };
        for i in 0..files.len() {
            if !reader::read_file(&mut cx, i) {
                read_ok = false;
                break;
            }
        }
    }
    out.required_engine_version = collector.required_engine_version.map(|v| v.to_string());
    out.required_plugin_versions = collector.required_plugin_versions.clone();
    if read_ok {
        let mut cx = compiler::CompileContext {
            files: &files,
            collector: &collector,
            diagnostics: &mut out.diagnostics,
        };
        let mut compiled = LoadedRules::default();
        compiler::compile(&mut cx, &mut compiled);
        out.rules = compiled.rules;
        out.macros = compiled.macros;
        out.lists = compiled.lists;
        out.macro_sources = compiled.macro_sources;
        out.list_sources = compiled.list_sources;
        out.macro_sources.resize(out.macros.len(), Default::default());
        out.list_sources.resize(out.lists.len(), Default::default());
    } else {
        let builder = source::DiagBuilder { files: &files };
        out.macros = collector
            .macros
            .iter()
            .map(|m| (m.name.clone(), builder.location(m.at, &ItemId::new("macro", &m.name))))
            .collect();
        out.lists = collector
            .lists
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    l.items.clone(),
                    builder.location(l.at, &ItemId::new("list", &l.name)),
                )
            })
            .collect();
    }
    tracing::debug!(
        rules = out.rules.len(),
        macros = out.macros.len(),
        lists = out.lists.len(),
        diagnostics = out.diagnostics.len(),
        "rules loaded"
    );
    out
}
