//! The runtime-neutral description of a container that every client produces, and its translation into the state
//! engine's [`ContainerInfo`] with the container plugin's semantics: `container.name` is the Kubernetes container
//! name when CRI set one (the runtime's name otherwise), `k8s.*` come from the `io.kubernetes.*` labels CRI puts on
//! every container, `k8s.pod.labels` are the pod sandbox's own labels.

use crate::image::parse_image_ref;
use crate::spec::SpecFacts;
use mamoru_state::{ContainerInfo, SHORT_ID_LEN};

/// Label with the Kubernetes container name (CRI runtimes set it on each container).
pub const LABEL_K8S_CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// Spec annotations / labels naming the pod sandbox of a CRI container.
const SANDBOX_ID_KEYS: [&str; 3] = [
    "io.kubernetes.cri.sandbox-id",
    "io.kubernetes.cri-o.SandboxID",
    "io.kubernetes.sandbox.id",
];

/// The pod sandbox of a CRI container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sandbox {
    pub id: String,
    pub labels: Vec<(String, String)>,
    pub ip: Option<String>,
}

/// What a runtime told about one container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Described {
    pub full_id: String,
    /// `container.type`.
    pub runtime: &'static str,
    /// The runtime's own name for the container (docker's name, containerd's id).
    pub name: Option<String>,
    /// The image reference the container was created from.
    pub image: Option<String>,
    /// `container.image.id`: the image's own id (config digest hex) when the runtime knows it.
    pub image_id: Option<String>,
    /// The manifest digest (`sha256:...`) the reference resolved to, when the reference itself carries none.
    pub image_digest: Option<String>,
    pub labels: Vec<(String, String)>,
    pub spec: Option<SpecFacts>,
    /// Creation time, nanoseconds since the epoch.
    pub created_ts: Option<u64>,
    pub ip: Option<String>,
    pub sandbox: Option<Sandbox>,
}

impl Described {
    /// The pod sandbox id named by the container's labels or spec annotations.
    pub fn sandbox_id(&self) -> Option<&str> {
        let annotations = self.spec.iter().flat_map(|s| s.annotations.iter());
        SANDBOX_ID_KEYS.iter().find_map(|key| {
            self.labels
                .iter()
                .chain(annotations.clone())
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        })
    }

    /// The state engine's entry for this container.
    pub fn into_info(self) -> ContainerInfo {
        let bytes = |s: &str| s.as_bytes().to_vec();
        let pairs = |v: &[(String, String)]| v.iter().map(|(k, v)| (bytes(k), bytes(v))).collect::<Vec<_>>();
        let short = &self.full_id[..SHORT_ID_LEN.min(self.full_id.len())];
        let mut info = ContainerInfo {
            id: bytes(short),
            full_id: Some(bytes(&self.full_id)),
            runtime: Some(bytes(self.runtime)),
            from_engine: true,
            created_ts: self.created_ts,
            ..Default::default()
        };
        let k8s_name = self.labels.iter().find(|(k, _)| k == LABEL_K8S_CONTAINER_NAME);
        info.name = k8s_name
            .map(|(_, v)| bytes(v))
            .or_else(|| self.name.as_deref().map(bytes));
        if let Some(image) = self.image.as_deref().filter(|i| !i.is_empty()) {
            let parts = parse_image_ref(image);
            info.image = Some(bytes(image));
            info.image_repository = Some(bytes(&parts.repository));
            info.image_tag = Some(bytes(&parts.tag));
            let digest = if parts.digest.is_empty() {
                self.image_digest.clone().unwrap_or_default()
            } else {
                parts.digest
            };
            info.image_digest = Some(bytes(&digest));
        }
        info.image_id = self.image_id.as_deref().map(bytes);
        info.labels = pairs(&self.labels);
        info.ip = self.ip.as_deref().map(bytes);
        if let Some(spec) = &self.spec {
            info.privileged = spec.privileged;
            info.mounts = spec.mounts.clone();
            info.host_pid = spec.host_pid;
            info.host_network = spec.host_network;
            info.host_ipc = spec.host_ipc;
        }
        if let Some(id) = self.sandbox_id() {
            info.pod_sandbox_id = Some(bytes(id));
        }
        if let Some(sb) = &self.sandbox {
            info.pod_sandbox_id = Some(bytes(&sb.id));
            info.pod_sandbox_labels = pairs(&sb.labels);
            if info.ip.is_none() {
                info.ip = sb.ip.as_deref().map(bytes);
            }
        }
        info
    }
}

/// Labels a runtime adds for its own bookkeeping, which are not the pod's labels.
pub fn is_internal_label(key: &str) -> bool {
    key.starts_with("io.kubernetes.") || key.starts_with("io.cri-containerd.") || key.starts_with("io.containerd.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k8s_container_name_wins_and_image_splits() {
        let d = Described {
            full_id: "0123456789abcdef".into(),
            runtime: "containerd",
            name: Some("0123456789abcdef".into()),
            image: Some("probe/bb:bb".into()),
            image_digest: Some("sha256:aa".into()),
            labels: vec![
                (LABEL_K8S_CONTAINER_NAME.into(), "web".into()),
                ("io.kubernetes.pod.name".into(), "web-0".into()),
            ],
            sandbox: Some(Sandbox {
                id: "sb1".into(),
                labels: vec![("app".into(), "web".into())],
                ip: Some("10.0.0.7".into()),
            }),
            ..Default::default()
        };
        let info = d.into_info();
        assert_eq!(info.id, b"0123456789ab");
        assert_eq!(info.name.as_deref(), Some(&b"web"[..]));
        assert_eq!(info.image_repository.as_deref(), Some(&b"probe/bb"[..]));
        assert_eq!(info.image_tag.as_deref(), Some(&b"bb"[..]));
        assert_eq!(info.image_digest.as_deref(), Some(&b"sha256:aa"[..]));
        assert_eq!(info.label(b"io.kubernetes.pod.name"), Some(&b"web-0"[..]));
        assert_eq!(info.pod_label(b"app"), Some(&b"web"[..]));
        assert_eq!(info.ip.as_deref(), Some(&b"10.0.0.7"[..]));
        assert!(info.from_engine);
    }

    #[test]
    fn plain_containers_keep_the_runtime_name() {
        let d = Described {
            full_id: "probe-ctr".into(),
            runtime: "containerd",
            name: Some("probe-ctr".into()),
            ..Default::default()
        };
        let info = d.into_info();
        assert_eq!(info.id, b"probe-ctr");
        assert_eq!(info.name.as_deref(), Some(&b"probe-ctr"[..]));
        assert_eq!(info.image, None);
        assert!(!is_internal_label("app"));
        assert!(is_internal_label("io.cri-containerd.kind"));
    }
}
