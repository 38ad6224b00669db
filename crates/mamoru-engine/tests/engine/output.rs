//! Output rendering: message text, `<NA>`, widths, longest field prefixes, transformers, typed output fields.

use crate::common;

use common::*;
use mamoru_engine::{FieldJson, Scratch};
use mamoru_fields::IpNet;
use mamoru_rules::loaded::Priority;

fn render(output: &str, ev: &Ev) -> mamoru_engine::Alert {
    let (rs, diags) = compile(vec![rule("r", "evt.type exists", output)]);
    assert!(diags.iter().all(|d| d.code == "LOAD_NO_EVTTYPE"), "{output}: {diags:?}");
    rs.rules()[0].render(ev, 1_470_327_477_881_781_397, &mut Scratch::new())
}

fn sample() -> Ev {
    Ev {
        proc_name: Some("Cat".into()),
        pid: Some(-3),
        uid: Some(1000),
        ancestors: vec!["bash".into(), "sshd".into()],
        args: vec!["/dev/null".into(), "x".into()],
        fd_name: Some("/etc/shadow".into()),
        ip: Some("10.0.0.1".parse().unwrap()),
        net: IpNet::parse("10.0.0.0/8"),
        is_open: Some(true),
        rate: Some(0.25),
        buffer: Some(b"AB\x00\ncd".to_vec()),
        ..Ev::new("open")
    }
}

#[test]
fn message_and_alert_metadata() {
    let a = render(
        "File opened (user=%user.uid command=%proc.name file=%fd.name)",
        &sample(),
    );
    assert_eq!(a.message, "File opened (user=1000 command=Cat file=/etc/shadow)");
    assert_eq!(&*a.rule, "r");
    assert_eq!(a.priority, Priority::Warning);
    assert_eq!(a.source, "syscall");
    assert_eq!(a.tags, vec!["test".to_string()]);
    assert_eq!(a.time_ns, 1_470_327_477_881_781_397);
    assert_eq!(
        a.output_fields,
        vec![
            ("fd.name".to_string(), FieldJson::String("/etc/shadow".into())),
            ("proc.name".to_string(), FieldJson::String("Cat".into())),
            ("user.uid".to_string(), FieldJson::U64(1000)),
        ]
    );
}

#[test]
fn missing_values_print_na_and_are_null() {
    let a = render("exe=%proc.exepath env=%proc.env[HOME]", &sample());
    assert_eq!(a.message, "exe=<NA> env=<NA>");
    assert_eq!(
        a.output_fields,
        vec![
            ("proc.env[HOME]".to_string(), FieldJson::Null),
            ("proc.exepath".to_string(), FieldJson::Null),
        ]
    );
}

#[test]
fn value_rendering_by_type() {
    let a = render(
        "%proc.pid %evt.is_open %fd.ip %fd.net %evt.rate %evt.buffer %proc.args %proc.aname[2]",
        &sample(),
    );
    assert_eq!(a.message, "-3 true 10.0.0.1 10.0.0.0/8 0.2 AB..cd (/dev/null,x) sshd");
    let fields: std::collections::BTreeMap<_, _> = a.output_fields.into_iter().collect();
    assert_eq!(fields["proc.pid"], FieldJson::I64(-3));
    assert_eq!(fields["evt.is_open"], FieldJson::Bool(true));
    assert_eq!(fields["fd.ip"], FieldJson::String("10.0.0.1".into()));
    assert_eq!(fields["evt.rate"], FieldJson::F64(0.25));
    assert_eq!(fields["evt.buffer"], FieldJson::String("AB..cd".into()));
    assert_eq!(
        fields["proc.args"],
        FieldJson::Array(vec![
            FieldJson::String("/dev/null".into()),
            FieldJson::String("x".into())
        ])
    );
    assert_eq!(fields["proc.aname[2]"], FieldJson::String("sshd".into()));
}

#[test]
fn longest_field_prefix_and_literal_tail() {
    let a = render("(%proc.name) %proc.namex %fd.name. %evt.arg.fd,%user.uid", &sample());
    assert_eq!(a.message, "(Cat) Catx /etc/shadow. /etc/shadow,1000");
    let keys: Vec<_> = a.output_fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["evt.arg.fd", "fd.name", "proc.name", "user.uid"]);
}

#[test]
fn width_pads_and_truncates() {
    let a = render("[%6proc.name][%2fd.name]", &sample());
    assert_eq!(a.message, "[Cat   ][/e]");
    assert_eq!(
        a.output_fields[0],
        ("fd.name".to_string(), FieldJson::String("/etc/shadow".into()))
    );
}

#[test]
fn transformers_in_outputs() {
    let a = render(
        "%tolower(proc.name) %len(proc.args) %basename(fd.name) %toupper(basename(fd.name))",
        &sample(),
    );
    assert_eq!(a.message, "cat 2 shadow SHADOW");
    let fields: std::collections::BTreeMap<_, _> = a.output_fields.into_iter().collect();
    assert_eq!(fields["tolower(proc.name)"], FieldJson::String("cat".into()));
    assert_eq!(fields["len(proc.args)"], FieldJson::U64(2));
    assert_eq!(fields["toupper(basename(fd.name))"], FieldJson::String("SHADOW".into()));
}

#[test]
fn repeated_fields_appear_once() {
    let a = render("%proc.name %proc.name", &sample());
    assert_eq!(a.message, "Cat Cat");
    assert_eq!(a.output_fields.len(), 1);
}

#[test]
fn matched_rules_render_through_the_ruleset() {
    let (rs, _) = compile(vec![rule(
        "shadow",
        "evt.type = open and fd.name = /etc/shadow",
        "read %fd.name",
    )]);
    let mut alerts = Vec::new();
    rs.evaluate_into(&sample(), 42, &mut Scratch::new(), &mut alerts);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message, "read /etc/shadow");
    assert_eq!(alerts[0].time_ns, 42);
}
