//! The real rules files load without errors, with the counts Falco's stable ruleset has.

use mamoru_rules::{load_files, load_str, LoadOptions, Priority, Severity};
use std::collections::BTreeMap;

const FALCO_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/falco-rules/falco_rules.yaml"
);
const K8S_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/plugin-rules/k8s_audit_rules.yaml"
);
const CLOUDTRAIL_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/plugin-rules/aws_cloudtrail_rules.yaml"
);

fn errors(loaded: &mamoru_rules::LoadedRules) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn stable_falco_rules_load_cleanly() {
    let loaded = load_files(&[FALCO_RULES], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:#?}", errors(&loaded));
    assert_eq!(loaded.rules.len(), 25);
    assert_eq!(loaded.macros.len(), 87);
    assert_eq!(loaded.lists.len(), 49);
    assert_eq!(loaded.required_engine_version.as_deref(), Some("0.57.0"));
    assert_eq!(loaded.required_plugin_versions.len(), 1);
    assert_eq!(loaded.required_plugin_versions[0].name, "container");
    assert_eq!(loaded.required_plugin_versions[0].version, "0.4.0");

    let mut priorities: BTreeMap<Priority, usize> = BTreeMap::new();
    for r in &loaded.rules {
        *priorities.entry(r.priority).or_default() += 1;
        assert_eq!(r.source, "syscall");
        assert!(r.enabled, "{}", r.name);
        assert!(r.tags.contains("maturity_stable"), "{}", r.name);
        // No macro reference survives expansion, and the printed tree parses back to the same tree.
        let printed = r.condition.to_string();
        assert!(!printed.is_empty());
        let reparsed = mamoru_rules::parse_condition(&printed).expect("printed condition re-parses");
        assert_eq!(reparsed.to_string(), printed, "{}", r.name);
        assert!(
            r.location.line > 0 && r.condition_location.line > r.location.line,
            "{}",
            r.name
        );
    }
    assert_eq!(priorities.get(&Priority::Warning), Some(&14));
    assert_eq!(priorities.get(&Priority::Notice), Some(&7));
    assert_eq!(priorities.get(&Priority::Critical), Some(&3));
    assert_eq!(priorities.get(&Priority::Informational), Some(&1));

    // Spot-check a core macro as the engine will see it.
    let open_write = loaded.macros.iter().position(|(n, _)| n == "open_write");
    assert!(open_write.is_some());
}

#[test]
fn plugin_rules_load_cleanly_with_their_sources() {
    let opts = LoadOptions::with_sources(["syscall", "k8s_audit", "aws_cloudtrail"]);
    for path in [K8S_RULES, CLOUDTRAIL_RULES] {
        let loaded = load_files(&[path], &opts);
        assert!(!loaded.has_errors(), "{path}: {:#?}", errors(&loaded));
        assert!(!loaded.rules.is_empty());
        assert!(!loaded.diagnostics.iter().any(|d| d.code == "LOAD_UNKNOWN_SOURCE"));
    }
    let k8s = load_files(&[K8S_RULES], &opts);
    assert_eq!(k8s.rules.len(), 48);
    assert!(k8s.rules.iter().all(|r| r.source == "k8s_audit"));
    let ct = load_files(&[CLOUDTRAIL_RULES], &opts);
    assert_eq!(ct.rules.len(), 22);
}

#[test]
fn plugin_rules_without_their_source_are_skipped_with_warnings() {
    let loaded = load_files(&[CLOUDTRAIL_RULES], &LoadOptions::default());
    assert!(!loaded.has_errors());
    assert!(loaded.rules.is_empty());
    let unknown = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "LOAD_UNKNOWN_SOURCE")
        .count();
    assert_eq!(unknown, 22);
}

#[test]
fn all_files_together_form_one_namespace() {
    let opts = LoadOptions::with_sources(["syscall", "k8s_audit", "aws_cloudtrail"]);
    let loaded = load_files(&[FALCO_RULES, K8S_RULES, CLOUDTRAIL_RULES], &opts);
    assert!(!loaded.has_errors(), "{:#?}", errors(&loaded));
    assert_eq!(loaded.rules.len(), 25 + 48 + 22);
}

#[test]
fn macros_and_lists_are_attributed_to_the_sources_of_the_rules_using_them() {
    let opts = LoadOptions::with_sources(["syscall", "k8s_audit"]);
    let yaml = "
- list: shells
  items: [sh, bash]
- list: verbs
  items: [create]
- list: unused_list
  items: [x]
- macro: spawned
  condition: evt.type = execve
- macro: shell_spawn
  condition: spawned and proc.name in (shells)
- macro: lonely
  condition: proc.name = x
- rule: shell
  desc: d
  condition: shell_spawn
  output: o
  priority: INFO
- rule: k8s
  desc: d
  condition: ka.verb in (verbs)
  output: o
  priority: INFO
  source: k8s_audit
";
    let loaded = load_str("t.yaml", yaml, &opts);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let macro_src = |name: &str| {
        let i = loaded.macros.iter().position(|(n, _)| n == name).unwrap();
        loaded.macro_sources[i].iter().cloned().collect::<Vec<_>>()
    };
    let list_src = |name: &str| {
        let i = loaded.lists.iter().position(|(n, _, _)| n == name).unwrap();
        loaded.list_sources[i].iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(macro_src("spawned"), ["syscall"]);
    assert_eq!(macro_src("shell_spawn"), ["syscall"]);
    assert!(macro_src("lonely").is_empty());
    assert_eq!(list_src("shells"), ["syscall"]);
    assert_eq!(list_src("verbs"), ["k8s_audit"]);
    assert!(list_src("unused_list").is_empty());
}
