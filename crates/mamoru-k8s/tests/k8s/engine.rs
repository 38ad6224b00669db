//! The API enrichment through the rules engine: a rule on `k8s.deployment.name` fires for an event of a container
//! whose CRI labels name a pod the watcher resolved, and the output renders the API fields.

use super::apiserver::FakeApi;
use super::watch::{seed, DEPLOYMENTS, PODS, RS};
use super::{wait_for, watcher};
use mamoru_engine::{EngineConfig, Scratch, SourceRuleset};
use mamoru_event::{event_table, EventBuilder, RawEvent, ThreadRecord};
use mamoru_fields::syscall::{K8sApiLookup, SysEvent, Syscall, SyscallCatalog};
use mamoru_fields::Catalog;
use mamoru_rules::{load_sources, LoadOptions};
use mamoru_state::{ContainerInfo, State};
use serde_json::json;
use std::sync::Arc;

const CONTAINER: &str = "3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";

const RULES: &str = r#"
- rule: Shell in web deployment
  desc: test
  condition: evt.type = close and k8s.deployment.name = web and k8smeta.svc.name intersects (web-svc)
  output: "dep=%k8s.deployment.name rs=%k8s.rs.name svc=%k8s.svc.name ns_env=%k8s.ns.label.env dep_uid=%k8smeta.deployment.uid"
  priority: WARNING
"#;

fn close_event(tid: u64) -> Vec<u8> {
    let info = event_table()
        .iter()
        .find(|e| e.enum_name == "PPME_SYSCALL_CLOSE_X")
        .expect("close exit event");
    let mut b = EventBuilder::new(info.code, 1_000, tid);
    for p in info.params.iter() {
        b = match p.ty.fixed_width() {
            Some(1) => b.u8(0),
            Some(2) => b.u16(0),
            Some(4) => b.u32(3),
            _ => b.u64(0),
        };
    }
    b.finish()
}

/// A state with thread 300 in a container whose pod UID label is `pod_uid`.
fn state(pod_uid: &str) -> State {
    let mut st = State::default();
    st.add_thread(ThreadRecord {
        tid: 300,
        pid: 300,
        ptid: 1,
        comm: b"sh".to_vec(),
        exe: b"/bin/sh".to_vec(),
        exepath: b"/bin/sh".to_vec(),
        cgroups: vec![(b"cpuset".to_vec(), format!("/docker/{CONTAINER}").into_bytes())],
        ..ThreadRecord::default()
    });
    st.set_container(ContainerInfo {
        id: CONTAINER.as_bytes()[..12].to_vec(),
        labels: vec![(b"io.kubernetes.pod.uid".to_vec(), pod_uid.as_bytes().to_vec())],
        from_engine: true,
        ..ContainerInfo::default()
    });
    st
}

/// The messages of the alerts `catalog`'s ruleset raises for a close event of thread 300 in `st`.
fn alerts(catalog: SyscallCatalog, st: &mut State) -> Vec<String> {
    let loaded = load_sources(&[("k8s.yaml", RULES)], &LoadOptions::with_sources(["syscall"]));
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let (rs, diags) = SourceRuleset::<Syscall>::compile(
        &loaded,
        Arc::new(catalog) as Arc<dyn Catalog<Syscall>>,
        &EngineConfig::default(),
    );
    assert_eq!(rs.rules().len(), 1, "{diags:?}");
    let bytes = close_event(300);
    let raw = RawEvent::parse(&bytes, 0).expect("event");
    st.process_event(&raw);
    let ev = SysEvent::new(&raw, st, 1);
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    rs.evaluate_into(&ev, 0, &mut scratch, &mut out);
    out.into_iter().map(|a| a.message).collect()
}

#[test]
fn rule_on_deployment_name_fires_through_the_engine() {
    let api = FakeApi::start("tok");
    seed(&api);
    let w = watcher(&api, "node-a", "tok");
    let meta = w.meta();
    wait_for("pod-1 resolved", || {
        meta.pod("pod-1")
            .is_some_and(|m| m.deployment.is_some() && m.namespace.is_some() && m.services.len() == 2)
    });
    let catalog = SyscallCatalog::with_k8s_api(Arc::new(meta.clone()));
    let mut st = state("pod-1");
    assert_eq!(
        alerts(catalog.clone(), &mut st),
        vec!["dep=web rs=web-6d svc=web-admin, web-svc ns_env=prod dep_uid=dep-1".to_string()]
    );

    // Without the API enrichment the fields are <NA> and the rule cannot match.
    assert!(alerts(SyscallCatalog::new(), &mut st).is_empty());
    // A container of a pod the API does not know: no match either.
    assert!(alerts(catalog.clone(), &mut state("pod-unknown")).is_empty());

    // The pod moves to another deployment (new ReplicaSet owned by a new Deployment): the rule stops matching.
    api.put(
        DEPLOYMENTS,
        json!({"kind":"Deployment","metadata":{"name":"api","namespace":"shop","uid":"dep-2"}}),
    );
    api.put(RS, super::watch::replicaset("api-5f", "rs-2", "dep-2"));
    api.put(
        PODS,
        super::watch::pod("web-1", "pod-1", "node-a", "rs-2", json!({"app":"web"})),
    );
    wait_for("pod-1 now in deployment api", || {
        meta.pod("pod-1")
            .is_some_and(|m| m.deployment.as_ref().is_some_and(|d| d.name == "api"))
    });
    assert!(alerts(catalog, &mut st).is_empty());
}

#[test]
fn api_fields_are_na_without_configuration() {
    let c = SyscallCatalog::new();
    for name in [
        "k8s.deployment.name",
        "k8s.svc.name",
        "k8smeta.svc.name",
        "k8s.ns.labels",
        "k8smeta.pod.ip",
    ] {
        let f = c.bind(name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut st = state("pod-1");
        let bytes = close_event(300);
        let raw = RawEvent::parse(&bytes, 0).expect("event");
        st.process_event(&raw);
        let ev = SysEvent::new(&raw, &st, 1);
        let mut out = mamoru_fields::Values::new();
        f.extractor.extract(&ev, &mut out);
        assert!(out.is_empty(), "{name} must be <NA> without k8s_api");
    }
    assert!(c.bind("k8smeta.svc.name", None).unwrap().info.flags.is_list);
    assert!(c.bind("k8s.deployment.label.app", None).is_ok());
    assert!(c.bind("k8smeta.deployment.label", Some("app")).is_ok());
    assert!(c.bind("k8smeta.deployment.label", None).is_err());
}
