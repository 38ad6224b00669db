//! Drift control against real runc containers on overlay root filesystems: a binary copied into the writable
//! layer is blocked (fanotify: EPERM; BPF: SIGKILL before it runs) and alerted, the same binary shipped in the
//! image runs, a memfd exec is blocked, and with blocking off both are only alerted. Root only; fails loudly
//! without root, runc, umoci or busybox-static.

mod support;

use mamoru_engine::Alert;
use mamoru_response::config::{DriftConfig, DriftMode, MechanismChoice, MemfdMode};
use mamoru_response::drift::{probe, ContainerMeta, ContainerRootfs, DriftControl, Mechanism};
use mamoru_rules::loaded::Priority;
use support::{build_image, field_str, require_root_and_tools, Alerts, Container};

fn config(mode: DriftMode, state_dir: &std::path::Path) -> DriftConfig {
    DriftConfig {
        enabled: true,
        mode,
        mechanism: MechanismChoice::Auto,
        memfd: MemfdMode::Block,
        allow: vec!["/opt/allowed-*".into(), "/opt/exact/echo".into()],
        state_dir: state_dir.to_path_buf(),
        ..DriftConfig::default()
    }
}

/// Starts drift control with `new_binary` handling upper-layer files and the exec-kill program handling memfds.
fn start(cfg: &DriftConfig, new_binary: Mechanism, alerts: &Alerts) -> DriftControl {
    let mut report = probe(cfg);
    for m in [new_binary, Mechanism::BpfKill] {
        let status = report.status(m).unwrap();
        assert!(
            status.available,
            "{} must work on this machine: {}",
            m.name(),
            status.detail
        );
    }
    report.new_binary = Some(new_binary);
    report.memfd = Some(Mechanism::BpfKill);
    DriftControl::start_with(cfg, report, alerts.sink()).unwrap()
}

/// Covers the container, finding its root filesystem from the host mount or, runtime-agnostic, from its init.
fn cover(control: &DriftControl, c: &Container, by_pid: bool) {
    let meta = ContainerMeta {
        id: c.id.clone(),
        image: "test/busybox:bb".into(),
        namespace: Some("default".into()),
        ..ContainerMeta::default()
    };
    let rootfs = if by_pid {
        ContainerRootfs::from_pid(meta, c.init_pid()).unwrap()
    } else {
        ContainerRootfs::from_mount(meta, &c.merged).unwrap()
    };
    assert_eq!(rootfs.upperdir, c.upper);
    assert!(control.add_container(rootfs).unwrap());
}

fn drift_alert<'a>(alerts: &Alerts, c: &Container, exe_part: &'a str, verdict: &'a str) -> Alert {
    alerts.wait_for(&format!("{verdict} {exe_part}"), |a| {
        field_str(a, "container.id") == c.id
            && field_str(a, "proc.exepath").contains(exe_part)
            && field_str(a, "mamoru.verdict") == verdict
    })
}

/// Drops a copy of busybox into the container's writable layer from inside the container.
fn drop_binaries(c: &Container) {
    // busybox picks its applet from argv[0]: every copy is named `echo`.
    let (out, rc) = c.sh(
        "mkdir -p /drop /opt/allowed-1 /opt/exact && cp /bin/busybox /drop/echo && \
         cp /bin/busybox /opt/allowed-1/echo && cp /bin/busybox /opt/exact/echo",
    );
    assert_eq!(rc, 0, "{out}");
    assert!(c.upper.join("drop/echo").is_file(), "the copy is in the upper layer");
}

#[test]
fn fanotify_blocks_new_binaries_with_eperm_and_bpf_kills_memfd_execs() {
    require_root_and_tools();
    let image = build_image();
    let c = Container::start(&image, "fan-block");
    drop_binaries(&c);
    let state = tempfile::tempdir().unwrap();
    let alerts = Alerts::default();
    let control = start(&config(DriftMode::Block, state.path()), Mechanism::Fanotify, &alerts);
    cover(&control, &c, true);

    let (out, rc) = c.sh("/drop/echo ran");
    assert_eq!(rc, 126, "exec of the dropped binary must fail: {out}");
    assert!(
        out.contains("Permission denied") || out.contains("Operation not permitted"),
        "{out}"
    );
    assert!(!out.contains("ran"), "{out}");
    let a = drift_alert(&alerts, &c, "/drop/echo", "blocked");
    assert_eq!(&*a.rule, "mamoru drift: Drop and execute new binary in container");
    assert_eq!(a.priority, Priority::Critical);
    assert_eq!(field_str(&a, "mamoru.mechanism"), "fanotify");
    assert_eq!(field_str(&a, "mamoru.action"), "EPERM");
    assert_eq!(field_str(&a, "container.image"), "test/busybox:bb");
    assert_eq!(a.subject.as_ref().unwrap().container_id.as_deref(), Some(c.id.as_str()));

    // A script dropped into the writable layer: its own open for exec is denied (the exec-kill program, which
    // only sees the interpreter from the image, would let it run: a documented difference).
    let (out, rc) = c.sh("printf '#!/bin/sh\\necho ran\\n' > /drop/script && chmod +x /drop/script && /drop/script");
    assert_eq!(rc, 126, "{out}");
    assert!(!out.contains("ran"), "{out}");
    drift_alert(&alerts, &c, "/drop/script", "blocked");

    // The same bytes shipped in the image run; so do the allow-listed copies.
    for exe in ["/shipped/echo", "/opt/allowed-1/echo", "/opt/exact/echo"] {
        let (out, rc) = c.sh(&format!("{exe} ran"));
        assert_eq!((rc, out.trim()), (0, "ran"), "{exe}");
    }

    let (out, rc) = c.sh("/bin/memfd-exec /bin/busybox echo ran");
    assert_eq!(rc, 137, "the memfd exec must be killed: {out}");
    assert!(!out.contains("ran"), "{out}");
    let a = drift_alert(&alerts, &c, "memfd:payload", "blocked");
    assert_eq!(&*a.rule, "mamoru drift: Fileless execution via memfd in container");
    assert_eq!(field_str(&a, "mamoru.mechanism"), "bpf_kill");

    assert!(
        !alerts.all().iter().any(|a| field_str(a, "proc.exepath").contains("shipped")
            || field_str(a, "proc.exepath").contains("/opt/")),
        "image and allow-listed binaries raise nothing"
    );
    control.stop();
}

#[test]
fn bpf_kill_blocks_new_binaries_and_memfd_before_they_run() {
    require_root_and_tools();
    let image = build_image();
    let c = Container::start(&image, "bpf-block");
    drop_binaries(&c);
    let state = tempfile::tempdir().unwrap();
    let alerts = Alerts::default();
    let control = start(&config(DriftMode::Block, state.path()), Mechanism::BpfKill, &alerts);
    cover(&control, &c, true);

    let (out, rc) = c.sh("/drop/echo ran");
    assert_eq!(rc, 137, "the dropped binary must be killed: {out}");
    assert!(!out.contains("ran"), "not one instruction of it ran: {out}");
    let a = drift_alert(&alerts, &c, "/drop/echo", "blocked");
    assert_eq!(field_str(&a, "mamoru.mechanism"), "bpf_kill");
    assert_eq!(field_str(&a, "mamoru.action"), "SIGKILL before the new image ran");
    assert_eq!(a.priority, Priority::Critical);

    for exe in ["/shipped/echo", "/opt/exact/echo"] {
        let (out, rc) = c.sh(&format!("{exe} ran"));
        assert_eq!((rc, out.trim()), (0, "ran"), "{exe}");
    }
    // Wildcard allow-list entries are a fanotify feature: the BPF program only knows exact paths.
    let (_, rc) = c.sh("/opt/allowed-1/echo ran");
    assert_eq!(rc, 137);

    let (out, rc) = c.sh("/bin/memfd-exec /bin/busybox echo ran");
    assert_eq!(rc, 137, "{out}");
    drift_alert(&alerts, &c, "memfd:payload", "blocked");
    let stats = control.bpf_stats().unwrap().unwrap();
    assert!(stats.blocked >= 3, "{stats:?}");
    control.stop();
}

#[test]
fn with_blocking_off_both_mechanisms_only_alert() {
    require_root_and_tools();
    let image = build_image();
    for mechanism in [Mechanism::Fanotify, Mechanism::BpfKill] {
        let c = Container::start(&image, "detect");
        drop_binaries(&c);
        let state = tempfile::tempdir().unwrap();
        let alerts = Alerts::default();
        let control = start(&config(DriftMode::Detect, state.path()), mechanism, &alerts);
        cover(&control, &c, false);

        let (out, rc) = c.sh("/drop/echo ran");
        assert_eq!((rc, out.trim()), (0, "ran"), "{}", mechanism.name());
        let a = drift_alert(&alerts, &c, "/drop/echo", "detected");
        assert_eq!(a.priority, Priority::Warning);
        assert_eq!(field_str(&a, "mamoru.mechanism"), mechanism.name());

        let (out, rc) = c.sh("/bin/memfd-exec /bin/busybox echo ran");
        assert_eq!((rc, out.trim()), (0, "ran"), "{}", mechanism.name());
        drift_alert(&alerts, &c, "memfd:payload", "detected");
        control.stop();
    }
}

#[test]
fn out_of_scope_containers_are_left_alone() {
    require_root_and_tools();
    let image = build_image();
    let c = Container::start(&image, "scope");
    drop_binaries(&c);
    let state = tempfile::tempdir().unwrap();
    let alerts = Alerts::default();
    let mut cfg = config(DriftMode::Block, state.path());
    cfg.scope.namespaces = vec!["prod".into()];
    let control = start(&cfg, Mechanism::BpfKill, &alerts);
    let rootfs = ContainerRootfs::from_mount(
        ContainerMeta {
            id: c.id.clone(),
            image: "test/busybox:bb".into(),
            namespace: Some("dev".into()),
            ..ContainerMeta::default()
        },
        &c.merged,
    )
    .unwrap();
    assert!(!control.add_container(rootfs).unwrap());
    let (out, rc) = c.sh("/drop/echo ran");
    assert_eq!((rc, out.trim()), (0, "ran"));
    control.stop();
    assert!(alerts.all().is_empty(), "{:?}", alerts.all());
}

#[test]
fn a_crashed_enforcer_leaves_a_gap_that_is_alerted_on_restart() {
    require_root_and_tools();
    let state = tempfile::tempdir().unwrap();
    let alerts = Alerts::default();
    let cfg = config(DriftMode::Block, state.path());
    let control = start(&cfg, Mechanism::Fanotify, &alerts);
    // Dropped without stop(): what a crash leaves behind.
    drop(control);
    assert!(alerts.all().is_empty());
    let control = start(&cfg, Mechanism::Fanotify, &alerts);
    let gap = alerts.wait_for("gap", |a| &*a.rule == "mamoru drift: enforcement gap");
    assert_eq!(gap.priority, Priority::Critical);
    assert!(gap.message.contains("new_binary=fanotify"), "{}", gap.message);
    control.stop();
    let alerts = Alerts::default();
    let control = start(&cfg, Mechanism::Fanotify, &alerts);
    control.stop();
    assert!(alerts.all().is_empty(), "a clean stop leaves no gap");
}

#[test]
fn the_lsm_path_is_probed_and_reported() {
    require_root_and_tools();
    let cfg = DriftConfig::default();
    let report = probe(&cfg);
    let lsm = report.status(Mechanism::BpfLsm).unwrap();
    println!("{report}");
    assert!(!lsm.detail.is_empty());
    if lsm.available {
        assert_eq!(report.new_binary, Some(Mechanism::BpfLsm));
    } else {
        // This project's machines refuse trampoline programs: the report must say why and fall back.
        assert!(
            lsm.detail.contains("bpf") || lsm.detail.contains("BPF"),
            "{}",
            lsm.detail
        );
        assert_ne!(report.new_binary, Some(Mechanism::BpfLsm));
        assert!(report.new_binary.is_some(), "a fallback is chosen: {report}");
    }
}
