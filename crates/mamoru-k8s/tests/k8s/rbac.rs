//! deploy/kubernetes/rbac.yaml grants exactly the read access the enrichment needs: get, list and watch on every
//! kind it watches, nothing else (least privilege), bound to the service account the docs tell users to run under.

use mamoru_k8s::Kind;
use serde_json::Value;
use std::path::Path;

fn manifest() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes/rbac.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn items_of_kind<'a>(list: &'a Value, kind: &str) -> Vec<&'a Value> {
    list["items"]
        .as_array()
        .expect("a List manifest")
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The API group and resource plural of a collection path (`/api/v1/pods`, `/apis/apps/v1/deployments`).
fn group_and_resource(path: &str) -> (&str, &str) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", _version, resource] => ("", resource),
        ["apis", group, _version, resource] => (group, resource),
        _ => panic!("unexpected collection path {path}"),
    }
}

#[test]
fn the_cluster_role_grants_read_on_every_watched_kind_and_nothing_more() {
    let list = manifest();
    let roles = items_of_kind(&list, "ClusterRole");
    assert_eq!(roles.len(), 1, "one ClusterRole");
    let rules = roles[0]["rules"].as_array().expect("rules");
    let mut granted = Vec::new();
    for rule in rules {
        let mut verbs = strings(&rule["verbs"]);
        verbs.sort_unstable();
        assert_eq!(verbs, ["get", "list", "watch"], "read-only verbs: {rule}");
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                assert_ne!(resource, "*", "no wildcard resources");
                granted.push((group.to_string(), resource.to_string()));
            }
        }
    }
    let mut needed: Vec<(String, String)> = Kind::ALL
        .iter()
        .map(|k| {
            let (g, r) = group_and_resource(k.path());
            (g.to_string(), r.to_string())
        })
        .collect();
    needed.sort();
    granted.sort();
    assert_eq!(granted, needed, "granted resources are exactly the watched kinds");
}

#[test]
fn the_binding_names_the_role_and_the_service_account() {
    let list = manifest();
    let role = &items_of_kind(&list, "ClusterRole")[0]["metadata"]["name"];
    let account = items_of_kind(&list, "ServiceAccount")[0]["metadata"].clone();
    let bindings = items_of_kind(&list, "ClusterRoleBinding");
    assert_eq!(bindings.len(), 1);
    let b = bindings[0];
    assert_eq!(b["roleRef"]["kind"], "ClusterRole");
    assert_eq!(&b["roleRef"]["name"], role);
    let subject = &b["subjects"][0];
    assert_eq!(subject["kind"], "ServiceAccount");
    assert_eq!(subject["name"], account["name"]);
    assert_eq!(subject["namespace"], account["namespace"]);
}
