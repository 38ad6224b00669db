//! End to end with the rules loader: YAML with lists, macros and exceptions, compiled and evaluated.

use crate::common;

use common::*;
use mamoru_engine::{EngineConfig, Scratch, SourceRuleset};
use mamoru_rules::{load_str, LoadOptions};
use std::sync::Arc;

const RULES: &str = r#"
- list: shell_binaries
  items: [bash, sh, zsh]
- macro: spawned_process
  condition: (evt.type = execve and evt.res = 0)
- macro: open_read
  condition: (evt.type in (open, openat) and evt.is_open = true)
- rule: Shell spawned by sshd
  desc: a shell under sshd
  condition: spawned_process and proc.name in (shell_binaries) and proc.aname = sshd
  output: Shell spawned (user=%user.uid shell=%proc.name parent=%proc.aname[1] cmdline=%proc.args)
  priority: WARNING
  tags: [shell, mitre_execution]
  exceptions:
    - name: allowed_parents
      fields: ["proc.aname[1]"]
      values: [[tmux]]
- rule: Read sensitive file
  desc: read of /etc/shadow
  condition: open_read and fd.name pmatch (/etc/shadow, /etc/sudoers.d)
  output: Sensitive file read (file=%fd.name proc=%proc.name)
  priority: ERROR
"#;

fn ruleset() -> SourceRuleset<TestSource> {
    let loaded = load_str("rules.yaml", RULES, &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let (rs, diags) = SourceRuleset::compile(&loaded, Arc::new(TestCatalog), &EngineConfig::default());
    assert!(diags.is_empty(), "{diags:?}");
    rs
}

#[test]
fn loaded_rules_compile_and_evaluate() {
    let rs = ruleset();
    assert_eq!(rs.rules().len(), 2);
    let shell = Ev {
        res: Some(0),
        uid: Some(0),
        args: vec!["-i".into()],
        ancestors: vec!["bash".into(), "sshd".into()],
        ..Ev::new("execve").proc("sh")
    };
    let mut alerts = Vec::new();
    rs.evaluate_into(&shell, 7, &mut Scratch::new(), &mut alerts);
    assert_eq!(alerts.len(), 1);
    assert_eq!(&*alerts[0].rule, "Shell spawned by sshd");
    assert_eq!(
        alerts[0].message,
        "Shell spawned (user=0 shell=sh parent=bash cmdline=(-i))"
    );
    assert_eq!(alerts[0].tags, vec!["mitre_execution".to_string(), "shell".to_string()]);

    let excepted = Ev {
        ancestors: vec!["tmux".into(), "sshd".into()],
        ..shell.clone()
    };
    let mut hits = 0;
    rs.evaluate(&excepted, &mut Scratch::new(), |_| hits += 1);
    assert_eq!(hits, 0, "the exception applies");

    let read = Ev {
        is_open: Some(true),
        ..Ev::new("openat").fd("/etc/sudoers.d/90-cloud").proc("cat")
    };
    rs.evaluate_into(&read, 8, &mut Scratch::new(), &mut alerts);
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        alerts[1].message,
        "Sensitive file read (file=/etc/sudoers.d/90-cloud proc=cat)"
    );
}

#[test]
fn rulesets_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let rs = ruleset();
    assert_send_sync(&rs);
    let rs = Arc::new(rs);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let rs = rs.clone();
            std::thread::spawn(move || {
                let mut scratch = Scratch::new();
                let ev = Ev {
                    is_open: Some(true),
                    ..Ev::new("open").fd("/etc/shadow")
                };
                let mut hits = 0;
                for _ in 0..100 {
                    rs.evaluate(&ev, &mut scratch, |_| hits += 1);
                }
                hits
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().ok(), Some(100));
    }
}
