//! `k8s_audit` fields (Falco's k8saudit plugin; also its -eks/-gke/-aks/-ovh variants).
//!
//! Every field reads a Kubernetes audit `Event`; an event without `/auditID` gives no value for any `ka.*` field.
//! Values are strings: strings as themselves, other JSON values as their JSON text (`true`, `201`, `{"k":"v"}`).
//! `ka.req.pod.*` fields read `/requestObject/spec/...` whatever the resource kind, as the plugin does.
//! List fields with an optional `[index]` select one element of the underlying array (a container, a rule, a
//! volume, ...) and give that element's value(s).
//!
//! Where mamoru follows the plugin's intent rather than its code (documented divergences):
//! - `ka.sourceips` reads `/sourceIPs` (the plugin reads `/requestObject/rules/*/sourceIPs`, so it is always empty);
//! - `ka.req.pod.containers.eff_run_as_user`/`_group` fall back to the pod's `spec.securityContext` (the plugin
//!   reads `spec.runAsUser`, which the Pod API does not have) before defaulting to `0`;
//! - container list fields skip a container lacking the value instead of dropping the whole field.

use super::path::{array_at, extend_text, get, push_text, str_at};
use super::{field, Bind, JsonEvent, DEPRECATED, LIST, NO_ARG, OPT_INDEX, PLAIN, REQ_KEY, S};
use crate::catalog::FieldInfo;
use crate::value::Values;
use mamoru_records::JsonRef;

/// The event, if it is an audit event (has `/auditID`).
fn root<'a>(ev: &JsonEvent<'a>) -> Option<JsonRef<'a>> {
    ev.value.get("auditID").map(|_| ev.value)
}

/// The value at `path` as text.
fn text(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    if let Some(v) = root(ev).and_then(|r| get(r, path)) {
        push_text(v, out);
    }
}

/// Each element of the array at `path` as text (no value unless it is an array).
fn list_text(ev: &JsonEvent<'_>, path: &[&str], out: &mut Values) {
    if let Some(arr) = root(ev).and_then(|r| array_at(r, path)) {
        for e in arr {
            push_text(e, out);
        }
    }
}

/// Elements of the array at `path`, all or only element `idx`, with their indexes.
fn elements<'a>(ev: &JsonEvent<'a>, path: &[&str], idx: Option<usize>) -> impl Iterator<Item = (usize, JsonRef<'a>)> {
    let arr = root(ev).and_then(|r| array_at(r, path)).into_iter().flatten();
    let (skip, take) = match idx {
        Some(i) => (i, 1),
        None => (0, usize::MAX),
    };
    arr.enumerate().skip(skip).take(take)
}

/// For each selected element of the array at `list`, the value at `sub` (skipped when absent) as text.
fn each_text(ev: &JsonEvent<'_>, list: &[&str], idx: Option<usize>, sub: &[&str], out: &mut Values) {
    for (_, elem) in elements(ev, list, idx) {
        if let Some(v) = get(elem, sub) {
            push_text(v, out);
        }
    }
}

/// For each selected element of the array at `list`, every element of the array at `sub` as text.
fn each_flat(ev: &JsonEvent<'_>, list: &[&str], idx: Option<usize>, sub: &[&str], out: &mut Values) {
    for (_, elem) in elements(ev, list, idx) {
        if let Some(inner) = array_at(elem, sub) {
            for v in inner {
                push_text(v, out);
            }
        }
    }
}

/// For each selected container, its `key` array (command, args) joined by spaces.
fn each_joined(ev: &JsonEvent<'_>, list: &[&str], idx: Option<usize>, key: &str, out: &mut Values) {
    for (_, c) in elements(ev, list, idx) {
        let Some(v) = c.get(key) else { continue };
        if let Some(parts) = v.as_array() {
            out.begin_bytes();
            for (n, part) in parts.enumerate() {
                if n > 0 {
                    out.extend_last(b" ");
                }
                extend_text(part, out);
            }
        } else if let Some(s) = v.as_str() {
            out.push_bytes(s.as_bytes());
        }
    }
}

/// The repository part of an image reference: cut at the first `:`, then at the first `@` (the plugin's rule,
/// which also cuts a registry port: `host:5000/x` gives `host`).
fn repository(image: &str) -> &str {
    let before_colon = image.split(':').next().unwrap_or(image);
    before_colon.split('@').next().unwrap_or(before_colon)
}

fn each_repository(ev: &JsonEvent<'_>, list: &[&str], idx: Option<usize>, out: &mut Values) {
    for (_, c) in elements(ev, list, idx) {
        if let Some(image) = c.get("image").and_then(JsonRef::as_str) {
            out.push_bytes(repository(image).as_bytes());
        }
    }
}

/// Each port's `hostPort`, else its `containerPort` (equal to the host port under hostNetwork).
fn each_host_port(ev: &JsonEvent<'_>, list: &[&str], idx: Option<usize>, out: &mut Values) {
    for (_, c) in elements(ev, list, idx) {
        let Some(ports) = c.get("ports").and_then(JsonRef::as_array) else {
            continue;
        };
        for port in ports {
            for key in ["hostPort", "containerPort"] {
                if let Some(v) = port.get(key) {
                    push_text(v, out);
                    break;
                }
            }
        }
    }
}

/// The id a container runs as: its own securityContext, else the pod's, else 0.
fn each_effective(ev: &JsonEvent<'_>, list: &[&str], idx: Option<usize>, key: &str, out: &mut Values) {
    let pod_level = root(ev).and_then(|r| get(r, &["requestObject", "spec", "securityContext", key]));
    for (_, c) in elements(ev, list, idx) {
        if let Some(v) = c.get("securityContext").and_then(|s| s.get(key)) {
            push_text(v, out);
        } else if let Some(v) = pod_level {
            push_text(v, out);
        } else {
            out.push_bytes(b"0");
        }
    }
}

/// Subjects of a (cluster) role binding of the given kind: their names, or `namespace:name` when `with_ns`.
fn subjects_of_kind(ev: &JsonEvent<'_>, kind: &str, with_ns: bool, out: &mut Values) {
    let Some(subjects) = root(ev).and_then(|r| array_at(r, &["requestObject", "subjects"])) else {
        return;
    };
    for s in subjects
        .iter()
        .filter(|s| s.get("kind").and_then(JsonRef::as_str) == Some(kind))
    {
        let Some(name) = s.get("name").and_then(JsonRef::as_str) else {
            continue;
        };
        if with_ns {
            let ns = s.get("namespace").and_then(JsonRef::as_str).unwrap_or("");
            out.push_fmt(format_args!("{ns}:{name}"));
        } else {
            out.push_bytes(name.as_bytes());
        }
    }
}

/// `ka.uri.param[key]`: the first value of query parameter `key` of the request URI, percent-decoded.
fn uri_param(ev: &JsonEvent<'_>, key: &str, out: &mut Values) {
    let Some(uri) = root(ev).and_then(|r| str_at(r, &["requestURI"])) else {
        return;
    };
    let Some((_, query)) = uri.split_once('?') else {
        return;
    };
    let query = query.split('#').next().unwrap_or(query);
    // Go's url.ParseQuery fails the whole query on a malformed escape; the plugin then yields nothing.
    if query.split('&').any(|pair| !valid_escapes(pair)) {
        return;
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if decoded_eq(k, key) {
            out.begin_bytes();
            percent_decode(v, |chunk| out.extend_last(chunk));
            return;
        }
    }
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Decodes `+` and `%XX` (callers check escapes with [`valid_escapes`] first; a bad escape is passed through).
fn percent_decode(s: &str, mut sink: impl FnMut(&[u8])) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                sink(b" ");
                i += 1;
            }
            b'%' => {
                let byte = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match byte {
                    Some(byte) => {
                        sink(&[byte]);
                        i += 3;
                    }
                    None => {
                        sink(b"%");
                        i += 1;
                    }
                }
            }
            _ => {
                let run = b[i..]
                    .iter()
                    .position(|&c| c == b'+' || c == b'%')
                    .unwrap_or(b.len() - i);
                sink(&b[i..i + run]);
                i += run;
            }
        }
    }
}

fn decoded_eq(encoded: &str, want: &str) -> bool {
    let want = want.as_bytes();
    let mut pos = 0usize;
    let mut same = true;
    percent_decode(encoded, |chunk| {
        if same && want.len() >= pos + chunk.len() && &want[pos..pos + chunk.len()] == chunk {
            pos += chunk.len();
        } else {
            same = false;
        }
    });
    same && pos == want.len()
}

/// `ka.req.volume.hostpath[path]`: "true" if a hostPath volume uses `path` (a trailing `*` makes it a prefix).
fn volume_hostpath(ev: &JsonEvent<'_>, arg: &str, out: &mut Values) {
    let Some(volumes) = root(ev).and_then(|r| array_at(r, &["requestObject", "spec", "volumes"])) else {
        return;
    };
    let prefix = arg.strip_suffix('*');
    let used = volumes
        .iter()
        .filter_map(|v| v.get("hostPath").and_then(|h| h.get("path")).and_then(JsonRef::as_str))
        .any(|p| p == arg || prefix.is_some_and(|pre| p.starts_with(pre)));
    out.push_bytes(if used { b"true" } else { b"false" });
}

/// `ka.req.pod.volumes.volume_type`: the keys of each volume other than `name`, in document order.
fn volume_types(ev: &JsonEvent<'_>, idx: Option<usize>, out: &mut Values) {
    const VOLUMES: [&str; 3] = ["requestObject", "spec", "volumes"];
    for (_, vol) in elements(ev, &VOLUMES, idx) {
        let Some(members) = vol.as_object() else { continue };
        members
            .filter(|(k, _)| *k != "name")
            .for_each(|(k, _)| out.push_bytes(k.as_bytes()));
    }
}

/// `ka.target.pod.name`: the response object's name when the target is a pod (not a pod subresource).
fn target_pod_name(ev: &JsonEvent<'_>, out: &mut Values) {
    let Some(r) = root(ev) else { return };
    let is_pod = str_at(r, &["objectRef", "resource"]) == Some("pods")
        && str_at(r, &["objectRef", "subresource"]).is_none_or(str::is_empty);
    if is_pod {
        text(ev, &["responseObject", "metadata", "name"], out);
    }
}

/// `ka.req.container.privileged`: "true" if any container is privileged, else "false" (no value without containers).
fn any_privileged(ev: &JsonEvent<'_>, out: &mut Values) {
    let Some(containers) = root(ev).and_then(|r| array_at(r, &CONTAINERS)) else {
        return;
    };
    let any = containers.iter().any(|c| {
        c.get("securityContext")
            .and_then(|s| s.get("privileged"))
            .and_then(JsonRef::as_bool)
            == Some(true)
    });
    out.push_bytes(if any { b"true" } else { b"false" });
}

const CONTAINERS: [&str; 3] = ["requestObject", "spec", "containers"];
const INIT_CONTAINERS: [&str; 3] = ["requestObject", "spec", "initContainers"];
const EPHEMERAL_CONTAINERS: [&str; 3] = ["requestObject", "spec", "ephemeralContainers"];
const RULES: [&str; 2] = ["requestObject", "rules"];

/// One per-container field for a container list (`containers`, `initContainers`, `ephemeralContainers`).
macro_rules! crow {
    ($list:expr, $prefix:literal, $what:literal, $suffix:literal, $desc:literal, $bind:expr) => {
        (
            field(
                concat!($prefix, $suffix),
                S,
                OPT_INDEX,
                LIST,
                concat!($desc, " (", $what, ")."),
            ),
            Bind::Index($bind),
        )
    };
    ($list:expr, $prefix:literal, $what:literal, name) => {
        crow!($list, $prefix, $what, ".name", "The container names", |ev, i, out| {
            each_text(ev, &$list, i, &["name"], out)
        })
    };
    ($list:expr, $prefix:literal, $what:literal, image) => {
        crow!($list, $prefix, $what, ".image", "The container images", |ev, i, out| {
            each_text(ev, &$list, i, &["image"], out)
        })
    };
    ($list:expr, $prefix:literal, $what:literal, repository) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".image.repository",
            "The repository part of the container images",
            |ev, i, out| { each_repository(ev, &$list, i, out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, command) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".command",
            "The container commands, joined by spaces",
            |ev, i, out| { each_joined(ev, &$list, i, "command", out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, args) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".args",
            "The container args, joined by spaces",
            |ev, i, out| { each_joined(ev, &$list, i, "args", out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, privileged) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".privileged",
            "The securityContext.privileged flags",
            |ev, i, out| { each_text(ev, &$list, i, &["securityContext", "privileged"], out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, allow_privilege_escalation) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".allow_privilege_escalation",
            "The securityContext.allowPrivilegeEscalation flags",
            |ev, i, out| each_text(ev, &$list, i, &["securityContext", "allowPrivilegeEscalation"], out)
        )
    };
    ($list:expr, $prefix:literal, $what:literal, read_only_fs) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".read_only_fs",
            "The securityContext.readOnlyRootFilesystem flags",
            |ev, i, out| each_text(ev, &$list, i, &["securityContext", "readOnlyRootFilesystem"], out)
        )
    };
    ($list:expr, $prefix:literal, $what:literal, run_as_user) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".run_as_user",
            "The securityContext.runAsUser values",
            |ev, i, out| { each_text(ev, &$list, i, &["securityContext", "runAsUser"], out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, eff_run_as_user) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".eff_run_as_user",
            "The uid each container starts as: its runAsUser, else the pod's, else 0",
            |ev, i, out| each_effective(ev, &$list, i, "runAsUser", out)
        )
    };
    ($list:expr, $prefix:literal, $what:literal, run_as_group) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".run_as_group",
            "The securityContext.runAsGroup values",
            |ev, i, out| { each_text(ev, &$list, i, &["securityContext", "runAsGroup"], out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, eff_run_as_group) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".eff_run_as_group",
            "The gid each container starts as: its runAsGroup, else the pod's, else 0",
            |ev, i, out| each_effective(ev, &$list, i, "runAsGroup", out)
        )
    };
    ($list:expr, $prefix:literal, $what:literal, proc_mount) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".proc_mount",
            "The securityContext.procMount values",
            |ev, i, out| { each_text(ev, &$list, i, &["securityContext", "procMount"], out) }
        )
    };
    ($list:expr, $prefix:literal, $what:literal, add_capabilities) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".add_capabilities",
            "The capabilities added (securityContext.capabilities.add)",
            |ev, i, out| each_flat(ev, &$list, i, &["securityContext", "capabilities", "add"], out)
        )
    };
    ($list:expr, $prefix:literal, $what:literal, host_port) => {
        crow!(
            $list,
            $prefix,
            $what,
            ".host_port",
            "The hostPort (else containerPort) of every port",
            |ev, i, out| { each_host_port(ev, &$list, i, out) }
        )
    };
}

macro_rules! c {
    ($kind:ident) => {
        crow!(CONTAINERS, "ka.req.pod.containers", "containers", $kind)
    };
}
macro_rules! ic {
    ($kind:ident) => {
        crow!(INIT_CONTAINERS, "ka.req.pod.initContainers", "init containers", $kind)
    };
}
macro_rules! ec {
    ($kind:ident) => {
        crow!(
            EPHEMERAL_CONTAINERS,
            "ka.req.pod.ephemeralContainers",
            "ephemeral containers",
            $kind
        )
    };
}

pub(crate) static FIELDS: &[(FieldInfo, Bind)] = &[
    (
        field("ka.auditid", S, NO_ARG, PLAIN, "The unique id of the audit event."),
        Bind::Plain(|ev, out| text(ev, &["auditID"], out)),
    ),
    (
        field(
            "ka.stage",
            S,
            NO_ARG,
            PLAIN,
            "Stage of the request (e.g. RequestReceived, ResponseComplete).",
        ),
        Bind::Plain(|ev, out| text(ev, &["stage"], out)),
    ),
    (
        field("ka.auth.decision", S, NO_ARG, PLAIN, "The authorization decision."),
        Bind::Plain(|ev, out| text(ev, &["annotations", "authorization.k8s.io/decision"], out)),
    ),
    (
        field("ka.auth.reason", S, NO_ARG, PLAIN, "The authorization reason."),
        Bind::Plain(|ev, out| text(ev, &["annotations", "authorization.k8s.io/reason"], out)),
    ),
    (
        field(
            "ka.auth.openshift.decision",
            S,
            NO_ARG,
            PLAIN,
            "The OpenShift authentication decision (OpenShift only).",
        ),
        Bind::Plain(|ev, out| text(ev, &["annotations", "authentication.openshift.io/decision"], out)),
    ),
    (
        field(
            "ka.validations.admission.policy.failure",
            S,
            NO_ARG,
            PLAIN,
            "The failure reason reported by a Validating Admission Policy.",
        ),
        Bind::Plain(|ev, out| {
            text(
                ev,
                &["annotations", "validation.policy.admission.k8s.io/validation_failure"],
                out,
            )
        }),
    ),
    (
        field(
            "ka.security.pod.violations",
            S,
            NO_ARG,
            PLAIN,
            "The Pod Security admission audit violations.",
        ),
        Bind::Plain(|ev, out| text(ev, &["annotations", "pod-security.kubernetes.io/audit-violations"], out)),
    ),
    (
        field(
            "ka.auth.openshift.username",
            S,
            NO_ARG,
            PLAIN,
            "The user OpenShift authenticated (OpenShift only).",
        ),
        Bind::Plain(|ev, out| text(ev, &["annotations", "authentication.openshift.io/username"], out)),
    ),
    (
        field(
            "ka.user.name",
            S,
            NO_ARG,
            PLAIN,
            "The user name performing the request.",
        ),
        Bind::Plain(|ev, out| text(ev, &["user", "username"], out)),
    ),
    (
        field(
            "ka.user.groups",
            S,
            NO_ARG,
            LIST,
            "The groups the requesting user belongs to.",
        ),
        Bind::Plain(|ev, out| list_text(ev, &["user", "groups"], out)),
    ),
    (
        field("ka.impuser.name", S, NO_ARG, PLAIN, "The impersonated user name."),
        Bind::Plain(|ev, out| text(ev, &["impersonatedUser", "username"], out)),
    ),
    (
        field("ka.verb", S, NO_ARG, PLAIN, "The action being performed."),
        Bind::Plain(|ev, out| text(ev, &["verb"], out)),
    ),
    (
        field(
            "ka.uri",
            S,
            NO_ARG,
            PLAIN,
            "The request URI as sent from client to server.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestURI"], out)),
    ),
    (
        field(
            "ka.uri.param",
            S,
            REQ_KEY,
            PLAIN,
            "The value of a query parameter of the request URI (ka.uri.param[key]).",
        ),
        Bind::Key(uri_param),
    ),
    (
        field("ka.target.name", S, NO_ARG, PLAIN, "The target object name."),
        Bind::Plain(|ev, out| text(ev, &["objectRef", "name"], out)),
    ),
    (
        field("ka.target.namespace", S, NO_ARG, PLAIN, "The target object namespace."),
        Bind::Plain(|ev, out| text(ev, &["objectRef", "namespace"], out)),
    ),
    (
        field("ka.target.resource", S, NO_ARG, PLAIN, "The target object resource."),
        Bind::Plain(|ev, out| text(ev, &["objectRef", "resource"], out)),
    ),
    (
        field(
            "ka.target.subresource",
            S,
            NO_ARG,
            PLAIN,
            "The target object subresource.",
        ),
        Bind::Plain(|ev, out| text(ev, &["objectRef", "subresource"], out)),
    ),
    (
        field(
            "ka.target.pod.name",
            S,
            NO_ARG,
            PLAIN,
            "The target pod name (requests on pods, not on subresources).",
        ),
        Bind::Plain(target_pod_name),
    ),
    (
        field(
            "ka.req.binding.subjects",
            S,
            NO_ARG,
            LIST,
            "The subjects a role binding links, each as JSON text.",
        ),
        Bind::Plain(|ev, out| list_text(ev, &["requestObject", "subjects"], out)),
    ),
    (
        field(
            "ka.req.binding.subjects.user_names",
            S,
            NO_ARG,
            LIST,
            "The user names a role binding links.",
        ),
        Bind::Plain(|ev, out| subjects_of_kind(ev, "User", false, out)),
    ),
    (
        field(
            "ka.req.binding.subjects.serviceaccount_names",
            S,
            NO_ARG,
            LIST,
            "The service account names a role binding links.",
        ),
        Bind::Plain(|ev, out| subjects_of_kind(ev, "ServiceAccount", false, out)),
    ),
    (
        field(
            "ka.req.binding.subjects.serviceaccount_ns_names",
            S,
            NO_ARG,
            LIST,
            "The service accounts a role binding links, as namespace:name.",
        ),
        Bind::Plain(|ev, out| subjects_of_kind(ev, "ServiceAccount", true, out)),
    ),
    (
        field(
            "ka.req.binding.subjects.group_names",
            S,
            NO_ARG,
            LIST,
            "The group names a role binding links.",
        ),
        Bind::Plain(|ev, out| subjects_of_kind(ev, "Group", false, out)),
    ),
    (
        field(
            "ka.req.binding.role",
            S,
            NO_ARG,
            PLAIN,
            "The role a role binding links (roleRef.name).",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "roleRef", "name"], out)),
    ),
    (
        field(
            "ka.req.binding.subject.has_name",
            S,
            REQ_KEY,
            DEPRECATED,
            "Deprecated; kept for compatibility (always \"true\", as the plugin).",
        ),
        Bind::Key(|ev, _, out| {
            if root(ev).is_some() {
                out.push_bytes(b"true")
            }
        }),
    ),
    (
        field(
            "ka.req.configmap.name",
            S,
            NO_ARG,
            PLAIN,
            "The configmap name (objectRef.name).",
        ),
        Bind::Plain(|ev, out| text(ev, &["objectRef", "name"], out)),
    ),
    (
        field(
            "ka.req.configmap.obj",
            S,
            NO_ARG,
            PLAIN,
            "The configmap's data, as JSON text.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "data"], out)),
    ),
    c!(args),
    c!(command),
    c!(name),
    c!(image),
    (
        field(
            "ka.req.container.image",
            S,
            NO_ARG,
            DEPRECATED,
            "Deprecated by ka.req.pod.containers.image: the image of the first container.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "containers", "0", "image"], out)),
    ),
    c!(repository),
    (
        field(
            "ka.req.container.image.repository",
            S,
            NO_ARG,
            DEPRECATED,
            "Deprecated by ka.req.pod.containers.image.repository: the repository of the first container's image.",
        ),
        Bind::Plain(|ev, out| each_repository(ev, &CONTAINERS, Some(0), out)),
    ),
    (
        field("ka.req.pod.host_ipc", S, NO_ARG, PLAIN, "The pod's hostIPC flag."),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "hostIPC"], out)),
    ),
    (
        field(
            "ka.req.pod.host_network",
            S,
            NO_ARG,
            PLAIN,
            "The pod's hostNetwork flag.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "hostNetwork"], out)),
    ),
    (
        field(
            "ka.req.container.host_network",
            S,
            NO_ARG,
            DEPRECATED,
            "Deprecated alias for ka.req.pod.host_network.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "hostNetwork"], out)),
    ),
    (
        field("ka.req.pod.host_pid", S, NO_ARG, PLAIN, "The pod's hostPID flag."),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "hostPID"], out)),
    ),
    c!(host_port),
    c!(privileged),
    (
        field(
            "ka.req.container.privileged",
            S,
            NO_ARG,
            DEPRECATED,
            "Deprecated by ka.req.pod.containers.privileged: \"true\" if any container is privileged.",
        ),
        Bind::Plain(any_privileged),
    ),
    c!(allow_privilege_escalation),
    c!(read_only_fs),
    (
        field(
            "ka.req.pod.run_as_user",
            S,
            NO_ARG,
            PLAIN,
            "The pod security context's runAsUser.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "securityContext", "runAsUser"], out)),
    ),
    c!(run_as_user),
    c!(eff_run_as_user),
    (
        field(
            "ka.req.pod.run_as_group",
            S,
            NO_ARG,
            PLAIN,
            "The pod security context's runAsGroup.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "securityContext", "runAsGroup"], out)),
    ),
    c!(run_as_group),
    c!(eff_run_as_group),
    c!(proc_mount),
    (
        field(
            "ka.req.role.rules",
            S,
            NO_ARG,
            LIST,
            "The rules of a role or cluster role, each as JSON text.",
        ),
        Bind::Plain(|ev, out| list_text(ev, &RULES, out)),
    ),
    (
        field(
            "ka.req.role.rules.apiGroups",
            S,
            OPT_INDEX,
            LIST,
            "The API groups of a role's rules.",
        ),
        Bind::Index(|ev, i, out| each_flat(ev, &RULES, i, &["apiGroups"], out)),
    ),
    (
        field(
            "ka.req.role.rules.nonResourceURLs",
            S,
            OPT_INDEX,
            LIST,
            "The non-resource URLs of a role's rules.",
        ),
        Bind::Index(|ev, i, out| each_flat(ev, &RULES, i, &["nonResourceURLs"], out)),
    ),
    (
        field(
            "ka.req.role.rules.verbs",
            S,
            OPT_INDEX,
            LIST,
            "The verbs of a role's rules.",
        ),
        Bind::Index(|ev, i, out| each_flat(ev, &RULES, i, &["verbs"], out)),
    ),
    (
        field(
            "ka.req.role.rules.resources",
            S,
            OPT_INDEX,
            LIST,
            "The resources of a role's rules.",
        ),
        Bind::Index(|ev, i, out| each_flat(ev, &RULES, i, &["resources"], out)),
    ),
    (
        field(
            "ka.req.pod.fs_group",
            S,
            NO_ARG,
            PLAIN,
            "The pod security context's fsGroup.",
        ),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "securityContext", "fsGroup"], out)),
    ),
    (
        field(
            "ka.req.pod.supplemental_groups",
            S,
            NO_ARG,
            LIST,
            "The pod security context's supplementalGroups.",
        ),
        Bind::Plain(|ev, out| {
            list_text(
                ev,
                &["requestObject", "spec", "securityContext", "supplementalGroups"],
                out,
            )
        }),
    ),
    c!(add_capabilities),
    (
        field("ka.req.service.type", S, NO_ARG, PLAIN, "The service type."),
        Bind::Plain(|ev, out| text(ev, &["requestObject", "spec", "type"], out)),
    ),
    (
        field(
            "ka.req.service.ports",
            S,
            OPT_INDEX,
            LIST,
            "The service's ports, each as JSON text.",
        ),
        Bind::Index(|ev, i, out| {
            for (_, p) in elements(ev, &["requestObject", "spec", "ports"], i) {
                push_text(p, out);
            }
        }),
    ),
    (
        field(
            "ka.req.pod.volumes.hostpath",
            S,
            OPT_INDEX,
            LIST,
            "The hostPath paths of the pod's volumes.",
        ),
        Bind::Index(|ev, i, out| each_text(ev, &["requestObject", "spec", "volumes"], i, &["hostPath", "path"], out)),
    ),
    (
        field(
            "ka.req.volume.hostpath",
            S,
            REQ_KEY,
            DEPRECATED,
            "Deprecated by ka.req.pod.volumes.hostpath: \"true\" if a volume uses the host path (trailing * = prefix).",
        ),
        Bind::Key(volume_hostpath),
    ),
    (
        field(
            "ka.req.pod.volumes.flexvolume_driver",
            S,
            OPT_INDEX,
            LIST,
            "The flexVolume drivers of the pod's volumes.",
        ),
        Bind::Index(|ev, i, out| {
            each_text(
                ev,
                &["requestObject", "spec", "volumes"],
                i,
                &["flexVolume", "driver"],
                out,
            )
        }),
    ),
    (
        field(
            "ka.req.pod.volumes.volume_type",
            S,
            OPT_INDEX,
            LIST,
            "The types of the pod's volumes (hostPath, ...).",
        ),
        Bind::Index(volume_types),
    ),
    (
        field("ka.resp.name", S, NO_ARG, PLAIN, "The response object name."),
        Bind::Plain(|ev, out| text(ev, &["responseObject", "metadata", "name"], out)),
    ),
    (
        field("ka.response.code", S, NO_ARG, PLAIN, "The response code."),
        Bind::Plain(|ev, out| text(ev, &["responseStatus", "code"], out)),
    ),
    (
        field(
            "ka.response.reason",
            S,
            NO_ARG,
            PLAIN,
            "The response reason (usually present only for failures).",
        ),
        Bind::Plain(|ev, out| text(ev, &["responseStatus", "reason"], out)),
    ),
    (
        field(
            "ka.useragent",
            S,
            NO_ARG,
            PLAIN,
            "The user agent of the client that made the request.",
        ),
        Bind::Plain(|ev, out| text(ev, &["userAgent"], out)),
    ),
    (
        field(
            "ka.sourceips",
            S,
            OPT_INDEX,
            LIST,
            "The IP addresses of the client that made the request.",
        ),
        Bind::Index(|ev, i, out| {
            for (_, ip) in elements(ev, &["sourceIPs"], i) {
                push_text(ip, out);
            }
        }),
    ),
    (
        field(
            "ka.cluster.name",
            S,
            NO_ARG,
            PLAIN,
            "The name of the cluster (annotation cluster_name).",
        ),
        Bind::Plain(|ev, out| text(ev, &["annotations", "cluster_name"], out)),
    ),
    ic!(name),
    ic!(image),
    ic!(repository),
    ic!(command),
    ic!(args),
    ic!(privileged),
    ic!(allow_privilege_escalation),
    ic!(read_only_fs),
    ic!(run_as_user),
    ic!(eff_run_as_user),
    ic!(run_as_group),
    ic!(eff_run_as_group),
    ic!(proc_mount),
    ic!(add_capabilities),
    ic!(host_port),
    ec!(name),
    ec!(image),
    ec!(repository),
    ec!(command),
    ec!(args),
    ec!(privileged),
    ec!(allow_privilege_escalation),
    ec!(read_only_fs),
    ec!(run_as_user),
    ec!(eff_run_as_user),
    ec!(run_as_group),
    ec!(eff_run_as_group),
    ec!(proc_mount),
    ec!(add_capabilities),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_cuts_tag_and_digest() {
        assert_eq!(
            repository("docker.io/falcosecurity/falco:0.38.0"),
            "docker.io/falcosecurity/falco"
        );
        assert_eq!(repository("nginx@sha256:abcd"), "nginx");
        assert_eq!(repository("busybox"), "busybox");
        assert_eq!(repository("registry.local:5000/app:1"), "registry.local");
    }

    #[test]
    fn query_decoding() {
        let mut got = Vec::new();
        percent_decode("a%20b+c%2Fd", |c| got.extend_from_slice(c));
        assert_eq!(got, b"a b c/d");
        assert!(decoded_eq("com%6dand", "command"));
        assert!(!decoded_eq("command", "comman"));
        assert!(valid_escapes("a=%41"));
        assert!(!valid_escapes("a=%4"));
        assert!(!valid_escapes("a=%zz"));
    }

    #[test]
    fn field_count_matches_plugin() {
        // 71 main fields + 15 initContainers + 14 ephemeralContainers (no host_port), as the plugin's README lists.
        assert_eq!(FIELDS.len(), 100);
        let mut names: Vec<_> = FIELDS.iter().map(|(f, _)| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 100, "duplicate field names");
    }
}
