//! Shared by the JSON-source replay tests: load the bundled rules, read fixture records, replay them through one
//! `JsonPipeline`, and check alerts' output fields.
#![allow(dead_code)]

use mamoru_cli::pipeline::JsonPipeline;
use mamoru_cli::rulesets::Rulesets;
use mamoru_engine::{Alert, EngineConfig, FieldJson, RuleMatching};
use mamoru_fields::json::JsonContext;
use mamoru_records::{Limits, Record, RecordReader, RecordSource};
use mamoru_rules::Priority;
use std::path::Path;

pub fn rulesets(matching: RuleMatching) -> Rulesets {
    let sets = Rulesets::load(
        &[],
        &EngineConfig {
            rule_matching: matching,
            min_priority: Priority::Debug,
        },
    );
    assert!(!sets.has_errors(), "bundled rules must compile: {:?}", sets.diagnostics);
    sets
}

pub fn read_records(path: &Path, source: RecordSource) -> Vec<Record> {
    let reader = RecordReader::open(path, source, Limits::default()).expect("fixture opens");
    reader.map(|r| r.expect("fixture records are well formed")).collect()
}

/// The alerts of each record, in record order (one pipeline, so stateful fields see the whole stream).
pub fn replay(sets: &Rulesets, source: &str, records: &[Record]) -> Vec<Vec<Alert>> {
    let ruleset = sets.json_ruleset(source).expect("source has a ruleset");
    let mut pipeline = JsonPipeline::new(ruleset, JsonContext::empty());
    records
        .iter()
        .map(|rec| {
            let mut alerts = Vec::new();
            pipeline.on_record(rec, |a| alerts.push(a));
            alerts
        })
        .collect()
}

pub fn names(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| &*a.rule).collect()
}

pub fn s(v: &str) -> FieldJson {
    FieldJson::String(v.to_string())
}

pub fn field<'a>(a: &'a Alert, name: &str) -> &'a FieldJson {
    a.output_fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("rule '{}' has no output field {name}: {:?}", a.rule, a.output_fields))
}

pub fn assert_fields(a: &Alert, expected: &[(&str, FieldJson)]) {
    for (name, want) in expected {
        assert_eq!(field(a, name), want, "rule '{}', output field {name}", a.rule);
    }
}
