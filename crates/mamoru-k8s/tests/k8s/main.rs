//! Integration tests of mamoru-k8s against a local HTTPS server speaking the Kubernetes list/watch wire format.

mod apiserver;
mod engine;
mod rbac;
mod watch;

use mamoru_k8s::{ClusterConfig, K8sApiConfig, K8sWatcher, TokenSource};
use std::time::{Duration, Instant};

/// Polls `cond` until it holds; fails the test naming `what` after a generous bound (never a timing assertion).
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A watcher of `api` for the pods of `node`, authenticating with `token`.
pub fn watcher(api: &apiserver::FakeApi, node: &str, token: &str) -> K8sWatcher {
    watcher_with_resync(api, node, token, 0)
}

/// As [`watcher`], re-listing every `resync_secs` (0: never).
pub fn watcher_with_resync(api: &apiserver::FakeApi, node: &str, token: &str, resync_secs: u64) -> K8sWatcher {
    let cluster = ClusterConfig {
        server: api.server(),
        ca_pem: Some(api.ca_pem.clone().into_bytes()),
        insecure_skip_tls_verify: false,
        token: Some(TokenSource::Static(token.to_string())),
        identity_pem: None,
    };
    let cfg = K8sApiConfig {
        enabled: true,
        resync_secs,
        ..K8sApiConfig::default()
    };
    K8sWatcher::start_with(&cluster, node, &cfg).expect("watcher starts")
}
