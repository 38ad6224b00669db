//! Evaluating one Falco filter expression over a capture, the way `sysdig -r FILE FILTER` does: which events it
//! selects. Used to compare mamoru's decoding, state and evaluation against sysdig's, event by event.

use crate::pipeline::SyscallPipeline;
use crate::rulesets::{Rulesets, BUNDLED_RULES};
use anyhow::{bail, Context, Result};
use mamoru_engine::{EngineConfig, RuleMatching};
use mamoru_rules::{load_sources, LoadOptions, LoadedRules, Severity};
use mamoru_scap::{Record, ScapReader};
use mamoru_state::{State, StateConfig};
use std::path::Path;

/// An event as both tools can name it: timestamp, thread id and event type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub ts: u64,
    pub tid: u64,
    pub evt_type: String,
    /// Exit event (scap numbers exit events odd); sysdig prints these with `evt.dir` `<`.
    pub exit: bool,
}

const FILTER_RULE: &str = "mamoru filter";

fn filter_rule_yaml(filter: &str) -> String {
    let quoted = serde_json::to_string(filter).unwrap_or_default();
    format!(
        "- rule: {FILTER_RULE}\n  desc: the filter under test\n  condition: {quoted}\n  output: \"%evt.num\"\n  priority: DEBUG\n"
    )
}

/// Loads `filter` as the condition of a rule, after Falco's stable ruleset so that its macros and lists may be used,
/// and keeps only that rule (macros are already inlined into it).
fn load_filter_rule(filter: &str) -> Result<LoadedRules> {
    let yaml = filter_rule_yaml(filter);
    let mut sources: Vec<(&str, &str)> = BUNDLED_RULES[..1].to_vec();
    sources.push(("<filter>", &yaml));
    let mut loaded = load_sources(&sources, &LoadOptions::with_sources(["syscall"]));
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.severity == Severity::Error) {
        bail!("filter does not load: {d}");
    }
    loaded.rules.retain(|r| r.name == FILTER_RULE);
    Ok(loaded)
}

/// The filter with every macro and list of the stable ruleset expanded, in Falco's syntax (what sysdig, which knows
/// no macros, can evaluate).
pub fn expand_filter(filter: &str) -> Result<String> {
    let loaded = load_filter_rule(filter)?;
    let rule = loaded.rules.first().context("filter rule missing")?;
    Ok(rule.condition.to_string())
}

/// The events of the capture at `path` that `filter` selects, in file order. Only the filter is evaluated, on every event, with the state kept as `replay` keeps it.
pub fn select_events(path: &Path, filter: &str) -> Result<Vec<EventKey>> {
    let cfg = EngineConfig {
        rule_matching: RuleMatching::All,
        ..EngineConfig::default()
    };
    let sets = Rulesets::compile(load_filter_rule(filter)?, &cfg);
    if let Some(d) = sets.diagnostics.iter().find(|d| d.severity == Severity::Error) {
        bail!("filter does not compile: {d}");
    }
    let mut pipeline = SyscallPipeline::new(State::new(StateConfig::default()), sets.syscall);
    let mut reader = ScapReader::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut selected = Vec::new();
    while let Some(rec) = reader
        .next_record()
        .with_context(|| format!("reading {}", path.display()))?
    {
        match rec {
            Record::Event { event, .. } => {
                let key = EventKey {
                    ts: event.ts,
                    tid: event.tid,
                    evt_type: mamoru_fields::syscall::event_type_name(&event).to_string(),
                    exit: event.etype % 2 == 1,
                };
                let mut hit = false;
                pipeline.on_event(&event, |_| hit = true);
                if hit {
                    selected.push(key);
                }
            }
            other => pipeline.on_state_record(other),
        }
    }
    Ok(selected)
}
