//! LIST + WATCH against the fake API server: enrichment after ADDED/MODIFIED/DELETED, bookmarks, re-list on 410
//! (as a watch ERROR event and as an HTTP status), authentication and TLS failures.

use super::apiserver::FakeApi;
use super::{wait_for, watcher, watcher_with_resync};
use mamoru_fields::syscall::{K8sApiLookup, K8sPodMeta};
use serde_json::{json, Value};
use std::sync::Arc;

pub const PODS: &str = "/api/v1/pods";
pub const RS: &str = "/apis/apps/v1/replicasets";
pub const DEPLOYMENTS: &str = "/apis/apps/v1/deployments";
pub const SERVICES: &str = "/api/v1/services";
pub const NAMESPACES: &str = "/api/v1/namespaces";

fn meta(name: &str, ns: &str, uid: &str, labels: Value) -> Value {
    json!({"name": name, "namespace": ns, "uid": uid, "labels": labels})
}

pub fn namespace(name: &str, uid: &str, labels: Value) -> Value {
    json!({"kind":"Namespace","apiVersion":"v1","metadata":{"name":name,"uid":uid,"labels":labels}})
}

pub fn deployment(name: &str, uid: &str, labels: Value) -> Value {
    json!({"kind":"Deployment","apiVersion":"apps/v1","metadata": meta(name, "shop", uid, labels)})
}

pub fn replicaset(name: &str, uid: &str, deployment_uid: &str) -> Value {
    let mut m = meta(name, "shop", uid, json!({"app":"web"}));
    m["ownerReferences"] =
        json!([{"apiVersion":"apps/v1","kind":"Deployment","name":"x","uid":deployment_uid,"controller":true}]);
    json!({"kind":"ReplicaSet","apiVersion":"apps/v1","metadata": m})
}

pub fn pod(name: &str, uid: &str, node: &str, rs_uid: &str, labels: Value) -> Value {
    let mut m = meta(name, "shop", uid, labels);
    m["ownerReferences"] =
        json!([{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"x","uid":rs_uid,"controller":true}]);
    json!({"kind":"Pod","apiVersion":"v1","metadata": m,"spec":{"nodeName":node},"status":{"podIP":"10.1.2.3"}})
}

pub fn service(name: &str, uid: &str, selector: Value) -> Value {
    json!({"kind":"Service","apiVersion":"v1","metadata": meta(name, "shop", uid, json!({"svc": name})),"spec":{"selector":selector}})
}

/// A cluster with one Deployment `web` (ReplicaSet `web-6d`) whose pod `web-1` runs on node-a, a pod on node-b,
/// three Services (two select `app=web`) and the `shop` namespace.
pub fn seed(api: &FakeApi) {
    api.put(NAMESPACES, namespace("shop", "ns-1", json!({"env":"prod"})));
    api.put(DEPLOYMENTS, deployment("web", "dep-1", json!({"app":"web","team":"a"})));
    api.put(RS, replicaset("web-6d", "rs-1", "dep-1"));
    api.put(
        PODS,
        pod("web-1", "pod-1", "node-a", "rs-1", json!({"app":"web","tier":"fe"})),
    );
    api.put(PODS, pod("web-9", "pod-2", "node-b", "rs-1", json!({"app":"web"})));
    api.put(SERVICES, service("web-svc", "svc-1", json!({"app":"web"})));
    api.put(
        SERVICES,
        service("web-admin", "svc-2", json!({"app":"web","tier":"fe"})),
    );
    api.put(SERVICES, service("db", "svc-3", json!({"app":"db"})));
}

fn names(m: &K8sPodMeta) -> Vec<String> {
    m.services.iter().map(|s| s.name.clone()).collect()
}

fn pod_meta(l: &dyn K8sApiLookup, uid: &str) -> Option<Arc<K8sPodMeta>> {
    l.pod(uid)
}

#[test]
fn list_watch_enriches_pods_and_follows_changes() {
    let api = FakeApi::start("s3cret");
    seed(&api);
    let w = watcher(&api, "node-a", "s3cret");
    let meta = w.meta();
    wait_for("pod-1 resolved to its deployment", || {
        pod_meta(&meta, "pod-1")
            .is_some_and(|m| m.deployment.is_some() && m.namespace.is_some() && m.services.len() == 2)
    });
    let m = pod_meta(&meta, "pod-1").unwrap();
    assert_eq!(m.pod.name, "web-1");
    assert_eq!(m.ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(m.namespace_name, "shop");
    assert_eq!(m.namespace.as_ref().unwrap().label(b"env"), Some("prod"));
    assert_eq!(m.replicaset.as_ref().unwrap().name, "web-6d");
    let d = m.deployment.as_ref().unwrap();
    assert_eq!((d.name.as_str(), d.uid.as_str()), ("web", "dep-1"));
    assert_eq!(names(&m), vec!["web-admin", "web-svc"]);
    assert!(
        pod_meta(&meta, "pod-2").is_none(),
        "a pod of another node is not watched"
    );

    // Every request carried the token; pods were listed and watched for this node only, with bookmarks on.
    let seen = api.seen();
    assert!(seen.iter().all(|s| s.authorized), "{seen:?}");
    for s in seen.iter().filter(|s| s.path == PODS) {
        assert_eq!(
            s.query.get("fieldSelector").map(String::as_str),
            Some("spec.nodeName=node-a")
        );
    }

    // MODIFIED: the deployment's labels change.
    api.put(DEPLOYMENTS, deployment("web", "dep-1", json!({"app":"web","team":"b"})));
    wait_for("deployment label update", || {
        pod_meta(&meta, "pod-1").is_some_and(|m| m.deployment.as_ref().and_then(|d| d.label(b"team")) == Some("b"))
    });
    // That change came through a watch; every watch asked for bookmarks.
    let seen = api.seen();
    let watches: Vec<_> = seen.iter().filter(|s| s.is_watch() && s.path == DEPLOYMENTS).collect();
    assert!(!watches.is_empty());
    assert!(seen
        .iter()
        .filter(|s| s.is_watch())
        .all(|s| s.query.get("allowWatchBookmarks").map(String::as_str) == Some("true")));
    // ADDED: a new pod of the same ReplicaSet on this node, and a new service selecting it.
    api.put(PODS, pod("web-2", "pod-3", "node-a", "rs-1", json!({"app":"web"})));
    api.put(SERVICES, service("canary", "svc-4", json!({"app":"web"})));
    wait_for("new pod with the new service", || {
        pod_meta(&meta, "pod-3").is_some_and(|m| {
            m.deployment.as_ref().is_some_and(|d| d.name == "web") && names(m.as_ref()) == ["canary", "web-svc"]
        })
    });
    // DELETED: a service and a pod go away.
    api.delete(SERVICES, "svc-2");
    api.delete(PODS, "pod-3");
    wait_for("deletions applied", || {
        pod_meta(&meta, "pod-3").is_none()
            && pod_meta(&meta, "pod-1").is_some_and(|m| names(m.as_ref()) == ["canary", "web-svc"])
    });
    // A pod moving its labels stops matching a service (MODIFIED on the pod side).
    api.put(PODS, pod("web-1", "pod-1", "node-a", "rs-1", json!({"app":"web2"})));
    wait_for("pod relabelled", || {
        pod_meta(&meta, "pod-1").is_some_and(|m| m.services.is_empty() && m.deployment.is_some())
    });

    // BOOKMARK: after the watch ends, the client resumes from the bookmark's resource version.
    wait_for("pods watch open", || api.watches_opened(PODS) >= 1);
    let bookmark_rv = api.bookmark(PODS);
    wait_for("bookmark received", || meta.stats().bookmarks >= 1);
    api.close_watches(PODS);
    wait_for("re-watch from the bookmark", || {
        api.seen()
            .iter()
            .any(|s| s.path == PODS && s.is_watch() && s.query.get("resourceVersion") == Some(&bookmark_rv.to_string()))
    });
    assert_eq!(meta.stats().gone, 0);
}

#[test]
fn relists_after_410_gone() {
    let api = FakeApi::start("tok");
    seed(&api);
    let w = watcher(&api, "node-a", "tok");
    let meta = w.meta();
    wait_for("initial resolution", || {
        pod_meta(&meta, "pod-1").is_some_and(|m| m.deployment.is_some() && m.namespace.is_some())
    });
    let lists = |path: &str| api.seen().iter().filter(|s| s.path == path && !s.is_watch()).count();
    assert_eq!(lists(DEPLOYMENTS), 1);

    // A change whose watch event was lost to compaction, then an ERROR 410 on the open watch: only a re-list
    // can bring the change in.
    api.put_silently(DEPLOYMENTS, deployment("web", "dep-1", json!({"release":"blue"})));
    wait_for("deployments watch open", || api.watches_opened(DEPLOYMENTS) >= 1);
    let mark = api.seen().len();
    api.expire(DEPLOYMENTS);
    wait_for("re-list after ERROR 410", || {
        pod_meta(&meta, "pod-1")
            .is_some_and(|m| m.deployment.as_ref().and_then(|d| d.label(b"release")) == Some("blue"))
    });
    // The ERROR event itself made the client re-list: its next deployments request is a LIST, not a re-watch.
    let next = api.seen().into_iter().skip(mark).find(|s| s.path == DEPLOYMENTS);
    assert!(
        next.is_some_and(|s| !s.is_watch()),
        "expected a LIST right after the ERROR 410"
    );
    assert!(lists(DEPLOYMENTS) >= 2);
    assert!(meta.stats().gone >= 1);

    // The namespace changes silently, history is compacted and the watch ends: re-watching from the old version
    // gets HTTP 410, and the client re-lists.
    api.put_silently(NAMESPACES, namespace("shop", "ns-1", json!({"env":"staging"})));
    let gone_before = meta.stats().gone;
    wait_for("watches open", || {
        api.watches_opened(PODS) >= 1 && api.watches_opened(NAMESPACES) >= 1
    });
    api.expire(PODS); // compacts history; the pods watch re-lists too
    api.close_watches(NAMESPACES);
    wait_for("re-list after HTTP 410", || {
        pod_meta(&meta, "pod-1").is_some_and(|m| m.namespace.as_ref().and_then(|n| n.label(b"env")) == Some("staging"))
    });
    assert!(meta.stats().gone >= gone_before + 2, "{:?}", meta.stats());
    let mut registry = prometheus_client::registry::Registry::default();
    meta.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let gone_line = format!("mamoru_k8s_api_gone_total {}", meta.stats().gone);
    assert!(text.contains(&gone_line), "{text}");
    assert!(text.contains("mamoru_k8s_api_pods 1"), "{text}");
    assert!(lists(NAMESPACES) >= 2);
    // Watching still works after the re-lists.
    api.put(DEPLOYMENTS, deployment("web", "dep-1", json!({"release":"green"})));
    wait_for("watch resumed", || {
        pod_meta(&meta, "pod-1")
            .is_some_and(|m| m.deployment.as_ref().and_then(|d| d.label(b"release")) == Some("green"))
    });
}

#[test]
fn wrong_token_and_untrusted_server_are_errors_with_retries() {
    let api = FakeApi::start("right");
    seed(&api);
    let w = watcher(&api, "node-a", "wrong");
    let meta = w.meta();
    wait_for("retries after 401", || meta.stats().errors >= 12);
    assert_eq!(meta.stats().lists, 0);
    assert!(meta.pod("pod-1").is_none());
    assert!(api.seen().iter().all(|s| !s.authorized));
    drop(w);

    // A server whose certificate the configured CA did not sign: no request gets through TLS.
    let other = FakeApi::start("right");
    let before = api.seen().len();
    let cluster = mamoru_k8s::ClusterConfig {
        server: api.server(),
        ca_pem: Some(other.ca_pem.clone().into_bytes()),
        insecure_skip_tls_verify: false,
        token: Some(mamoru_k8s::TokenSource::Static("right".into())),
        identity_pem: None,
    };
    let w = mamoru_k8s::K8sWatcher::start_with(&cluster, "node-a", &mamoru_k8s::K8sApiConfig::default()).unwrap();
    let meta = w.meta();
    wait_for("TLS failures", || meta.stats().errors >= 6);
    assert_eq!(meta.stats().lists, 0);
    assert_eq!(
        api.seen().len(),
        before,
        "no request may pass an untrusted TLS handshake"
    );
}

#[test]
fn resync_relists_every_kind_and_picks_up_missed_changes() {
    let api = FakeApi::start("tok");
    seed(&api);
    let w = watcher_with_resync(&api, "node-a", "tok", 1);
    let meta = w.meta();
    wait_for("initial resolution", || {
        pod_meta(&meta, "pod-1").is_some_and(|m| m.deployment.is_some())
    });
    // A change without any watch event: no 410 either, only the periodic re-list can bring it in.
    api.put_silently(DEPLOYMENTS, deployment("web", "dep-1", json!({"release":"resynced"})));
    wait_for("resync picked up the change", || {
        pod_meta(&meta, "pod-1")
            .is_some_and(|m| m.deployment.as_ref().and_then(|d| d.label(b"release")) == Some("resynced"))
    });
    let lists = |path: &str| api.seen().iter().filter(|s| s.path == path && !s.is_watch()).count();
    let all = [
        PODS,
        RS,
        DEPLOYMENTS,
        SERVICES,
        NAMESPACES,
        "/api/v1/replicationcontrollers",
    ];
    wait_for("every kind re-listed", || all.iter().all(|p| lists(p) >= 2));
    assert_eq!(meta.stats().gone, 0);
    // Watches asked the server to end them at the resync period.
    assert!(api
        .seen()
        .iter()
        .filter(|s| s.is_watch())
        .all(|s| s.query.get("timeoutSeconds").is_some_and(|t| t == "1")));
}

#[test]
fn a_client_certificate_authenticates_and_no_certificate_gets_nothing() {
    let api = FakeApi::start_mtls();
    seed(&api);
    let identity = api.client_identity_pem.clone().expect("client identity");
    let cluster = |identity_pem: Option<Vec<u8>>| mamoru_k8s::ClusterConfig {
        server: api.server(),
        ca_pem: Some(api.ca_pem.clone().into_bytes()),
        insecure_skip_tls_verify: false,
        token: None,
        identity_pem,
    };
    // Without a certificate the handshake is refused: errors, retries, no request reaches the server.
    let w = mamoru_k8s::K8sWatcher::start_with(&cluster(None), "node-a", &mamoru_k8s::K8sApiConfig::default())
        .expect("watcher starts");
    let meta = w.meta();
    wait_for("handshake failures", || meta.stats().errors >= 6);
    assert_eq!(meta.stats().lists, 0);
    assert!(api.seen().is_empty(), "no request without a client certificate");
    drop(w);

    // With the CA-signed client certificate (kubeconfig client-certificate-data + client-key-data).
    let w = mamoru_k8s::K8sWatcher::start_with(
        &cluster(Some(identity.into_bytes())),
        "node-a",
        &mamoru_k8s::K8sApiConfig::default(),
    )
    .expect("watcher starts");
    let meta = w.meta();
    wait_for("pod-1 resolved over mTLS", || {
        pod_meta(&meta, "pod-1").is_some_and(|m| m.deployment.is_some() && m.namespace.is_some())
    });
    assert_eq!(pod_meta(&meta, "pod-1").unwrap().pod.name, "web-1");
    assert!(!api.seen().is_empty());
}
