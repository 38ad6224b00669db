//! Containers: the container id a thread belongs to, derived from its cgroup paths (docker, podman, cri-o,
//! containerd, cgroup v1 and v2 layouts), and the container metadata table (filled by a container engine client;
//! until one exists only the id and type derived from cgroups are known).

/// The container id Falco reports for processes outside any container.
pub const HOST_ID: &[u8] = b"host";

/// Length of the truncated container id (`container.id`).
pub const SHORT_ID_LEN: usize = 12;

/// The container a set of cgroups places a thread in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupContainer {
    /// Full 64-hex id.
    pub full_id: Vec<u8>,
    /// Runtime as the container plugin names it (`docker`, `podman`, `cri-o`, `containerd`).
    pub runtime: &'static str,
    /// The containerd namespace the container lives in, when the layout tells (`/default/<id>`: `default`; CRI
    /// layouts under `kubepods`: `k8s.io`). Metadata clients use it to ask the right namespace first.
    pub namespace: Option<Vec<u8>>,
}

impl CgroupContainer {
    /// The 12-character id.
    pub fn short_id(&self) -> &[u8] {
        &self.full_id[..SHORT_ID_LEN.min(self.full_id.len())]
    }
}

/// Finds the container in a thread's cgroups; `None` means the host. The first cgroup that matches a known layout
/// wins (all controllers of a containerised process point into the same container). The `/<namespace>/<name>`
/// layout of containerd is accepted only when more controllers place the thread there than at the root: on hybrid
/// hosts a supervisor may keep host processes in a two-level memory cgroup (`/process_api/<session>`) while every
/// other controller says `/` (the host), whereas runc leaves only the controllers it does not manage (`net_cls`,
/// `hugetlb`, ...) at the root of a container's process.
pub fn container_from_cgroups<'a, I>(cgroups: I) -> Option<CgroupContainer>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut named: Option<CgroupContainer> = None;
    let (mut at_root, mut at_named) = (0usize, 0usize);
    for path in cgroups {
        if path == b"/" {
            at_root += 1;
            continue;
        }
        match container_from_path(path) {
            Some(c) if c.runtime != "containerd" || is_container_hex(&c.full_id) => return Some(c),
            Some(c) => match &named {
                None => {
                    named = Some(c);
                    at_named = 1;
                }
                Some(n) if n.full_id == c.full_id && n.namespace == c.namespace => at_named += 1,
                Some(_) => {}
            },
            None => {}
        }
    }
    named.filter(|_| at_named > at_root)
}

/// Recognises one cgroup path.
pub fn container_from_path(path: &[u8]) -> Option<CgroupContainer> {
    // Components are examined from the leaf upwards: systemd layouts nest (`.../libpod-<id>.scope/container`).
    for comp in path.rsplit(|c| *c == b'/') {
        if comp.is_empty() {
            continue;
        }
        let (runtime, rest) = match_prefix(comp);
        let id = rest.strip_suffix(b".scope").unwrap_or(rest);
        if is_container_hex(id) {
            let runtime = runtime.unwrap_or_else(|| default_runtime(path));
            return Some(CgroupContainer {
                full_id: id.to_vec(),
                runtime,
                namespace: containerd_namespace_of(path, runtime),
            });
        }
    }
    containerd_named_container(path)
}

/// `/<namespace>/<id>` with an id of any form (`ctr run IMAGE my-app` names its container `my-app`): containerd's
/// cgroupfs layout. Only exactly two components qualify, and systemd unit names are refused on both sides so
/// `/system.slice/cron.service` stays a host cgroup.
fn containerd_named_container(path: &[u8]) -> Option<CgroupContainer> {
    let mut comps = path.split(|c| *c == b'/').filter(|c| !c.is_empty());
    let (ns, id) = (comps.next()?, comps.next()?);
    if comps.next().is_some() || !is_containerd_name(ns) || !is_containerd_name(id) {
        return None;
    }
    if is_systemd_unit(ns) || is_systemd_unit(id) {
        return None;
    }
    Some(CgroupContainer {
        full_id: id.to_vec(),
        runtime: "containerd",
        namespace: Some(ns.to_vec()),
    })
}

/// containerd's identifier grammar (namespaces and container ids): alphanumerics separated by single `.`, `_`
/// or `-`, at most 76 bytes.
fn is_containerd_name(s: &[u8]) -> bool {
    if s.is_empty() || s.len() > 76 {
        return false;
    }
    let mut prev_sep = true;
    for c in s {
        let sep = matches!(c, b'.' | b'_' | b'-');
        if sep && prev_sep || !sep && !c.is_ascii_alphanumeric() {
            return false;
        }
        prev_sep = sep;
    }
    !prev_sep
}

fn is_systemd_unit(s: &[u8]) -> bool {
    const SUFFIXES: [&[u8]; 6] = [b".slice", b".scope", b".service", b".socket", b".mount", b".target"];
    SUFFIXES.iter().any(|suf| s.ends_with(suf))
}

/// The containerd namespace of a container with a 64-hex id, from its cgroup layout.
fn containerd_namespace_of(path: &[u8], runtime: &str) -> Option<Vec<u8>> {
    if runtime != "containerd" {
        return None;
    }
    let mut comps = path.split(|c| *c == b'/').filter(|c| !c.is_empty());
    match (comps.next(), comps.next(), comps.next()) {
        (Some(ns), Some(_), None) if is_containerd_name(ns) && !is_systemd_unit(ns) && ns != b"kubepods" => {
            Some(ns.to_vec())
        }
        // CRI (kubelet) containers live in containerd's `k8s.io` namespace.
        _ => Some(b"k8s.io".to_vec()),
    }
}

fn match_prefix(comp: &[u8]) -> (Option<&'static str>, &[u8]) {
    const PREFIXES: [(&[u8], &str); 6] = [
        (b"docker-", "docker"),
        (b"libpod-", "podman"),
        (b"crio-", "cri-o"),
        (b"cri-containerd-", "containerd"),
        (b"containerd-", "containerd"),
        (b"libpod-conmon-", "podman"),
    ];
    for (p, rt) in PREFIXES {
        if let Some(rest) = comp.strip_prefix(p) {
            return (Some(rt), rest);
        }
    }
    (None, comp)
}

/// The runtime of a bare 64-hex component, from the path around it.
fn default_runtime(path: &[u8]) -> &'static str {
    let has = |needle: &[u8]| path.windows(needle.len()).any(|w| w == needle);
    if has(b"/docker/") || has(b"docker") {
        "docker"
    } else if has(b"crio") {
        "cri-o"
    } else if has(b"libpod") || has(b"machine.slice") {
        "podman"
    } else if has(b"kubepods") || is_containerd_namespace_layout(path) {
        "containerd"
    } else {
        "docker"
    }
}

/// `/<namespace>/<id>`: containerd's cgroupfs layout (`ctr run`, `nerdctl run`: `/default/<id>`, `/k8s.io/<id>`).
fn is_containerd_namespace_layout(path: &[u8]) -> bool {
    let comps: Vec<&[u8]> = path.split(|c| *c == b'/').filter(|c| !c.is_empty()).collect();
    matches!(comps.as_slice(), [ns, id] if !ns.is_empty() && is_container_hex(id) && !is_container_hex(ns))
}

fn is_container_hex(id: &[u8]) -> bool {
    id.len() == 64 && id.iter().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// One mount of a container (`container.mount*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerMount {
    pub source: Vec<u8>,
    pub dest: Vec<u8>,
    pub mode: Vec<u8>,
    pub rdwr: bool,
    pub propagation: Vec<u8>,
}

impl ContainerMount {
    /// `source:dest:mode:rdwr:propagation`, as `container.mount` prints one mount.
    pub fn render(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source);
        out.push(b':');
        out.extend_from_slice(&self.dest);
        out.push(b':');
        out.extend_from_slice(&self.mode);
        out.push(b':');
        out.extend_from_slice(if self.rdwr { b"true" } else { b"false" });
        out.push(b':');
        out.extend_from_slice(&self.propagation);
    }
}

/// What is known about one container. `None` / empty fields are unknown (`<NA>` in outputs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerInfo {
    /// The 12-character id (or `host`).
    pub id: Vec<u8>,
    pub full_id: Option<Vec<u8>>,
    pub runtime: Option<Vec<u8>>,
    pub name: Option<Vec<u8>>,
    pub image: Option<Vec<u8>>,
    pub image_id: Option<Vec<u8>>,
    pub image_repository: Option<Vec<u8>>,
    pub image_tag: Option<Vec<u8>>,
    pub image_digest: Option<Vec<u8>>,
    pub privileged: Option<bool>,
    pub mounts: Vec<ContainerMount>,
    pub labels: Vec<(Vec<u8>, Vec<u8>)>,
    pub ip: Option<Vec<u8>>,
    pub cni_json: Option<Vec<u8>>,
    pub host_pid: Option<bool>,
    pub host_network: Option<bool>,
    pub host_ipc: Option<bool>,
    pub pod_sandbox_id: Option<Vec<u8>>,
    pub pod_sandbox_labels: Vec<(Vec<u8>, Vec<u8>)>,
    /// When the runtime created the container (`container.start_ts`), nanoseconds since the epoch.
    pub created_ts: Option<u64>,
    /// Whether metadata came from a container engine (as opposed to only the cgroup-derived id and type).
    pub from_engine: bool,
}

impl ContainerInfo {
    /// The entry Falco's container plugin keeps for the host.
    pub fn host() -> Self {
        ContainerInfo {
            id: HOST_ID.to_vec(),
            full_id: Some(HOST_ID.to_vec()),
            runtime: Some(HOST_ID.to_vec()),
            name: Some(HOST_ID.to_vec()),
            ..Default::default()
        }
    }

    /// The minimal entry for a container seen only through its cgroups.
    pub fn from_cgroup(c: &CgroupContainer) -> Self {
        ContainerInfo {
            id: c.short_id().to_vec(),
            full_id: Some(c.full_id.clone()),
            runtime: Some(c.runtime.as_bytes().to_vec()),
            ..Default::default()
        }
    }

    /// A label value.
    pub fn label(&self, key: &[u8]) -> Option<&[u8]> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
    }

    /// A pod sandbox label value.
    pub fn pod_label(&self, key: &[u8]) -> Option<&[u8]> {
        self.pod_sandbox_labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3ad7b26ded6d8e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";

    fn find(p: &str) -> Option<(String, &'static str)> {
        container_from_path(p.as_bytes()).map(|c| (String::from_utf8_lossy(c.short_id()).into_owned(), c.runtime))
    }

    #[test]
    fn recognises_runtime_layouts() {
        let short = &ID[..12];
        assert_eq!(find(&format!("/docker/{ID}")), Some((short.into(), "docker")));
        assert_eq!(
            find(&format!("/system.slice/docker-{ID}.scope")),
            Some((short.into(), "docker"))
        );
        assert_eq!(
            find(&format!("/kubepods/besteffort/pod1234/crio-{ID}")),
            Some((short.into(), "cri-o"))
        );
        assert_eq!(
            find(&format!(
                "/kubepods.slice/kubepods-pod1.slice/cri-containerd-{ID}.scope"
            )),
            Some((short.into(), "containerd"))
        );
        assert_eq!(
            find(&format!("/kubepods/burstable/pod5c3/{ID}")),
            Some((short.into(), "containerd"))
        );
        assert_eq!(
            find(&format!("/machine.slice/libpod-{ID}.scope/container")),
            Some((short.into(), "podman"))
        );
        assert_eq!(find("/user.slice/user-1000.slice/session-2.scope"), None);
        assert_eq!(find("/"), None);
    }

    fn ns(p: &str) -> Option<String> {
        container_from_path(p.as_bytes()).and_then(|c| c.namespace.map(|n| String::from_utf8_lossy(&n).into_owned()))
    }

    #[test]
    fn recognises_containerd_named_containers() {
        // `ctr run IMAGE probe-ctr` puts the task in /default/probe-ctr (cgroup v1 controllers and v2 alike).
        assert_eq!(find("/default/probe-ctr"), Some(("probe-ctr".into(), "containerd")));
        assert_eq!(ns("/default/probe-ctr").as_deref(), Some("default"));
        assert_eq!(
            find("/k8s.io/a-very-long-container-name-x"),
            Some(("a-very-long-".into(), "containerd"))
        );
        assert_eq!(ns(&format!("/k8s.io/{ID}")).as_deref(), Some("k8s.io"));
        assert_eq!(
            ns(&format!(
                "/kubepods.slice/kubepods-pod1.slice/cri-containerd-{ID}.scope"
            ))
            .as_deref(),
            Some("k8s.io")
        );
        assert_eq!(ns(&format!("/docker/{ID}")), None);
        // Host cgroups of systemd and friends are not containers.
        assert_eq!(find("/system.slice/cron.service"), None);
        assert_eq!(find("/user.slice/user-0.slice"), None);
        assert_eq!(find("/init.scope"), None);
        assert_eq!(find("/default"), None);
        assert_eq!(find("/a/b/c"), None);
        assert_eq!(find("/default/bad..name"), None);
        assert_eq!(find("/default/-lead"), None);
    }

    #[test]
    fn recognises_cri_and_systemd_variants() {
        let short = &ID[..12];
        let crio = format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/crio-{ID}.scope");
        assert_eq!(find(&crio), Some((short.into(), "cri-o")));
        // conmon (the CRI-O / Podman monitor) runs on the host side.
        assert_eq!(find(&format!("/machine.slice/libpod-conmon-{ID}.scope")), None);
        assert_eq!(find(&format!("/kubepods.slice/crio-conmon-{ID}.scope")), None);
        let rootless = format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container");
        assert_eq!(find(&rootless), Some((short.into(), "podman")));
        assert_eq!(
            find(&format!("/system.slice/docker-{ID}.scope")),
            Some((short.into(), "docker"))
        );
        assert_eq!(find(&format!("/k8s.io/{ID}")), Some((short.into(), "containerd")));
    }

    #[test]
    fn a_two_level_cgroup_beside_root_controllers_is_the_host() {
        let host: [&[u8]; 3] = [b"/", b"/process_api/85b52a6c2f3b3d72be808eba620dadf2", b"/"];
        assert_eq!(container_from_cgroups(host), None);
        // runc leaves the controllers it does not manage at the root.
        let ctr: [&[u8]; 4] = [
            b"/default/probe-ctr",
            b"/",
            b"/default/probe-ctr",
            b"/process_api/x/default/probe-ctr",
        ];
        let c = container_from_cgroups(ctr).map(|c| (c.full_id, c.namespace));
        assert_eq!(c, Some((b"probe-ctr".to_vec(), Some(b"default".to_vec()))));
        let hex = format!("/docker/{ID}");
        let docker: [&[u8]; 2] = [b"/", hex.as_bytes()];
        assert_eq!(container_from_cgroups(docker).map(|c| c.runtime), Some("docker"));
    }
}
