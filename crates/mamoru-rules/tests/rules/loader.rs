//! The loader: items, keys, definition order, append/override, exceptions, lists and macros, and every error path,
//! checked against Falco's behaviour and messages.

use mamoru_rules::{load_files, load_sources, load_str, Diagnostic, LoadOptions, LoadedRules, Priority, Severity};

fn load(yaml: &str) -> LoadedRules {
    load_str("rules.yaml", yaml, &LoadOptions::default())
}

fn the_error(l: &LoadedRules) -> &Diagnostic {
    let errors: Vec<_> = l.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{:#?}", l.diagnostics);
    errors[0]
}

fn error_of(yaml: &str) -> Diagnostic {
    let l = load(yaml);
    assert!(l.has_errors());
    the_error(&l).clone()
}

fn clean(yaml: &str) -> LoadedRules {
    let l = load(yaml);
    assert!(
        !l.has_errors(),
        "{}",
        l.diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    l
}

fn warnings<'a>(l: &'a LoadedRules, code: &str) -> Vec<&'a Diagnostic> {
    l.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning && d.code == code)
        .collect()
}

const RULE: &str = "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: WARNING\n";

// ----- YAML and item shape -----

#[test]
fn bad_yaml_is_a_parse_error_with_position() {
    let d = error_of("- rule: x\n  desc: [a\n- rule: y\n");
    assert_eq!(d.code, "LOAD_ERR_YAML_PARSE");
    assert!(d.location.line >= 2, "{d}");
    assert!(d.location.col >= 1);
    assert_eq!(d.location.file.to_str(), Some("rules.yaml"));
}

#[test]
fn document_shapes() {
    assert_eq!(error_of("a: b\n").message, "Rules content is not yaml array of objects");
    assert_eq!(error_of("just a scalar\n").message, "Rules content is not yaml");
    let d = error_of("- [a, b]\n");
    assert_eq!(
        d.message,
        "Unexpected element type. Each element should be a yaml associative array."
    );
    assert_eq!(d.code, "LOAD_ERR_YAML_VALIDATE");
    // Null items and empty documents are skipped; several documents are read in order.
    let l = clean(&format!("-\n- ~\n---\n---\n{RULE}"));
    assert_eq!(l.rules.len(), 1);
}

#[test]
fn unknown_items_and_keys_are_warnings() {
    let l = clean(&format!("- foo: bar\n{RULE}  colour: blue\n"));
    assert_eq!(warnings(&l, "LOAD_UNKNOWN_ITEM").len(), 1);
    let k = warnings(&l, "LOAD_UNKNOWN_KEY");
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].message, "Unknown key 'colour'. The key will be ignored.");
    assert_eq!((k[0].location.line, k[0].location.col), (7, 3));
}

#[test]
fn missing_and_empty_keys() {
    let d = error_of("- rule: r\n  desc: d\n  condition: a.b = 1\n  priority: INFO\n");
    assert_eq!(d.code, "LOAD_ERR_YAML_VALIDATE");
    assert_eq!(d.message, "Item has no mapping for key 'output'");
    assert_eq!(
        (d.location.item_type.as_str(), d.location.item_name.as_str()),
        ("rule", "r")
    );
    assert_eq!(d.location.line, 1);

    assert_eq!(
        error_of(&RULE.replace("desc: d", "desc:")).message,
        "Mapping for key 'desc' is empty"
    );
    let d = error_of(&RULE.replace("desc: d", "desc: \"\""));
    assert_eq!(d.message, "Value must be non-empty");
    assert_eq!((d.location.line, d.location.col), (2, 9));
    assert_eq!(
        error_of(&RULE.replace("desc: d", "desc: [a]")).message,
        "Value is not a scalar value"
    );
    assert_eq!(error_of("- list: l\n").message, "Item has no mapping for key 'items'");
    assert_eq!(error_of("- list: l\n  items: a\n").message, "Value is not a sequence");
    assert_eq!(
        error_of("- list: l\n  items: [[a]]\n").message,
        "sequence value is not scalar"
    );
    assert_eq!(
        error_of("- macro: m\n").message,
        "Item has no mapping for key 'condition'"
    );
    assert_eq!(error_of("- rule:\n").message, "Mapping for key 'rule' is empty");
    assert_eq!(
        error_of(&format!("{RULE}  enabled: maybe\n")).message,
        "Can't decode YAML scalar value"
    );
}

#[test]
fn rule_keys_and_defaults() {
    let l = clean(
        "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: \"  out %proc.name  \"\n  priority: info\n  \
         tags: [b, a, b]\n  enabled: false\n  warn_evttypes: False\n  skip-if-unknown-filter: yes\n  capture: true\n  \
         capture_duration: 5000\n",
    );
    let r = &l.rules[0];
    assert_eq!(r.priority, Priority::Informational);
    assert_eq!(r.output, "out %proc.name");
    assert_eq!(r.tags.iter().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
    assert!(!r.enabled && !r.warn_evttypes && r.skip_if_unknown_filter && r.capture);
    assert_eq!(r.capture_duration_ms, 5000);
    assert_eq!(r.source, "syscall");
    assert_eq!(r.desc, "d");
    assert_eq!((r.location.line, r.location.col), (1, 3));
    assert_eq!((r.condition_location.line, r.condition_location.col), (3, 14));

    let d = clean(RULE);
    let r = &d.rules[0];
    assert!(r.enabled && r.warn_evttypes && !r.skip_if_unknown_filter && !r.capture);
    assert_eq!(r.priority, Priority::Warning);

    for (p, want) in [
        ("Emergency", Priority::Emergency),
        ("ALERT", Priority::Alert),
        ("critical", Priority::Critical),
        ("Error", Priority::Error),
        ("notice", Priority::Notice),
        ("INFORMATIONAL", Priority::Informational),
        ("debug", Priority::Debug),
    ] {
        assert_eq!(clean(&RULE.replace("WARNING", p)).rules[0].priority, want);
    }
    let d = error_of(&RULE.replace("WARNING", "SEVERE"));
    assert_eq!(d.message, "Invalid priority");
    assert_eq!(d.location.line, 5);
}

#[test]
fn unknown_source_is_skipped_with_a_warning() {
    let l = clean(&format!("{RULE}  source: okta\n"));
    assert!(l.rules.is_empty());
    let w = warnings(&l, "LOAD_UNKNOWN_SOURCE");
    assert_eq!(w[0].message, "Unknown source okta, skipping");
    let l = load_str(
        "r.yaml",
        &format!("{RULE}  source: okta\n"),
        &LoadOptions::with_sources(["okta"]),
    );
    assert_eq!(l.rules[0].source, "okta");
}

#[test]
fn engine_and_plugin_versions() {
    let l = clean("- required_engine_version: 15\n- required_engine_version: 0.40.0\n");
    assert_eq!(l.required_engine_version.as_deref(), Some("0.40.0"));
    let d = error_of("- required_engine_version: 0.99.0\n");
    assert_eq!(
        d.message,
        "Rules require engine version 0.99.0, but engine version is 0.63.0"
    );
    assert_eq!(d.code, "LOAD_ERR_VALIDATE");
    assert!(load("- required_engine_version: 1.0.0\n").has_errors());
    assert_eq!(
        error_of("- required_engine_version: abc\n").message,
        "Unable to parse engine version 'abc' as a semver string. Expected \"x.y.z\" semver format."
    );
    let l = clean(
        "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.7.0\n    alternatives:\n      - name: k8saudit-eks\n        version: 0.4.0\n",
    );
    let p = &l.required_plugin_versions[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("k8saudit", "0.7.0"));
    assert_eq!(p.alternatives, vec![("k8saudit-eks".to_string(), "0.4.0".to_string())]);
    assert_eq!(
        error_of("- required_plugin_versions:\n  - name: a\n    version: 1.0.0\n    alternatives:\n      - name: a\n        version: 2.0.0\n").message,
        "Defined multiple alternative version requirements for plugin 'a'"
    );
    assert_eq!(
        error_of("- required_plugin_versions:\n  - name: a\n    version: latest\n").message,
        "Invalid required version 'latest' for plugin 'a'"
    );
}

// ----- names, order, redefinition -----

#[test]
fn invalid_names_are_warnings() {
    let l = load("- macro: 1bad\n  condition: a.b = 1\n- list: \"x y\"\n  items: []\n");
    assert!(!l.has_errors());
    assert_eq!(warnings(&l, "LOAD_INVALID_MACRO_NAME").len(), 1);
    assert_eq!(warnings(&l, "LOAD_INVALID_LIST_NAME").len(), 1);
}

#[test]
fn unused_macros_and_lists_are_warned_about() {
    let l = clean(&format!(
        "- macro: unused_m\n  condition: a.b = 1\n- list: unused_l\n  items: [a]\n- list: used_l\n  items: [open]\n{}",
        RULE.replace("evt.type = open", "evt.type in (used_l)")
    ));
    let m = warnings(&l, "LOAD_UNUSED_MACRO");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].location.item_name, "unused_m");
    assert_eq!(m[0].message, "Macro not referred to by any other rule/macro");
    let ls = warnings(&l, "LOAD_UNUSED_LIST");
    assert_eq!(ls.len(), 1);
    assert_eq!(ls[0].location.item_name, "unused_l");
}

#[test]
fn redefinition_replaces_in_place_and_keeps_first_position() {
    let l = clean(&format!(
        "{}{}{}",
        RULE.replace("rule: r", "rule: first"),
        RULE.replace("rule: r", "rule: second"),
        RULE.replace("rule: r", "rule: first").replace("WARNING", "DEBUG")
    ));
    assert_eq!(
        l.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(l.rules[0].priority, Priority::Debug);
    assert_eq!(l.rules[0].location.line, 1);
    let d = error_of(&format!("{RULE}{RULE}  source: k8s_audit\n"));
    assert_eq!(d.message, "Rule has been re-defined with a different source");
}

#[test]
fn several_files_form_one_namespace() {
    let opts = LoadOptions::default();
    let l = load_sources(
        &[
            ("a.yaml", "- list: shells\n  items: [sh]\n- macro: spawned\n  condition: evt.type = execve\n"),
            ("b.yaml", "- list: shells\n  items: [bash]\n  override:\n    items: append\n- rule: r\n  desc: d\n  condition: spawned and proc.name in (shells)\n  output: o\n  priority: INFO\n"),
        ],
        &opts,
    );
    assert!(!l.has_errors(), "{:?}", l.diagnostics);
    assert_eq!(
        l.rules[0].condition.to_string(),
        "(evt.type = execve and proc.name in (sh, bash))"
    );
    assert_eq!(l.rules[0].location.file.to_str(), Some("b.yaml"));
    assert_eq!(l.lists[0].2.file.to_str(), Some("a.yaml"));

    let d = load_files(&["/nonexistent/rules.yaml"], &opts);
    assert_eq!(the_error(&d).code, "LOAD_ERR_FILE_READ");
}

#[test]
fn enable_only_form() {
    let l = clean(&format!("{RULE}- rule: r\n  enabled: false\n"));
    assert!(!l.rules[0].enabled);
    assert_eq!(warnings(&l, "LOAD_DEPRECATED_ITEM").len(), 1);
    assert_eq!(
        error_of("- rule: nope\n  enabled: false\n").message,
        "Rule has 'enabled' key but no rule by that name already exists"
    );
    assert_eq!(
        error_of(&format!("{RULE}- rule: r\n  tags: [x]\n")).message,
        "Item has no mapping for key 'enabled'"
    );
}

// ----- append / override -----

#[test]
fn legacy_append() {
    let l = clean(&format!(
        "- list: l\n  items: [a]\n- list: l\n  items: [b]\n  append: true\n- macro: m\n  condition: proc.name = x\n- macro: m\n  condition: or proc.name = y\n  append: true\n{}- rule: r\n  condition: and m\n  exceptions: []\n  enabled: false\n  append: true\n",
        RULE.replace("evt.type = open", "proc.name in (l)")
    ));
    let r = &l.rules[0];
    assert_eq!(r.condition_text, "proc.name in ( a, b ) and m");
    assert_eq!(
        r.condition.to_string(),
        "(proc.name in (a, b) and (proc.name = x or proc.name = y))"
    );
    // `enabled` in an `append: true` item is ignored.
    assert!(r.enabled);
    assert!(warnings(&l, "LOAD_DEPRECATED_ITEM").len() >= 3);
    assert_eq!(
        error_of(&format!("{RULE}- rule: r\n  output: more\n  append: true\n")).message,
        "Appended rule must have exceptions or condition property"
    );
}

#[test]
fn append_before_definition_is_an_error() {
    let d = error_of("- list: l\n  items: [a]\n  append: true\n- list: l\n  items: [b]\n");
    assert_eq!(
        d.message,
        "List uses 'append' or 'override.items: append' but no list by that name already exists"
    );
    assert_eq!(d.code, "LOAD_ERR_VALIDATE");
    assert_eq!(d.location.item_name, "l");
    assert_eq!(
        error_of("- macro: m\n  condition: or a.b = 1\n  override:\n    condition: append\n").message,
        "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists"
    );
    assert_eq!(
        error_of(&format!("- rule: r\n  condition: and a.b = 1\n  append: true\n{RULE}")).message,
        "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"
    );
    assert_eq!(
        error_of("- rule: r\n  priority: INFO\n  override:\n    priority: replace\n").message,
        "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"
    );
}

#[test]
fn override_append_and_replace() {
    let l = clean(&format!(
        "{RULE}  tags: [t1]\n- rule: r\n  condition: and proc.name = cat\n  output: (more)\n  desc: longer\n  tags: [t2]\n  override:\n    condition: append\n    output: append\n    desc: append\n    tags: append\n- rule: r\n  priority: CRITICAL\n  enabled: false\n  override:\n    priority: replace\n    enabled: replace\n"
    ));
    let r = &l.rules[0];
    assert_eq!(r.condition_text, "evt.type = open and proc.name = cat");
    assert_eq!(r.output, "o (more)");
    assert_eq!(r.desc, "d longer");
    assert_eq!(r.tags.len(), 2);
    assert_eq!(r.priority, Priority::Critical);
    assert!(!r.enabled);

    let l = clean(&format!("{RULE}- rule: r\n  condition: proc.name = x\n  tags: [n]\n  override:\n    condition: replace\n    tags: replace\n"));
    assert_eq!(l.rules[0].condition_text, "proc.name = x");
    assert_eq!(l.rules[0].tags.iter().collect::<Vec<_>>(), ["n"]);

    let l = clean("- macro: m\n  condition: a.b = 1\n- macro: m\n  condition: a.b = 2\n  override:\n    condition: replace\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n");
    assert_eq!(l.rules[0].condition.to_string(), "a.b = 2");
}

#[test]
fn override_validation_errors() {
    let base = RULE;
    let cases = [
        ("- rule: r\n  output: x\n  desc: y\n  override:\n    desc: append\n", "Unexpected key 'output': no corresponding entry under 'override' is defined."),
        ("- rule: r\n  output: x\n  override:\n    output: append\n    desc: append\n", "An append override for 'desc' was specified but 'desc' is not defined"),
        ("- rule: r\n  priority: INFO\n  override:\n    priority: append\n", "Key 'priority' cannot be appended to, use 'replace' instead"),
        ("- rule: r\n  source: x\n  override:\n    source: replace\n", "Key 'source' cannot be replaced"),
        ("- rule: r\n  output: x\n  override:\n    output: merge\n", "Invalid override operation for key 'output': 'merge'. Allowed values are: append replace "),
        ("- rule: r\n  output: x\n  append: true\n  override:\n    output: append\n", "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."),
    ];
    for (item, message) in cases {
        let d = error_of(&format!("{base}{item}"));
        assert_eq!(d.message, message, "{item}");
        assert_eq!(d.code, "LOAD_ERR_YAML_VALIDATE");
        assert_eq!(d.location.item_name, "r");
    }
    assert_eq!(
        error_of("- list: l\n  items: [a]\n- list: l\n  items: [b]\n  override:\n    items: prepend\n").message,
        "Invalid override operation for key 'items': 'prepend'. Allowed values are: append replace "
    );
}

// ----- exceptions -----

#[test]
fn exceptions_compile_like_falco() {
    // falco unit test exceptions_condition
    let l = clean(
        "- rule: test_rule\n  desc: test rule\n  condition: proc.cmdline contains curl or proc.cmdline contains wget\n  output: command=%proc.cmdline\n  priority: INFO\n  exceptions:\n  - name: test_exception\n    fields: [proc.cmdline]\n    comps: [contains]\n    values:\n      - [curl 127.0.0.1]\n",
    );
    let r = &l.rules[0];
    assert_eq!(
        r.condition.to_string(),
        "((proc.cmdline contains curl or proc.cmdline contains wget) and not proc.cmdline contains \"curl 127.0.0.1\")"
    );
    assert_eq!(
        r.condition_text,
        "(proc.cmdline contains curl or proc.cmdline contains wget) and not (( proc.cmdline contains \"curl 127.0.0.1\"))"
    );
    assert_eq!(r.exception_fields.iter().collect::<Vec<_>>(), ["proc.cmdline"]);
}

#[test]
fn exception_forms() {
    let l = clean(&format!(
        "- list: allowed\n  items: [nginx, apache]\n{RULE}  exceptions:\n  - name: pw\n    fields: [proc.name, fd.directory]\n    comps: [=, in]\n    values:\n      - [nginx, [/var/lib, /tmp x]]\n      - [httpd, allowed]\n  - name: single\n    fields: proc.pname\n    values: [sshd, my shell]\n  - name: empty\n    fields: [proc.name]\n"
    ));
    let r = &l.rules[0];
    assert_eq!(
        r.condition_text,
        "(evt.type = open) and not (( proc.name = nginx and  fd.directory in (/var/lib, \"/tmp x\")) or ( proc.name = httpd and  fd.directory in ( nginx, apache ))) and not (proc.pname in (sshd, \"my shell\"))"
    );
    assert_eq!(r.exception_fields.len(), 3);
    assert_eq!(warnings(&l, "LOAD_UNUSED_LIST").len(), 0);

    // Appending values to an existing exception, and a new exception.
    let l = clean(&format!(
        "{RULE}  exceptions:\n  - name: e\n    fields: [proc.name]\n    values: [[a]]\n- rule: r\n  exceptions:\n  - name: e\n    values: [[b]]\n  - name: f\n    fields: [fd.name]\n    comps: [startswith]\n    values: [[/tmp]]\n  override:\n    exceptions: append\n"
    ));
    assert_eq!(
        l.rules[0].condition_text,
        "(evt.type = open) and not (( proc.name = a) or ( proc.name = b)) and not (( fd.name startswith /tmp))"
    );
}

#[test]
fn exception_errors() {
    let ex = |body: &str| format!("{RULE}  exceptions:\n{body}");
    let cases = [
        (
            "  - name: e\n    fields: [a.b, c.d]\n    comps: [=]\n    values: []\n",
            "Fields and comps lists must have equal length",
        ),
        (
            "  - name: e\n    fields: [a.b, c.d]\n    values: [[x]]\n",
            "Fields and values lists must have equal length",
        ),
        (
            "  - name: e\n    fields: [a.b]\n    comps: [like]\n",
            "'like' is not a supported comparison operator",
        ),
        (
            "  - name: e\n    fields: a.b\n    comps: =\n",
            "When fields is a single value, comps must be one of (in, pmatch, intersects)",
        ),
        (
            "  - name: e\n    fields: a.b\n    comps: [in]\n",
            "Fields and comps must both be strings",
        ),
        (
            "  - name: e\n    fields: a.b\n    values: [[x]]\n",
            "Expected values array to contain a list of strings",
        ),
        (
            "  - name: e\n    values: [[x]]\n",
            "Item has no mapping for key 'fields'",
        ),
        (
            "  - name: e\n    fields: []\n",
            "Rule exception item must have fields property with a list of fields",
        ),
        ("  - fields: [a.b]\n", "Item has no mapping for key 'name'"),
        ("  - [a]\n", "Rule exception must be a mapping"),
        (
            "  - name: e\n    fields: [a.b]\n    values: x\n",
            "Rule exception values must be a sequence",
        ),
    ];
    for (body, message) in cases {
        let d = error_of(&ex(body));
        assert_eq!(d.message, message, "{body}");
        assert_eq!(d.location.item_name, "r");
    }
    assert_eq!(
        error_of(&format!("{RULE}  exceptions: x\n")).message,
        "Rule exceptions must be a sequence"
    );
    assert_eq!(
        error_of(&format!("{RULE}  exceptions:\n  - name: e\n    fields: [a.b]\n    values: [[x]]\n- rule: r\n  exceptions:\n  - name: e\n    fields: [c.d]\n    values: [[y]]\n  override:\n    exceptions: append\n")).message,
        "Can not append exception fields to existing exception, only values"
    );
    let l = clean(&ex(
        "  - name: e\n    fields: [a.b]\n    values: [[x]]\n  - name: e\n    fields: [a.b]\n    values: [[y]]\n",
    ));
    assert_eq!(
        warnings(&l, "LOAD_EXCEPTION_NAME_NOT_UNIQUE")[0].message,
        "Multiple definitions of exception 'e' in the same rule"
    );
}

// ----- lists and macros -----

#[test]
fn lists_expand_one_level_and_textually() {
    let l = clean(&format!(
        "- list: a\n  items: [x, \"y z\"]\n- list: b\n  items: [a, w, 1]\n- list: empty\n  items: []\n{}",
        RULE.replace("evt.type = open", "proc.name in (b, empty)")
    ));
    assert_eq!(l.lists[1].1, ["x", "y z", "w", "1"]);
    assert_eq!(l.rules[0].condition_text, "proc.name in ( x, \"y z\", w, 1   )");
    assert_eq!(l.rules[0].condition.to_string(), "proc.name in (x, \"y z\", w, 1)");
    // Every list is substituted textually, even outside parentheses...
    // ... which here leaves garbage: Falco would reject the same text.
    let d = error_of(&format!(
        "- list: a\n  items: [x, y]\n{}",
        RULE.replace("evt.type = open", "proc.pname = a")
    ));
    assert_eq!(d.code, "LOAD_ERR_COMPILE_CONDITION");
    assert_eq!(d.message, "unexpected token after 'x', expecting 'or', 'and'");
}

#[test]
fn macros_see_only_earlier_macros_rules_see_all() {
    let d = error_of("- macro: a\n  condition: b\n- macro: b\n  condition: x.y = 1\n");
    assert_eq!(d.message, "Undefined macro 'b' used in filter.");
    assert_eq!(d.code, "LOAD_ERR_VALIDATE");
    assert_eq!(
        (d.location.item_type.as_str(), d.location.item_name.as_str()),
        ("macro", "a")
    );
    assert_eq!((d.location.line, d.location.col), (2, 14));

    let l = clean(&format!(
        "{}- macro: later\n  condition: x.y = 1\n",
        RULE.replace("evt.type = open", "later")
    ));
    assert_eq!(l.rules[0].condition.to_string(), "x.y = 1");

    let d = error_of(&RULE.replace("evt.type = open", "evt.type = open and\n    not nope"));
    assert_eq!(d.message, "Undefined macro 'nope' used in filter.");
    assert_eq!((d.location.line, d.location.col), (4, 9));
}

#[test]
fn macro_cycles_are_errors() {
    let d = error_of("- macro: a\n  condition: x.y = 1\n- macro: b\n  condition: a\n- macro: a\n  condition: b\n");
    // As in Falco: expanding `a` (= b) enters b, then a, then meets b again.
    assert_eq!(d.message, "reference loop in macro 'b'");
    assert_eq!(d.code, "LOAD_ERR_VALIDATE");
    assert_eq!(d.location.item_name, "a");
    // A macro cannot reference itself unless redefined (then it is a loop).
    assert_eq!(
        error_of("- macro: s\n  condition: s\n").message,
        "Undefined macro 's' used in filter."
    );
    assert_eq!(
        error_of("- macro: s\n  condition: x.y = 1\n- macro: s\n  condition: s or x.y = 2\n").message,
        "reference loop in macro 's'"
    );
}

#[test]
fn deep_and_wide_macro_chains_are_bounded() {
    // 2000 macros each nesting the previous one under a `not`: too deep once expanded.
    let mut yaml = String::from("- macro: m0\n  condition: x.y = 1\n");
    for i in 1..2000 {
        yaml.push_str(&format!("- macro: m{i}\n  condition: not (m{} and x.y = 1)\n", i - 1));
    }
    yaml.push_str(&RULE.replace("evt.type = open", "m1999"));
    let l = load(&yaml);
    let d = the_error(&l);
    assert!(d.message.contains("after macro expansion"), "{d}");
    // Doubling at each level: too large, not a hang.
    let mut yaml = String::from("- macro: d0\n  condition: x.y = 1\n");
    for i in 1..40 {
        yaml.push_str(&format!("- macro: d{i}\n  condition: d{} or d{}\n", i - 1, i - 1));
    }
    let d = error_of(&yaml);
    assert!(d.message.contains("nodes after macro expansion"), "{d}");
}

// ----- condition errors, with positions in the file -----

#[test]
fn condition_errors_are_positioned_in_the_file() {
    let d = error_of("- rule: r\n  desc: d\n  condition: >\n    evt.type = open and\n    (proc.name = x\n  output: o\n  priority: INFO\n");
    assert_eq!(d.code, "LOAD_ERR_COMPILE_CONDITION");
    assert_eq!(d.message, "expected a ')' token");
    assert_eq!(d.location.item_name, "r");
    assert_eq!(d.location.line, 5);
    let shown = d.to_string();
    assert!(shown.starts_with("rules.yaml:5:"), "{shown}");
    assert!(
        shown.contains("error: LOAD_ERR_COMPILE_CONDITION (rule 'r'): expected a ')' token"),
        "{shown}"
    );

    let d = error_of(&RULE.replace("evt.type = open", "proc.name = \"a\\qb\""));
    assert_eq!(d.message, "unsupported string escape sequence: \\q");
    assert_eq!(d.location.line, 3);

    let d = error_of(&RULE.replace("evt.type = open", "evt.type = open )"));
    assert_eq!(d.message, "unexpected token after 'open', expecting 'or', 'and'");
    assert_eq!((d.location.line, d.location.col), (3, 30));

    let deep = format!("{}a.b = 1{}", "(".repeat(10_000), ")".repeat(10_000));
    let d = error_of(&RULE.replace("evt.type = open", &deep));
    assert_eq!(d.message, "exceeded max depth limit of 1000");

    let d = error_of("- macro: m\n  condition: a.b = \n");
    assert_eq!(d.code, "LOAD_ERR_COMPILE_CONDITION");
    assert_eq!(d.location.item_type, "macro");
}

#[test]
fn warnings_before_an_error_are_kept() {
    let l = load(&format!("- foo: 1\n{RULE}- rule: broken\n  desc: d\n"));
    assert!(l.has_errors());
    assert_eq!(warnings(&l, "LOAD_UNKNOWN_ITEM").len(), 1);
    assert_eq!(l.diagnostics.last().map(|d| d.severity), Some(Severity::Error));
}

#[test]
fn yaml_equals_sign_in_comps() {
    let l = clean(&format!("{RULE}  exceptions:\n  - name: e\n    fields: [proc.name, fd.name]\n    comps: [=, in]\n    values: [[a, [b]]]\n"));
    assert!(l.rules[0].condition_text.contains("proc.name = a and  fd.name in (b)"));
}

#[test]
fn deprecations_and_syntactic_warnings() {
    let l = clean(
        &RULE
            .replace("output: o", "output: o %container.info x")
            .replace("evt.type = open", "evt.dir = < and ka.user.name != <NA>"),
    );
    assert_eq!(l.rules[0].output, "o  x");
    let dep = warnings(&l, "LOAD_DEPRECATED_ITEM");
    assert_eq!(dep.len(), 2);
    assert_eq!(warnings(&l, "LOAD_UNSAFE_NA_CHECK").len(), 1);
}
