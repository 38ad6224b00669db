//! What a container's OCI runtime spec (containerd stores it as JSON) says about the container: privileged,
//! mounts, host namespaces, and the Kubernetes annotations CRI writes into it.

use mamoru_state::ContainerMount;
use serde_json::Value;

/// The facts taken from one spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecFacts {
    pub privileged: Option<bool>,
    pub mounts: Vec<ContainerMount>,
    pub host_pid: Option<bool>,
    pub host_network: Option<bool>,
    pub host_ipc: Option<bool>,
    /// `annotations` (CRI keeps the sandbox id, pod name/namespace/uid and container name there).
    pub annotations: Vec<(String, String)>,
}

/// Mount types a runtime adds to every container; only the others (binds, volumes) are the user's mounts.
const RUNTIME_MOUNT_TYPES: [&str; 6] = ["proc", "tmpfs", "devpts", "mqueue", "sysfs", "cgroup"];

const PROPAGATIONS: [&str; 6] = ["rprivate", "private", "rshared", "shared", "rslave", "slave"];

/// Reads the facts from spec JSON. A spec that is not JSON yields nothing (the caller keeps what else it knows).
pub fn spec_facts(json: &[u8]) -> Option<SpecFacts> {
    let spec: Value = serde_json::from_slice(json).ok()?;
    let linux = spec.get("linux");
    let namespaces: Vec<&str> = linux
        .and_then(|l| l.get("namespaces"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|n| n.get("type")?.as_str()).collect())
        .unwrap_or_default();
    // A container shares a host namespace exactly when its spec does not ask for a new one of that type.
    let host_ns = |t: &str| (!namespaces.is_empty()).then(|| !namespaces.contains(&t));
    Some(SpecFacts {
        privileged: Some(is_privileged(&spec)),
        mounts: user_mounts(&spec),
        host_pid: host_ns("pid"),
        host_network: host_ns("network"),
        host_ipc: host_ns("ipc"),
        annotations: spec
            .get("annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Privileged as runtimes build it (`docker run --privileged`, a CRI `privileged: true` security context,
/// `ctr run --privileged`): the bounding set holds CAP_SYS_ADMIN and the kernel paths are neither masked nor
/// read-only.
fn is_privileged(spec: &Value) -> bool {
    let has_sys_admin = spec
        .pointer("/process/capabilities/bounding")
        .and_then(Value::as_array)
        .is_some_and(|caps| caps.iter().any(|c| c.as_str() == Some("CAP_SYS_ADMIN")));
    let empty = |p: &str| spec.pointer(p).and_then(Value::as_array).is_none_or(|a| a.is_empty());
    has_sys_admin && empty("/linux/maskedPaths") && empty("/linux/readonlyPaths")
}

fn user_mounts(spec: &Value) -> Vec<ContainerMount> {
    let Some(mounts) = spec.get("mounts").and_then(Value::as_array) else {
        return Vec::new();
    };
    mounts
        .iter()
        .filter_map(|m| {
            let typ = m.get("type").and_then(Value::as_str).unwrap_or("");
            let options: Vec<&str> = m
                .get("options")
                .and_then(Value::as_array)
                .map(|o| o.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let is_bind = typ == "bind" || options.iter().any(|o| *o == "bind" || *o == "rbind");
            if RUNTIME_MOUNT_TYPES.contains(&typ) && !is_bind {
                return None;
            }
            let propagation = options.iter().find(|o| PROPAGATIONS.contains(o)).copied().unwrap_or("");
            Some(ContainerMount {
                source: m
                    .get("source")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec(),
                dest: m
                    .get("destination")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec(),
                mode: Vec::new(),
                rdwr: !options.contains(&"ro"),
                propagation: propagation.as_bytes().to_vec(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_privileged_mounts_and_namespaces() {
        let spec = br#"{
            "process": {"capabilities": {"bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN"]}},
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro", "rslave"]},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}
            ],
            "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}], "maskedPaths": []},
            "annotations": {"io.kubernetes.cri.sandbox-id": "abc"}
        }"#;
        let f = spec_facts(spec).expect("valid spec");
        assert_eq!(f.privileged, Some(true));
        assert_eq!(f.mounts.len(), 1);
        assert_eq!(f.mounts[0].source, b"/srv/data");
        assert!(!f.mounts[0].rdwr);
        assert_eq!(f.mounts[0].propagation, b"rslave");
        assert_eq!(
            (f.host_pid, f.host_network, f.host_ipc),
            (Some(false), Some(true), Some(true))
        );
        assert_eq!(
            f.annotations,
            vec![("io.kubernetes.cri.sandbox-id".into(), "abc".into())]
        );
    }

    #[test]
    fn default_containers_are_not_privileged() {
        let spec = br#"{"process": {"capabilities": {"bounding": ["CAP_CHOWN"]}},
                        "linux": {"maskedPaths": ["/proc/kcore"]}}"#;
        assert_eq!(spec_facts(spec).and_then(|f| f.privileged), Some(false));
        let masked = br#"{"process": {"capabilities": {"bounding": ["CAP_SYS_ADMIN"]}},
                          "linux": {"maskedPaths": ["/proc/kcore"]}}"#;
        assert_eq!(spec_facts(masked).and_then(|f| f.privileged), Some(false));
        assert_eq!(spec_facts(b"not json"), None);
    }
}
