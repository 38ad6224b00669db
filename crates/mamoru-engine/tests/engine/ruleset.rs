//! Rule selection: the event-type index, definition order, first/all matching, enabled flags and priorities.

use crate::common;

use common::*;
use mamoru_engine::{EngineConfig, RuleMatching, Scratch};
use mamoru_rules::loaded::{Priority, Severity};

fn codes_of(cond: &str) -> Vec<usize> {
    let (rs, _) = compile(vec![rule("r", cond, "out")]);
    rs.rules()[0].event_codes().iter().collect()
}

fn codes(names: &[&str]) -> Vec<usize> {
    let mut v: Vec<usize> = names.iter().flat_map(|n| TestCatalog_codes(n)).collect();
    v.sort();
    v.dedup();
    v
}

#[allow(non_snake_case)]
fn TestCatalog_codes(name: &str) -> Vec<usize> {
    use mamoru_fields::Catalog;
    TestCatalog
        .event_codes_for(name)
        .unwrap_or_default()
        .into_iter()
        .map(usize::from)
        .collect()
}

fn all_but(names: &[&str]) -> Vec<usize> {
    let excluded = codes(names);
    (0..NUM_CODES).filter(|c| !excluded.contains(c)).collect()
}

#[test]
fn libs_example_condition() {
    assert_eq!(
        codes_of("evt.type in (connect, execve, accept, mmap, container) and not (proc.name=cat and evt.type=mmap)"),
        codes(&["accept", "connect", "container", "execve", "mmap"])
    );
}

#[test]
fn event_type_set_algebra() {
    assert_eq!(codes_of("evt.type = openat"), vec![1, 100]);
    assert_eq!(
        codes_of("evt.type = open or evt.type = execve"),
        codes(&["open", "execve"])
    );
    assert_eq!(
        codes_of("evt.type in (open, execve) and evt.type = open"),
        codes(&["open"])
    );
    assert_eq!(codes_of("evt.type != open"), all_but(&["open"]));
    assert_eq!(codes_of("not evt.type = open"), all_but(&["open"]));
    assert_eq!(codes_of("not evt.type != open"), codes(&["open"]));
    assert_eq!(
        codes_of("not (evt.type = open or evt.type = close)"),
        all_but(&["open", "close"])
    );
    assert_eq!(
        codes_of("not (evt.type != open and evt.type != close)"),
        codes(&["open", "close"])
    );
    assert_eq!(codes_of("proc.name = cat"), (0..NUM_CODES).collect::<Vec<_>>());
    assert_eq!(
        codes_of("not proc.name = cat"),
        (0..NUM_CODES).collect::<Vec<_>>(),
        "negation leaves others neutral"
    );
    assert_eq!(codes_of("evt.type exists"), (0..NUM_CODES).collect::<Vec<_>>());
    assert!(codes_of("not evt.type exists").is_empty());
    assert!(codes_of("evt.type = nosuchevent").is_empty());
    assert!(codes_of("evt.num = 0").is_empty());
    assert!(codes_of("evt.num < 1 and evt.type = open").is_empty());
    assert_eq!(codes_of("not evt.num = 0"), (0..NUM_CODES).collect::<Vec<_>>());
    assert_eq!(codes_of("evt.num > 0 and evt.type = open"), codes(&["open"]));
    assert_eq!(
        codes_of("tolower(evt.type) = open"),
        (0..NUM_CODES).collect::<Vec<_>>(),
        "a transformed evt.type is not indexed"
    );
}

#[test]
fn too_many_event_types_warns_unless_disabled() {
    let broad = rule("broad", "proc.name = cat", "out");
    let mut quiet = rule("quiet", "proc.name = cat", "out");
    quiet.warn_evttypes = false;
    let never = rule("never", "evt.num = 0", "out");
    let narrow = rule("narrow", "evt.type = open", "out");
    let (_, diags) = compile(vec![broad, quiet, never, narrow]);
    let warned: Vec<&str> = diags
        .iter()
        .filter(|d| d.code == "LOAD_NO_EVTTYPE")
        .map(|d| d.location.item_name.as_str())
        .collect();
    assert_eq!(warned, vec!["broad", "never"]);
    assert!(diags.iter().all(|d| d.severity == Severity::Warning));
}

fn ruleset_names(matching: RuleMatching, ev: &Ev) -> Vec<String> {
    let rules = vec![
        rule("open-any", "evt.type in (open, openat)", "o1"),
        rule("cat", "proc.name = cat", "o2"),
        rule("open-cat", "evt.type = open and proc.name = cat", "o3"),
        rule("exec", "evt.type = execve", "o4"),
    ];
    let cfg = EngineConfig {
        rule_matching: matching,
        ..EngineConfig::default()
    };
    let (rs, _) = compile_with(rules, &cfg);
    let mut names = Vec::new();
    let n = rs.evaluate(ev, &mut Scratch::new(), |r| names.push(r.name().to_string()));
    assert_eq!(n, names.len());
    names
}

#[test]
fn first_match_stops_all_continues_in_definition_order() {
    let ev = Ev::new("open").proc("cat");
    assert_eq!(ruleset_names(RuleMatching::First, &ev), vec!["open-any"]);
    assert_eq!(
        ruleset_names(RuleMatching::All, &ev),
        vec!["open-any", "cat", "open-cat"]
    );
    let exec = Ev::new("execve").proc("cat");
    assert_eq!(ruleset_names(RuleMatching::All, &exec), vec!["cat", "exec"]);
    let close = Ev::new("close").proc("ls");
    assert!(ruleset_names(RuleMatching::All, &close).is_empty());
}

#[test]
fn only_rules_indexed_under_the_event_code_run() {
    // A rule that would match by its field test alone is not evaluated for other event types.
    let (rs, _) = compile(vec![rule("r", "evt.type = open or evt.type = openat", "out")]);
    let mut hits = 0;
    rs.evaluate(&Ev::new("execve"), &mut Scratch::new(), |_| hits += 1);
    assert_eq!(hits, 0);
    let second_openat_code = Ev {
        code: 100,
        ..Ev::new("openat")
    };
    rs.evaluate(&second_openat_code, &mut Scratch::new(), |_| hits += 1);
    assert_eq!(hits, 1);
}

#[test]
fn disabled_and_low_priority_rules_compile_but_do_not_run() {
    let mut disabled = rule("disabled", "evt.type = open", "out");
    disabled.enabled = false;
    let mut debug = rule("debug", "evt.type = open", "out");
    debug.priority = Priority::Debug;
    let mut broken_disabled = rule("broken", "proc.nme = x", "out");
    broken_disabled.enabled = false;
    let critical = {
        let mut r = rule("critical", "evt.type = execve", "out");
        r.priority = Priority::Critical;
        r
    };
    let cfg = EngineConfig {
        min_priority: Priority::Notice,
        ..EngineConfig::default()
    };
    let (rs, diags) = compile_with(vec![disabled, debug, broken_disabled, critical], &cfg);
    assert!(
        diags
            .iter()
            .any(|d| d.location.item_name == "broken" && d.severity == Severity::Error),
        "disabled rules are still compiled: {diags:?}"
    );
    let names: Vec<_> = rs
        .rules()
        .iter()
        .map(|r| (r.name(), r.is_enabled(), r.is_active()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("disabled", false, false),
            ("debug", true, false),
            ("critical", true, true)
        ]
    );
    let mut hits = Vec::new();
    rs.evaluate(&Ev::new("open"), &mut Scratch::new(), |r| hits.push(r.name()));
    assert!(hits.is_empty());
    rs.evaluate(&Ev::new("execve"), &mut Scratch::new(), |r| hits.push(r.name()));
    assert_eq!(hits, vec!["critical"]);
    let needed = rs.needed_event_codes();
    assert_eq!(needed.len(), NUM_CODES);
    let needed: Vec<usize> = (0..NUM_CODES).filter(|c| needed[*c]).collect();
    assert_eq!(needed, codes(&["execve"]));
}

#[test]
fn needed_event_codes_is_the_union_over_active_rules() {
    let (rs, _) = compile(vec![
        rule("a", "evt.type in (open, connect)", "out"),
        rule("b", "evt.type = openat and proc.name = x", "out"),
    ]);
    let needed = rs.needed_event_codes();
    let needed: Vec<usize> = (0..NUM_CODES).filter(|c| needed[*c]).collect();
    assert_eq!(needed, codes(&["open", "connect", "openat"]));
}

#[test]
fn one_scratch_serves_many_events_and_rulesets() {
    let (a, _) = compile(vec![rule("a", "proc.name = x and fd.name = y", "out")]);
    let (b, _) = compile(vec![rule("b", "fd.name startswith /etc", "out")]);
    let mut scratch = Scratch::new();
    for i in 0..1000 {
        let name = if i % 2 == 0 { "x" } else { "z" };
        let ev = Ev::new("open").proc(name).fd("y");
        let mut hit = false;
        a.evaluate(&ev, &mut scratch, |_| hit = true);
        assert_eq!(hit, i % 2 == 0, "event {i}: values must not leak between events");
        let mut hit_b = false;
        b.evaluate(
            &Ev::new("open").fd(if i % 3 == 0 { "/etc/x" } else { "/tmp" }),
            &mut scratch,
            |_| hit_b = true,
        );
        assert_eq!(hit_b, i % 3 == 0);
    }
}

#[test]
fn shared_sub_conditions_give_the_same_results_as_separate_rulesets() {
    // Sub-conditions shared between rules are evaluated once per event and remembered; compiling each rule alone
    // (nothing shared) must give the same verdicts on every event.
    let open_read = "(evt.type in (open, openat) and fd.name exists and not fd.name startswith /proc)";
    let shell = "(proc.name in (bash, sh) or proc.aname contains sh)";
    let conds = [
        format!("{open_read} and {shell}"),
        format!("{open_read} and not {shell}"),
        format!("{open_read} and fd.name contains secret"),
        format!("not {open_read} and {shell}"),
        format!("({open_read} or evt.type = execve) and fd.name glob '*secret*'"),
    ];
    let defs: Vec<_> = conds
        .iter()
        .enumerate()
        .map(|(i, c)| rule(&format!("r{i}"), c, "o"))
        .collect();
    let cfg = EngineConfig {
        rule_matching: RuleMatching::All,
        ..EngineConfig::default()
    };
    let (together, _) = compile_with(defs.clone(), &cfg);
    let alone: Vec<_> = defs.into_iter().map(|d| compile_with(vec![d], &cfg).0).collect();
    let names = ["bash", "vim", "sh", "python"];
    let files = ["/etc/secret", "/proc/1/secret", "/home/x", "/tmp/secret.txt"];
    let mut scratch = Scratch::new();
    let mut checked = 0;
    for (i, ty) in ["open", "openat", "execve", "connect"].iter().enumerate() {
        for (j, name) in names.iter().enumerate() {
            for (k, file) in files.iter().enumerate() {
                let ev = Ev {
                    ancestors: if (i + j + k) % 2 == 0 {
                        vec!["zsh".into()]
                    } else {
                        vec![]
                    },
                    ..Ev::new(ty).proc(name).fd(file)
                };
                let mut shared_hits = Vec::new();
                together.evaluate(&ev, &mut scratch, |r| shared_hits.push(r.name().to_string()));
                let mut separate_hits = Vec::new();
                for rs in &alone {
                    rs.evaluate(&ev, &mut scratch, |r| separate_hits.push(r.name().to_string()));
                }
                assert_eq!(shared_hits, separate_hits, "{ev:?}");
                checked += shared_hits.len();
            }
        }
    }
    assert!(checked > 10, "the events exercise the rules ({checked} matches)");
}
