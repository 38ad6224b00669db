//! Kubernetes API enrichment fields: `k8s.{deployment,rs,rc,svc}.*`, `k8s.ns.{id,label,labels}` (the names of
//! libsinsp's former Kubernetes client) and `k8smeta.*` (the names of Falco's k8smeta plugin).
//!
//! The values come from a [`K8sApiLookup`] (implemented by the `mamoru-k8s` watcher) keyed by the pod UID that the
//! container runtime's CRI labels give the event's container. The lookup is a snapshot read: extraction never waits
//! on the network. Without a lookup (API enrichment not configured) or before the pod is known, every field is `<NA>`.

use super::fields::F;
use super::{SysEvent, Syscall};
use crate::catalog::Extractor;
use crate::value::Values;
use std::sync::Arc;

/// One Kubernetes object as the enrichment fields see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K8sObjectMeta {
    pub name: String,
    pub uid: String,
    /// Labels sorted by key.
    pub labels: Vec<(String, String)>,
}

impl K8sObjectMeta {
    /// The value of label `key`.
    pub fn label(&self, key: &[u8]) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k.as_bytes() == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What the Kubernetes API says about one pod and the objects related to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K8sPodMeta {
    pub pod: K8sObjectMeta,
    /// `status.podIP`.
    pub ip: Option<String>,
    pub namespace_name: String,
    /// The namespace object (labels, uid), when it has been listed.
    pub namespace: Option<K8sObjectMeta>,
    /// The ReplicaSet controlling the pod.
    pub replicaset: Option<K8sObjectMeta>,
    /// The Deployment controlling that ReplicaSet.
    pub deployment: Option<K8sObjectMeta>,
    /// The ReplicationController controlling the pod.
    pub replication_controller: Option<K8sObjectMeta>,
    /// Every Service of the pod's namespace whose selector matches the pod's labels, by name.
    pub services: Vec<K8sObjectMeta>,
}

/// A non-blocking source of [`K8sPodMeta`] by pod UID.
pub trait K8sApiLookup: Send + Sync {
    /// The metadata of pod `pod_uid`, `None` while unknown. Must not block on I/O.
    fn pod(&self, pod_uid: &str) -> Option<Arc<K8sPodMeta>>;
}

/// True for the fields this module extracts.
pub(crate) fn is_api_field(id: F) -> bool {
    use F::*;
    matches!(
        id,
        K8sRcName
            | K8sRcId
            | K8sRcLabel
            | K8sRcLabels
            | K8sSvcName
            | K8sSvcId
            | K8sSvcLabel
            | K8sSvcLabels
            | K8sNsId
            | K8sNsLabel
            | K8sNsLabels
            | K8sRsName
            | K8sRsId
            | K8sRsLabel
            | K8sRsLabels
            | K8sDeploymentName
            | K8sDeploymentId
            | K8sDeploymentLabel
            | K8sDeploymentLabels
            | K8smetaPodName
            | K8smetaPodUid
            | K8smetaPodLabel
            | K8smetaPodLabels
            | K8smetaPodIp
            | K8smetaNsName
            | K8smetaNsUid
            | K8smetaNsLabel
            | K8smetaNsLabels
            | K8smetaDeploymentName
            | K8smetaDeploymentUid
            | K8smetaDeploymentLabel
            | K8smetaDeploymentLabels
            | K8smetaSvcName
            | K8smetaSvcUid
            | K8smetaSvcLabel
            | K8smetaSvcLabels
            | K8smetaRsName
            | K8smetaRsUid
            | K8smetaRsLabel
            | K8smetaRsLabels
            | K8smetaRcName
            | K8smetaRcUid
            | K8smetaRcLabel
            | K8smetaRcLabels
    )
}

/// Extractor of one API enrichment field.
pub(crate) struct K8sApiExtractor {
    id: F,
    key: Option<Vec<u8>>,
    lookup: Option<Arc<dyn K8sApiLookup>>,
}

impl K8sApiExtractor {
    pub(crate) fn new(id: F, key: Option<&str>, lookup: Option<Arc<dyn K8sApiLookup>>) -> Self {
        K8sApiExtractor {
            id,
            key: key.map(|k| k.as_bytes().to_vec()),
            lookup,
        }
    }

    fn key(&self) -> &[u8] {
        self.key.as_deref().unwrap_or_default()
    }
}

/// Which object of a pod's metadata a field reads.
#[derive(Clone, Copy)]
enum Obj {
    Pod,
    Ns,
    Rs,
    Deployment,
    Rc,
}

/// What a field reads from its object.
#[derive(Clone, Copy)]
enum Part {
    Name,
    Uid,
    Label,
    /// libsinsp style: one string `k1:v1,k2:v2`.
    LabelsJoined,
    /// k8smeta style: a list of `k:v`.
    LabelsList,
}

fn object(meta: &K8sPodMeta, obj: Obj) -> Option<&K8sObjectMeta> {
    match obj {
        Obj::Pod => Some(&meta.pod),
        Obj::Ns => meta.namespace.as_ref(),
        Obj::Rs => meta.replicaset.as_ref(),
        Obj::Deployment => meta.deployment.as_ref(),
        Obj::Rc => meta.replication_controller.as_ref(),
    }
}

fn joined_labels(o: &K8sObjectMeta) -> String {
    let parts: Vec<String> = o.labels.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    parts.join(",")
}

fn push_part(o: &K8sObjectMeta, part: Part, key: &[u8], out: &mut Values) {
    match part {
        Part::Name => out.push_bytes(o.name.as_bytes()),
        Part::Uid => out.push_bytes(o.uid.as_bytes()),
        Part::Label => {
            if let Some(v) = o.label(key) {
                out.push_bytes(v.as_bytes());
            }
        }
        Part::LabelsJoined if !o.labels.is_empty() => out.push_bytes(joined_labels(o).as_bytes()),
        Part::LabelsJoined => {}
        Part::LabelsList => {
            for (k, v) in &o.labels {
                out.push_fmt(format_args!("{k}:{v}"));
            }
        }
    }
}

/// libsinsp's service fields: one value, the services' values joined with `, `.
fn push_services_joined(meta: &K8sPodMeta, part: Part, key: &[u8], out: &mut Values) {
    let values: Vec<String> = meta
        .services
        .iter()
        .filter_map(|s| match part {
            Part::Name => Some(s.name.clone()),
            Part::Uid => Some(s.uid.clone()),
            Part::Label => s.label(key).map(str::to_string),
            _ => Some(joined_labels(s)).filter(|l| !l.is_empty()),
        })
        .collect();
    if !values.is_empty() {
        out.push_bytes(values.join(", ").as_bytes());
    }
}

/// k8smeta's service fields: one list element per service (per label for `labels`).
fn push_services_list(meta: &K8sPodMeta, part: Part, key: &[u8], out: &mut Values) {
    for s in &meta.services {
        push_part(s, part, key, out);
    }
}

impl K8sApiExtractor {
    fn push(&self, meta: &K8sPodMeta, out: &mut Values) {
        use F::*;
        let key = self.key();
        let single = |obj: Obj, part: Part, out: &mut Values| {
            if let Some(o) = object(meta, obj) {
                push_part(o, part, key, out);
            }
        };
        match self.id {
            K8sRcName | K8smetaRcName => single(Obj::Rc, Part::Name, out),
            K8sRcId | K8smetaRcUid => single(Obj::Rc, Part::Uid, out),
            K8sRcLabel | K8smetaRcLabel => single(Obj::Rc, Part::Label, out),
            K8sRcLabels => single(Obj::Rc, Part::LabelsJoined, out),
            K8smetaRcLabels => single(Obj::Rc, Part::LabelsList, out),
            K8sRsName | K8smetaRsName => single(Obj::Rs, Part::Name, out),
            K8sRsId | K8smetaRsUid => single(Obj::Rs, Part::Uid, out),
            K8sRsLabel | K8smetaRsLabel => single(Obj::Rs, Part::Label, out),
            K8sRsLabels => single(Obj::Rs, Part::LabelsJoined, out),
            K8smetaRsLabels => single(Obj::Rs, Part::LabelsList, out),
            K8sDeploymentName | K8smetaDeploymentName => single(Obj::Deployment, Part::Name, out),
            K8sDeploymentId | K8smetaDeploymentUid => single(Obj::Deployment, Part::Uid, out),
            K8sDeploymentLabel | K8smetaDeploymentLabel => single(Obj::Deployment, Part::Label, out),
            K8sDeploymentLabels => single(Obj::Deployment, Part::LabelsJoined, out),
            K8smetaDeploymentLabels => single(Obj::Deployment, Part::LabelsList, out),
            K8sNsId | K8smetaNsUid => single(Obj::Ns, Part::Uid, out),
            K8sNsLabel | K8smetaNsLabel => single(Obj::Ns, Part::Label, out),
            K8sNsLabels => single(Obj::Ns, Part::LabelsJoined, out),
            K8smetaNsLabels => single(Obj::Ns, Part::LabelsList, out),
            K8smetaNsName => out.push_bytes(meta.namespace_name.as_bytes()),
            K8smetaPodName => single(Obj::Pod, Part::Name, out),
            K8smetaPodUid => single(Obj::Pod, Part::Uid, out),
            K8smetaPodLabel => single(Obj::Pod, Part::Label, out),
            K8smetaPodLabels => single(Obj::Pod, Part::LabelsList, out),
            K8smetaPodIp => {
                if let Some(ip) = &meta.ip {
                    out.push_bytes(ip.as_bytes());
                }
            }
            K8sSvcName => push_services_joined(meta, Part::Name, key, out),
            K8sSvcId => push_services_joined(meta, Part::Uid, key, out),
            K8sSvcLabel => push_services_joined(meta, Part::Label, key, out),
            K8sSvcLabels => push_services_joined(meta, Part::LabelsJoined, key, out),
            K8smetaSvcName => push_services_list(meta, Part::Name, key, out),
            K8smetaSvcUid => push_services_list(meta, Part::Uid, key, out),
            K8smetaSvcLabel => push_services_list(meta, Part::Label, key, out),
            K8smetaSvcLabels => push_services_list(meta, Part::LabelsList, key, out),
            _ => {}
        }
    }
}

/// The pod UID of the event's container, from its CRI labels.
fn pod_uid<'e>(ev: &SysEvent<'e>) -> Option<&'e [u8]> {
    let t = ev.thread?;
    let info = ev.state.container(&t.container_id)?;
    info.label(b"io.kubernetes.pod.uid")
        .or_else(|| info.pod_label(b"io.kubernetes.pod.uid"))
}

impl Extractor<Syscall> for K8sApiExtractor {
    fn extract(&self, ev: &SysEvent<'_>, out: &mut Values) {
        let Some(lookup) = &self.lookup else {
            return;
        };
        let Some(uid) = pod_uid(ev).and_then(|u| std::str::from_utf8(u).ok()) else {
            return;
        };
        if let Some(meta) = lookup.pod(uid) {
            self.push(&meta, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, uid: &str, labels: &[(&str, &str)]) -> K8sObjectMeta {
        K8sObjectMeta {
            name: name.into(),
            uid: uid.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn strings(v: &Values) -> Vec<String> {
        v.range(0..v.len())
            .map(|x| match x {
                crate::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn renders_single_joined_and_list_forms() {
        let meta = K8sPodMeta {
            deployment: Some(obj("web", "d-1", &[("app", "web"), ("tier", "fe")])),
            services: vec![obj("a", "s-1", &[("x", "1")]), obj("b", "s-2", &[])],
            ..Default::default()
        };
        let run = |id: F, key: Option<&str>| {
            let mut out = Values::new();
            K8sApiExtractor::new(id, key, None).push(&meta, &mut out);
            strings(&out)
        };
        assert_eq!(run(F::K8sDeploymentName, None), vec!["web"]);
        assert_eq!(run(F::K8smetaDeploymentUid, None), vec!["d-1"]);
        assert_eq!(run(F::K8sDeploymentLabel, Some("tier")), vec!["fe"]);
        assert_eq!(run(F::K8sDeploymentLabels, None), vec!["app:web,tier:fe"]);
        assert_eq!(run(F::K8smetaDeploymentLabels, None), vec!["app:web", "tier:fe"]);
        assert_eq!(run(F::K8sSvcName, None), vec!["a, b"]);
        assert_eq!(run(F::K8smetaSvcName, None), vec!["a", "b"]);
        assert_eq!(run(F::K8smetaSvcLabel, Some("x")), vec!["1"]);
        assert!(run(F::K8sRsName, None).is_empty());
        assert!(run(F::K8sNsLabels, None).is_empty());
    }
}
