//! Response actions against real processes and a real runc container: kill through a verified pidfd, kill of a
//! process group, pause and stop of the container through runc; each action reported as its own alert.

mod support;

use mamoru_engine::{Alert, AlertSubject};
use mamoru_response::config::{ActionKind, ActionRule, AlertSelector, RuntimeConfig, RuntimeKind};
use mamoru_response::process::{ProcFs, ProcessTable};
use mamoru_response::{mamoru_alert, runtime_from_config, Responder, ResponseConfig, ResponseWorker};
use mamoru_rules::loaded::Priority;
use std::sync::mpsc;
use std::time::Duration;
use support::{build_image, field_str, require_root_and_tools, Container};

fn trigger(rule: &str, priority: Priority, subject: AlertSubject) -> Alert {
    mamoru_alert(
        rule,
        priority,
        &["container", "shell"],
        format!("{rule} fired"),
        vec![],
        Some(subject),
    )
}

fn subject_of(pid: i64, container: Option<&str>) -> AlertSubject {
    AlertSubject {
        pid,
        tid: pid,
        start_time_ns: ProcFs::new().unwrap().start_time_ns(pid).unwrap(),
        container_id: container.map(str::to_owned),
    }
}

fn config(rule: &str, actions: Vec<ActionKind>, c: &Container) -> ResponseConfig {
    ResponseConfig {
        enabled: true,
        runtime: RuntimeConfig {
            kind: RuntimeKind::Runc,
            root: Some(c.runc_root.clone()),
            ..RuntimeConfig::default()
        },
        actions: vec![ActionRule {
            when: AlertSelector {
                rules: vec![rule.into()],
                min_priority: Some("warning".into()),
                ..AlertSelector::default()
            },
            actions,
        }],
        ..ResponseConfig::default()
    }
}

fn wait_status(c: &Container, want: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = c.status();
        if s == want || std::time::Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kill_process_in_container_then_pause_and_stop_it() {
    require_root_and_tools();
    let image = build_image();

    // Kill: the container's init (the alerted process) dies, and the container with it.
    let c = Container::start(&image, "kill");
    let cfg = config("Terminal shell in container", vec![ActionKind::KillProcess], &c);
    let responder = Responder::new(cfg.clone(), Some(runtime_from_config(&cfg.runtime))).unwrap();
    let pid = c.init_pid();
    let out = responder.respond(&trigger(
        "Terminal shell in container",
        Priority::Critical,
        subject_of(pid, Some(&c.id)),
    ));
    assert_eq!(out.len(), 1);
    assert_eq!(&*out[0].rule, "mamoru response: kill");
    assert_eq!(out[0].source, "mamoru");
    assert_eq!(field_str(&out[0], "mamoru.result"), "ok", "{}", out[0].message);
    assert_eq!(wait_status(&c, "stopped"), "stopped");

    // Below min_priority, or another rule: nothing happens.
    let c = Container::start(&image, "pause");
    let cfg = config(
        "Terminal shell in container",
        vec![ActionKind::PauseContainer, ActionKind::StopContainer],
        &c,
    );
    let responder = Responder::new(cfg.clone(), Some(runtime_from_config(&cfg.runtime))).unwrap();
    let subject = subject_of(c.init_pid(), Some(&c.id));
    assert!(responder
        .respond(&trigger(
            "Terminal shell in container",
            Priority::Notice,
            subject.clone()
        ))
        .is_empty());
    assert!(responder
        .respond(&trigger("Other rule", Priority::Critical, subject.clone()))
        .is_empty());

    // Pause, then stop, through runc, each reported.
    let responder_pause = Responder::new(
        config("Terminal shell in container", vec![ActionKind::PauseContainer], &c),
        Some(runtime_from_config(&cfg.runtime)),
    )
    .unwrap();
    let out = responder_pause.respond(&trigger(
        "Terminal shell in container",
        Priority::Critical,
        subject.clone(),
    ));
    assert_eq!(field_str(&out[0], "mamoru.result"), "ok", "{}", out[0].message);
    assert_eq!(&*out[0].rule, "mamoru response: pause container");
    assert_eq!(wait_status(&c, "paused"), "paused");
    let (_, rc) = {
        // A paused container runs nothing: resume it for the stop to be observable as a state change.
        let o = c.runc().args(["resume", &c.id]).output().unwrap();
        (o.clone(), o.status.code().unwrap_or(-1))
    };
    assert_eq!(rc, 0);
    let responder_stop = Responder::new(
        config("Terminal shell in container", vec![ActionKind::StopContainer], &c),
        Some(runtime_from_config(&cfg.runtime)),
    )
    .unwrap();
    let out = responder_stop.respond(&trigger("Terminal shell in container", Priority::Critical, subject));
    assert_eq!(&*out[0].rule, "mamoru response: stop container");
    assert_eq!(field_str(&out[0], "mamoru.result"), "ok", "{}", out[0].message);
    assert_eq!(wait_status(&c, "stopped"), "stopped");
}

#[test]
fn a_reused_pid_is_refused_and_reported() {
    require_root_and_tools();
    let mut victim = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let pid = victim.id() as i64;
    let mut subject = subject_of(pid, None);
    // The alert's process started 10 s before the one now holding the pid.
    subject.start_time_ns -= 10_000_000_000;
    let cfg = ResponseConfig {
        enabled: true,
        actions: vec![ActionRule {
            when: AlertSelector {
                tags: vec!["shell".into()],
                ..AlertSelector::default()
            },
            actions: vec![ActionKind::KillProcess, ActionKind::KillProcessGroup],
        }],
        ..ResponseConfig::default()
    };
    let responder = Responder::new(cfg, None).unwrap();
    let out = responder.respond(&trigger("Any", Priority::Critical, subject));
    assert_eq!(out.len(), 2);
    for a in &out {
        assert_eq!(field_str(a, "mamoru.result"), "refused", "{}", a.message);
        assert_eq!(a.priority, Priority::Warning);
    }
    assert!(
        victim.try_wait().unwrap().is_none(),
        "the process behind the reused pid lives"
    );
    victim.kill().unwrap();
    victim.wait().unwrap();
}

#[test]
fn the_worker_runs_actions_off_the_event_path() {
    require_root_and_tools();
    let mut victim = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let pid = victim.id() as i64;
    let cfg = ResponseConfig {
        enabled: true,
        actions: vec![ActionRule {
            when: AlertSelector {
                rules: vec!["Kill me".into()],
                ..AlertSelector::default()
            },
            actions: vec![ActionKind::KillProcess],
        }],
        ..ResponseConfig::default()
    };
    let (tx, rx) = mpsc::channel();
    let worker = ResponseWorker::spawn(Responder::new(cfg, None).unwrap(), 16, move |a| {
        let _ = tx.send(a);
    })
    .unwrap();
    assert!(worker.submit(&trigger("Not me", Priority::Critical, subject_of(pid, None))));
    assert!(worker.submit(&trigger("Kill me", Priority::Critical, subject_of(pid, None))));
    let out = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(field_str(&out, "mamoru.result"), "ok", "{}", out.message);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(victim.wait().unwrap().signal(), Some(libc::SIGKILL));
    worker.shutdown();
    assert!(rx.try_recv().is_err(), "one action only");
}
