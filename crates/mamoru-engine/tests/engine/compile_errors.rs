//! Type checking: the diagnostics a rule gets when its condition or output does not fit the catalogue.

use crate::common;

use common::*;
use mamoru_rules::ast::{CmpOp, Expr, Operand, Pos, Rhs};
use mamoru_rules::loaded::{Diagnostic, Severity};

fn diags_for(cond: &str) -> Vec<Diagnostic> {
    compile(vec![rule("r", cond, "out")]).1
}

/// The one error a condition produces (its code must be LOAD_ERR_COMPILE_CONDITION).
fn error(cond: &str) -> String {
    let errors: Vec<Diagnostic> = diags_for(cond)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{cond}: {errors:?}");
    assert_eq!(errors[0].code, "LOAD_ERR_COMPILE_CONDITION");
    assert_eq!(errors[0].location.item_name, "r");
    errors[0].message.clone()
}

fn warnings(cond: &str) -> Vec<(String, String)> {
    diags_for(cond)
        .into_iter()
        .filter(|d| d.severity == Severity::Warning && d.code != "LOAD_NO_EVTTYPE")
        .map(|d| (d.code.to_string(), d.message))
        .collect()
}

#[test]
fn unknown_fields() {
    assert_eq!(
        error("evt.type = open and proc.nme = bash"),
        "filter_check called with nonexistent field proc.nme"
    );
    assert_eq!(
        error("foo.bar[1] = x"),
        "filter_check called with nonexistent field foo.bar[1]"
    );
}

#[test]
fn operators_not_supported_for_types() {
    assert_eq!(
        error("proc.pid contains 1"),
        "filter error: 'contains' operator not supported for numeric filters (field 'proc.pid')"
    );
    assert_eq!(
        error("evt.is_open > 1"),
        "filter error: '>' operator not supported for numeric filters (field 'evt.is_open')"
    );
    assert_eq!(
        error("proc.name bcontains 41"),
        "filter error: 'bcontains' operator not supported for string filters (field 'proc.name')"
    );
    assert_eq!(
        error("evt.buffer glob '*'"),
        "filter error: 'glob' operator not supported for buffer filters (field 'evt.buffer')"
    );
    assert_eq!(
        error("fd.ip startswith 1"),
        "filter error: 'startswith' operator not supported for ip address and network filters (field 'fd.ip')"
    );
    assert_eq!(
        error("proc.args = x"),
        "filter error: '=' operator not supported list filters (field 'proc.args')"
    );
    assert_eq!(
        error("proc.durations in (1)"),
        "filter error: list filters are not supported for type 'DOUBLE' (field 'proc.durations')"
    );
}

#[test]
fn bad_constants() {
    assert_eq!(error("proc.pid = abc"), "abc is not a valid number (field 'proc.pid')");
    assert_eq!(
        error("user.uid in (1, x2)"),
        "x2 is not a valid number (field 'user.uid')"
    );
    assert_eq!(
        error("evt.is_open = yes"),
        "filter error: unrecognized boolean value yes (field 'evt.is_open')"
    );
    assert_eq!(
        error("fd.ip = 1.2.3"),
        "unrecognized IPv4 address 1.2.3 (field 'fd.ip')"
    );
    assert_eq!(error("fd.ip = zz"), "unrecognized IPv6 address zz (field 'fd.ip')");
    assert_eq!(
        error("fd.net = 10.0.0.1"),
        "unrecognized IP network 10.0.0.1 (field 'fd.net')"
    );
    assert_eq!(error("fd.net = 10.0.0.0/40"), "invalid netmask 40 (field 'fd.net')");
    assert_eq!(error("fd.v4 = ::1"), "unrecognized IPv4 address ::1 (field 'fd.v4')");
    assert_eq!(
        error("fd.port = nosuchservice"),
        "unrecognized protocol nosuchservice (field 'fd.port')"
    );
    assert_eq!(
        error("evt.buffer bcontains xyz"),
        "filter error: bcontains and bstartswith operator support hex strings only (field 'evt.buffer')"
    );
    assert!(error("proc.name regex '(unclosed'").starts_with("invalid regex pattern: "));
}

#[test]
fn field_arguments() {
    assert_eq!(
        error("proc.env = x"),
        "filter error: field 'proc.env' requires an argument"
    );
    assert_eq!(
        error("proc.name[1] = x"),
        "filter error: field 'proc.name' does not take an argument"
    );
    assert!(error("proc.aname[x] = y").starts_with("filter error: invalid argument 'x' for field 'proc.aname'"));
}

#[test]
fn right_hand_side_fields() {
    assert_eq!(
        error("fd.name = val(proc.pid)"),
        "field 'fd.name' has type 'FSPATH' while the right-hand side field 'proc.pid' has incompatible type 'PID'"
    );
    assert_eq!(
        error("proc.name in val(proc.args)"),
        "field 'proc.name' has type 'CHARBUF' while the right-hand side field 'proc.args' has incompatible type \
         'CHARBUF (list)'"
    );
    assert_eq!(
        error("proc.name = val(proc.aname)"),
        "field 'proc.aname' can't be used as a right-hand side field"
    );
    assert_eq!(
        error("proc.aname = val(proc.name)"),
        "field 'proc.aname' doesn't support right-hand side fields"
    );
    assert_eq!(
        error("proc.name regex val(proc.name)"),
        "operator 'REGEX' doesn't support right-hand side fields"
    );
    assert_eq!(
        error("fd.net = val(fd.net)"),
        "field type 'IPNET' doesn't support right-hand side fields"
    );
}

#[test]
fn transformer_types() {
    assert_eq!(
        error("tolower(proc.pid) = 1"),
        "can't add field transformer: type 'PID' is not supported by 'tolower' transformer applied on field 'proc.pid'"
    );
    assert_eq!(
        error("b64(fd.name) = x"),
        "can't add field transformer: type 'FSPATH' is not supported by 'b64' transformer applied on field 'fd.name'"
    );
    assert_eq!(
        error("toupper(fd.types) = x"),
        "field 'fd.types' does not support transformers"
    );
    assert_eq!(
        error("len(proc.name) contains 1"),
        "filter error: 'contains' operator not supported for numeric filters (field 'proc.name')"
    );
    assert_eq!(
        error("join(',', proc.name) = x"),
        "can't add field transformer: type 'CHARBUF' is not supported by 'join' transformer applied on field 'proc.name'"
    );
}

#[test]
fn unsubstituted_list_names_and_macros() {
    assert_eq!(
        error("proc.name in shell_binaries"),
        "filter error: unexpected identifier 'shell_binaries'"
    );
    // An undefined macro was reported by the loader: the engine skips the rule without a second report.
    let (rs, diags) = compile(vec![rule("r", "evt.type = open and some_macro", "out")]);
    assert!(diags.iter().all(|d| d.severity != Severity::Error), "{diags:?}");
    assert!(rs.rules().is_empty());
}

#[test]
fn errors_point_into_the_condition() {
    let cond = "evt.type = open and\n  proc.nme = bash";
    let d = diags_for(cond)
        .into_iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap();
    // The condition starts at line 3 column 14 of the test rules file; the bad field is on its second line.
    assert_eq!((d.location.line, d.location.col), (4, 3));
    assert_eq!(d.snippet, "  proc.nme = bash");
}

#[test]
fn skip_if_unknown_filter_turns_the_error_into_a_warning() {
    let mut r = rule("r", "proc.nme = bash", "out");
    r.skip_if_unknown_filter = true;
    let mut bad_output = rule("o", "proc.name = bash", "user=%user.nme");
    bad_output.skip_if_unknown_filter = true;
    let mut other_error = rule("e", "proc.pid = abc", "out");
    other_error.skip_if_unknown_filter = true;
    let (rs, diags) = compile(vec![r, bad_output, other_error]);
    assert!(rs.rules().is_empty());
    let summary: Vec<_> = diags
        .iter()
        .map(|d| (d.severity, d.code, d.location.item_name.as_str()))
        .collect();
    assert!(
        summary.contains(&(Severity::Warning, "LOAD_UNKNOWN_FILTER", "r")),
        "{summary:?}"
    );
    assert!(
        summary.contains(&(Severity::Warning, "LOAD_UNKNOWN_FILTER", "o")),
        "{summary:?}"
    );
    assert!(
        summary.contains(&(Severity::Error, "LOAD_ERR_COMPILE_CONDITION", "e")),
        "{summary:?}"
    );
}

#[test]
fn output_errors() {
    let (_, diags) = compile(vec![rule("r", "proc.name = bash", "user=%user.nme")]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, "LOAD_ERR_COMPILE_OUTPUT");
    assert_eq!(diags[0].message, "invalid formatting token user.nme");
    let (_, diags) = compile(vec![rule("r", "proc.name = bash", "100%")]);
    assert_eq!(
        diags[0].message,
        "invalid formatting syntax: formatting cannot end with a %"
    );
    let (_, diags) = compile(vec![rule("r", "proc.name = bash", "x %12")]);
    assert_eq!(
        diags[0].message,
        "invalid formatting syntax: formatting cannot end with a number"
    );
}

#[test]
fn warnings_on_constants_and_fields() {
    assert_eq!(
        warnings("proc.name = proc.pname or fd.name = proc.exepath"),
        vec![(
            "LOAD_COMPILE_CONDITION".to_string(),
            "'proc.exepath' may be a valid field misused as a const string value".to_string()
        )]
    );
    assert_eq!(
        warnings("proc.name = 'tolower(x)'"),
        vec![(
            "LOAD_COMPILE_CONDITION".to_string(),
            "'tolower(x)' may be a valid field transformer misused as a const string value".to_string()
        )]
    );
    assert_eq!(
        warnings("proc.name regex 'bash'"),
        vec![(
            "LOAD_COMPILE_CONDITION".to_string(),
            "regex check with 'bash' may be optimized with simpler operators such as '=', 'contains', \
             'startswith', 'endswith'"
                .to_string()
        )]
    );
    assert!(warnings("proc.name regex 'ba[sz]h'").is_empty());
    assert_eq!(
        warnings("evt.dir = < or evt.dir != >"),
        vec![(
            "LOAD_DEPRECATED_ITEM".to_string(),
            "usage of deprecated field 'evt.dir' has been detected in the rule condition".to_string()
        )],
        "reported once per rule"
    );
    let (_, diags) = compile(vec![rule("r", "evt.type = open", "dir=%evt.dir")]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        diags[0].message,
        "usage of deprecated field 'evt.dir' has been detected in the rule output"
    );
}

#[test]
fn warnings_the_loader_already_gave_are_not_repeated() {
    let r = rule("r", "evt.type = open and evt.dir = <", "out");
    let mut rules = loaded(vec![r]);
    rules.diagnostics.push(mamoru_rules::loaded::Diagnostic {
        severity: Severity::Warning,
        code: "LOAD_DEPRECATED_ITEM",
        message: "usage of deprecated field 'evt.dir' has been detected in the rule condition".into(),
        location: mamoru_rules::loaded::Location {
            item_type: "rule".into(),
            item_name: "r".into(),
            ..Default::default()
        },
        snippet: String::new(),
    });
    let (_, diags) = mamoru_engine::SourceRuleset::compile(
        &rules,
        std::sync::Arc::new(TestCatalog),
        &mamoru_engine::EngineConfig::default(),
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn single_value_operators_reject_lists_built_by_hand() {
    let expr = Expr::Compare {
        lhs: Operand::Field {
            name: "proc.name".into(),
            arg: None,
            pos: Pos::default(),
        },
        op: CmpOp::Eq,
        modifier: None,
        rhs: Rhs::List(vec!["a".into(), "b".into()]),
        pos: Pos::default(),
    };
    let (_, diags) = compile(vec![rule_from_expr("r", "hand-built", expr, "out")]);
    assert!(diags
        .iter()
        .any(|d| d.message == "filter error: operator '=' takes a single value, not a list"));
}

#[test]
fn rules_of_other_sources_are_ignored() {
    let mut r = rule("k8s", "ka.verb = create", "out");
    r.source = "k8s_audit".into();
    let (rs, diags) = compile(vec![r]);
    assert!(diags.is_empty());
    assert!(rs.rules().is_empty());
}
