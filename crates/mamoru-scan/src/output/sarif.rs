//! SARIF 2.1.0.

use crate::finding::{Finding, Report, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Percent-encodes what may not appear raw in a URI reference path.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(f: &Finding) -> Value {
    let mut loc = serde_json::Map::new();
    if let Some(path) = &f.location.path {
        let mut physical = json!({ "artifactLocation": { "uri": uri(path) } });
        if let Some(line) = f.location.line.filter(|l| *l > 0) {
            physical["region"] = json!({ "startLine": line });
        }
        loc.insert("physicalLocation".to_string(), physical);
    }
    let mut logical = Vec::new();
    if let Some(l) = f.location.layer {
        logical.push(json!({ "fullyQualifiedName": format!("layer/{l}"), "kind": "module" }));
    }
    if let Some(field) = &f.location.field {
        logical.push(json!({ "fullyQualifiedName": field, "kind": "member" }));
    }
    if !logical.is_empty() {
        loc.insert("logicalLocations".to_string(), Value::Array(logical));
    }
    Value::Object(loc)
}

/// The report as a SARIF log with one run.
pub fn to_sarif(report: &Report) -> Value {
    let mut rules: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &report.findings {
        rules.entry(f.rule.as_str()).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rule_values: Vec<Value> = rules
        .values()
        .map(|f| {
            json!({
                "id": f.rule,
                "name": f.rule.replace([':', '-', '.'], "_"),
                "shortDescription": { "text": f.title },
                "defaultConfiguration": { "level": level(f.severity) },
                "properties": { "category": f.category.as_str() },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut props = json!({ "severity": f.severity.as_str(), "category": f.category.as_str() });
            if let Some(d) = &f.location.layer_digest {
                props["layerDigest"] = json!(d);
            }
            if let Some(c) = &f.location.commit {
                props["commit"] = json!(c);
            }
            if let Some(v) = f.in_final_image {
                props["inFinalImage"] = json!(v);
            }
            if let Some(e) = &f.evidence {
                props["evidence"] = json!(e);
            }
            let loc = location(f);
            let locations = if loc.as_object().is_some_and(|m| m.is_empty()) {
                json!([])
            } else {
                json!([loc])
            };
            json!({
                "ruleId": f.rule,
                "ruleIndex": index[f.rule.as_str()],
                "level": level(f.severity),
                "message": { "text": format!("{}: {}", f.title, f.why) },
                "locations": locations,
                "properties": props,
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "mamoru",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/mamoru",
                "rules": rule_values,
            }},
            "automationDetails": { "description": { "text": format!("{} scan of {}", report.kind, report.target) } },
            "results": results,
        }]
    })
}
