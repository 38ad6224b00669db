//! `mamoru rules validate` and `mamoru rules list`.

use anyhow::Result;
use mamoru_cli::rulesets::Rulesets;
use mamoru_engine::EngineConfig;
use mamoru_rules::Severity;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Loads `files` as one ruleset, prints every diagnostic (errors and warnings, with file, line, column and item),
/// then either the counts per source (success) or nothing more (exit 1).
pub fn validate(files: &[PathBuf]) -> Result<ExitCode> {
    let sets = Rulesets::load(files, &EngineConfig::default());
    for d in &sets.diagnostics {
        eprintln!("{d}");
    }
    let errors = sets
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = sets.diagnostics.len() - errors;
    if errors > 0 {
        eprintln!("{} invalid: {errors} error(s), {warnings} warning(s)", describe(files));
        return Ok(ExitCode::from(1));
    }
    println!("{} ok ({warnings} warning(s))", describe(files));
    for (source, counts) in counts_per_source(&sets) {
        println!(
            "  {source}: {} rules, {} macros, {} lists",
            counts.rules, counts.macros, counts.lists
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Default)]
struct Counts {
    rules: usize,
    macros: usize,
    lists: usize,
}

/// Rules count under their source. Macros and lists have no source of their own in Falco's language; each is
/// counted under the sources of the rules that use it (directly or through other macros), and under `unused`
/// when no rule does.
fn counts_per_source(sets: &Rulesets) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for r in &sets.loaded.rules {
        out.entry(r.source.clone()).or_default().rules += 1;
    }
    for sources in &sets.loaded.macro_sources {
        for s in sources.iter() {
            out.entry(s.clone()).or_default().macros += 1;
        }
        if sources.is_empty() {
            out.entry("unused".into()).or_default().macros += 1;
        }
    }
    for sources in &sets.loaded.list_sources {
        for s in sources.iter() {
            out.entry(s.clone()).or_default().lists += 1;
        }
        if sources.is_empty() {
            out.entry("unused".into()).or_default().lists += 1;
        }
    }
    out
}

/// Prints rules (name, source, priority, enabled, tags, description), macros and lists.
pub fn list(files: &[PathBuf]) -> Result<ExitCode> {
    let sets = Rulesets::load(files, &EngineConfig::default());
    for d in sets.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        eprintln!("{d}");
    }
    if sets.has_errors() {
        return Ok(ExitCode::from(1));
    }
    println!("Rules ({}):", sets.loaded.rules.len());
    for r in &sets.loaded.rules {
        let tags: Vec<&str> = r.tags.iter().map(String::as_str).collect();
        println!(
            "  {}\n    source: {}  priority: {}  enabled: {}  tags: [{}]\n    {}",
            r.name,
            r.source,
            r.priority.as_str(),
            r.enabled,
            tags.join(", "),
            r.desc.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    println!("Macros ({}):", sets.loaded.macros.len());
    for (name, _) in &sets.loaded.macros {
        println!("  {name}");
    }
    println!("Lists ({}):", sets.loaded.lists.len());
    for (name, items, _) in &sets.loaded.lists {
        println!("  {name} ({} items)", items.len());
    }
    Ok(ExitCode::SUCCESS)
}
