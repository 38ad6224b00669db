//! The object stores (one bounded map per kind, keyed by uid) and the snapshot the event path reads: every pod of
//! this node resolved to its namespace, ReplicaSet, Deployment, ReplicationController and Services. The reflectors
//! write the stores; a publisher rebuilds the snapshot after each batch of changes and swaps it in, so a lookup is a
//! read lock held for one hash probe.

use crate::client::{Kind, Obj};
use mamoru_fields::syscall::{K8sApiLookup, K8sObjectMeta, K8sPodMeta};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;

/// Counters of the watcher.
#[derive(Debug, Default)]
pub struct Counters {
    pub lists: Counter,
    /// Re-lists forced by `410 Gone` (HTTP status or watch ERROR event).
    pub gone: Counter,
    pub watch_events: Counter,
    pub bookmarks: Counter,
    pub errors: Counter,
    /// Objects not stored because their kind's store was full.
    pub dropped: Counter,
    /// Snapshots published.
    pub snapshots: Counter,
    /// Pods in the published snapshot.
    pub pods: Gauge,
}

impl Counters {
    fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("mamoru_k8s_api");
        r.register("lists", "Complete LISTs of a resource", self.lists.clone());
        r.register("gone", "Re-lists forced by 410 Gone", self.gone.clone());
        r.register("watch_events", "Watch events received", self.watch_events.clone());
        r.register("bookmarks", "Watch bookmarks received", self.bookmarks.clone());
        r.register(
            "errors",
            "Failed LIST or WATCH requests (retried with backoff)",
            self.errors.clone(),
        );
        r.register(
            "dropped",
            "Objects not stored because the store was full (max_objects)",
            self.dropped.clone(),
        );
        r.register(
            "snapshots",
            "Snapshots published to the event path",
            self.snapshots.clone(),
        );
        r.register("pods", "Pods of this node in the snapshot", self.pods.clone());
    }
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub lists: u64,
    pub gone: u64,
    pub watch_events: u64,
    pub bookmarks: u64,
    pub errors: u64,
    pub dropped: u64,
    pub snapshots: u64,
    /// Pods in the current snapshot.
    pub pods: u64,
}

type Snapshot = HashMap<String, Arc<K8sPodMeta>>;

/// State shared by the reflectors, the publisher and the lookups.
pub(crate) struct Shared {
    stores: Mutex<[HashMap<String, Obj>; 6]>,
    max_objects: usize,
    snapshot: RwLock<Arc<Snapshot>>,
    pub(crate) dirty: Notify,
    pub(crate) counters: Counters,
}

impl Shared {
    pub(crate) fn new(max_objects: usize) -> Shared {
        Shared {
            stores: Mutex::new(Default::default()),
            max_objects: max_objects.max(1),
            snapshot: RwLock::new(Arc::new(HashMap::new())),
            dirty: Notify::new(),
            counters: Counters::default(),
        }
    }

    fn stores(&self) -> MutexGuard<'_, [HashMap<String, Obj>; 6]> {
        // A poisoned lock only means a writer panicked mid-update; the maps are still valid maps.
        self.stores.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces every object of `kind` (after a LIST).
    pub(crate) fn replace(&self, kind: Kind, items: Vec<Obj>) {
        let mut map = HashMap::with_capacity(items.len().min(self.max_objects));
        let mut dropped = 0u64;
        for o in items {
            if map.len() >= self.max_objects {
                dropped += 1;
                continue;
            }
            map.insert(o.uid.clone(), o);
        }
        if dropped > 0 {
            self.counters.dropped.inc_by(dropped);
            tracing::warn!(kind = kind.name(), dropped, "k8s_api: store full (max_objects)");
        }
        self.stores()[kind.index()] = map;
        self.dirty.notify_one();
    }

    /// Adds or replaces one object (ADDED / MODIFIED).
    pub(crate) fn upsert(&self, kind: Kind, o: Obj) {
        let mut stores = self.stores();
        let map = &mut stores[kind.index()];
        if map.len() >= self.max_objects && !map.contains_key(&o.uid) {
            self.counters.dropped.inc();
            return;
        }
        map.insert(o.uid.clone(), o);
        drop(stores);
        self.dirty.notify_one();
    }

    /// Removes one object (DELETED).
    pub(crate) fn remove(&self, kind: Kind, uid: &str) {
        self.stores()[kind.index()].remove(uid);
        self.dirty.notify_one();
    }

    /// Rebuilds the snapshot from the stores and swaps it in.
    pub(crate) fn publish(&self) {
        let snap = resolve(&self.stores());
        self.counters.pods.set(snap.len() as i64);
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snap);
        self.counters.snapshots.inc();
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let pods = self.snapshot.read().unwrap_or_else(|e| e.into_inner()).len() as u64;
        Stats {
            lists: c.lists.get(),
            gone: c.gone.get(),
            watch_events: c.watch_events.get(),
            bookmarks: c.bookmarks.get(),
            errors: c.errors.get(),
            dropped: c.dropped.get(),
            snapshots: c.snapshots.get(),
            pods,
        }
    }

    pub(crate) fn lookup(&self, pod_uid: &str) -> Option<Arc<K8sPodMeta>> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(pod_uid)
            .cloned()
    }
}

fn meta(o: &Obj) -> K8sObjectMeta {
    K8sObjectMeta {
        name: o.name.clone(),
        uid: o.uid.clone(),
        labels: o.labels.clone(),
    }
}

/// The controller of `o` when it has kind `kind`, looked up in `store`.
fn owner<'s>(o: &Obj, kind: &str, store: &'s HashMap<String, Obj>) -> Option<&'s Obj> {
    match &o.controller {
        Some((k, uid)) if k == kind => store.get(uid),
        _ => None,
    }
}

/// True when every selector term is one of `labels` (both sorted by key).
fn selects(selector: &[(String, String)], labels: &[(String, String)]) -> bool {
    selector.iter().all(|(k, v)| {
        labels
            .binary_search_by(|(lk, _)| lk.as_str().cmp(k))
            .is_ok_and(|i| &labels[i].1 == v)
    })
}

/// Every pod resolved against the other kinds.
fn resolve(stores: &[HashMap<String, Obj>; 6]) -> Snapshot {
    let [pods, rss, deployments, rcs, services, namespaces] = stores;
    let ns_by_name: HashMap<&str, &Obj> = namespaces.values().map(|n| (n.name.as_str(), n)).collect();
    let mut svc_by_ns: HashMap<&str, Vec<&Obj>> = HashMap::new();
    for s in services.values().filter(|s| s.selector.is_some()) {
        svc_by_ns.entry(s.namespace.as_str()).or_default().push(s);
    }
    for v in svc_by_ns.values_mut() {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    pods.values()
        .map(|p| {
            let rs = owner(p, "ReplicaSet", rss);
            let deployment = rs.and_then(|rs| owner(rs, "Deployment", deployments));
            let services = svc_by_ns
                .get(p.namespace.as_str())
                .map(|v| {
                    v.iter()
                        .filter(|s| s.selector.as_deref().is_some_and(|sel| selects(sel, &p.labels)))
                        .map(|s| meta(s))
                        .collect()
                })
                .unwrap_or_default();
            let m = K8sPodMeta {
                pod: meta(p),
                ip: p.pod_ip.clone(),
                namespace_name: p.namespace.clone(),
                namespace: ns_by_name.get(p.namespace.as_str()).map(|n| meta(n)),
                replicaset: rs.map(meta),
                deployment: deployment.map(meta),
                replication_controller: owner(p, "ReplicationController", rcs).map(meta),
                services,
            };
            (p.uid.clone(), Arc::new(m))
        })
        .collect()
}

/// The enrichment as the field extractors see it: a cheap, cloneable handle on the published snapshot.
#[derive(Clone)]
pub struct K8sMeta {
    pub(crate) shared: Arc<Shared>,
}

impl K8sMeta {
    /// Counters and the snapshot size.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Registers the watcher's counters (`mamoru_k8s_api_*`).
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.shared.counters.register(registry);
    }
}

impl K8sApiLookup for K8sMeta {
    fn pod(&self, pod_uid: &str) -> Option<Arc<K8sPodMeta>> {
        self.shared.lookup(pod_uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(uid: &str, name: &str, ns: &str, labels: &[(&str, &str)], controller: Option<(&str, &str)>) -> Obj {
        let mut labels: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        labels.sort();
        Obj {
            uid: uid.into(),
            name: name.into(),
            namespace: ns.into(),
            labels,
            controller: controller.map(|(k, u)| (k.into(), u.into())),
            ..Obj::default()
        }
    }

    #[test]
    fn resolves_owner_chain_services_and_namespace() {
        let shared = Shared::new(100);
        shared.replace(
            Kind::Pod,
            vec![obj(
                "p1",
                "web-1",
                "shop",
                &[("app", "web"), ("tier", "fe")],
                Some(("ReplicaSet", "r1")),
            )],
        );
        shared.replace(
            Kind::ReplicaSet,
            vec![obj("r1", "web-6d", "shop", &[], Some(("Deployment", "d1")))],
        );
        shared.replace(Kind::Deployment, vec![obj("d1", "web", "shop", &[("team", "a")], None)]);
        let svc = |uid: &str, name: &str, ns: &str, sel: &[(&str, &str)]| Obj {
            selector: Some(sel.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..obj(uid, name, ns, &[], None)
        };
        shared.replace(
            Kind::Service,
            vec![
                svc("s2", "web-b", "shop", &[("app", "web")]),
                svc("s1", "web-a", "shop", &[("app", "web"), ("tier", "fe")]),
                svc("s3", "other", "shop", &[("app", "db")]),
                svc("s4", "elsewhere", "prod", &[("app", "web")]),
            ],
        );
        shared.replace(Kind::Namespace, vec![obj("n1", "shop", "", &[("env", "prod")], None)]);
        shared.publish();
        let m = shared.lookup("p1").unwrap();
        assert_eq!(m.deployment.as_ref().unwrap().name, "web");
        assert_eq!(m.replicaset.as_ref().unwrap().name, "web-6d");
        let names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["web-a", "web-b"]);
        assert_eq!(m.namespace.as_ref().unwrap().uid, "n1");
        assert!(m.replication_controller.is_none());
        assert!(shared.lookup("p2").is_none());
    }

    #[test]
    fn stores_are_bounded() {
        let shared = Shared::new(2);
        shared.replace(
            Kind::Deployment,
            (0..5).map(|i| obj(&format!("d{i}"), "x", "ns", &[], None)).collect(),
        );
        shared.upsert(Kind::Deployment, obj("d9", "x", "ns", &[], None));
        assert_eq!(shared.stores()[Kind::Deployment.index()].len(), 2);
        assert_eq!(shared.stats().dropped, 4);
    }
}
