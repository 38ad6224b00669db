//! npm: `node_modules/**/package.json` and `package-lock.json` / `npm-shrinkwrap.json` (lockfile v1, v2, v3).

use crate::package::{Ecosystem, Package};
use serde_json::Value;

pub(super) fn parse_package_json(path: &str, content: &[u8]) -> Vec<Package> {
    let Ok(v) = serde_json::from_slice::<Value>(content) else {
        tracing::debug!(path, "package.json is not JSON");
        return Vec::new();
    };
    match (
        v.get("name").and_then(Value::as_str),
        v.get("version").and_then(Value::as_str),
    ) {
        (Some(n), Some(ver)) if !n.is_empty() && !ver.is_empty() => {
            vec![Package::new(Ecosystem::Npm, n, ver, path, None)]
        }
        _ => Vec::new(),
    }
}

pub(super) fn parse_lock(path: &str, content: &[u8]) -> Vec<Package> {
    let v: Value = match serde_json::from_slice(content) {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(path, error = %e, "lock file is not JSON");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    if let Some(packages) = v.get("packages").and_then(Value::as_object) {
        // v2/v3: keys are install paths; the root project is "".
        for (key, entry) in packages {
            let Some(idx) = key.rfind("node_modules/") else {
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&key[idx + "node_modules/".len()..]);
            if let Some(ver) = entry.get("version").and_then(Value::as_str) {
                out.push(Package::new(Ecosystem::Npm, name, ver, path, None));
            }
        }
    } else if let Some(deps) = v.get("dependencies").and_then(Value::as_object) {
        lock_v1(path, deps, &mut out, 0);
    }
    out
}

/// Lockfile v1: nested `dependencies` maps.
fn lock_v1(path: &str, deps: &serde_json::Map<String, Value>, out: &mut Vec<Package>, depth: usize) {
    if depth > 64 {
        return;
    }
    for (name, entry) in deps {
        if let Some(ver) = entry.get("version").and_then(Value::as_str) {
            // Aliases and local links (`file:`, `git+`) carry no registry version.
            if !ver.contains(':') {
                out.push(Package::new(Ecosystem::Npm, name, ver, path, None));
            }
        }
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
            lock_v1(path, nested, out, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_v3_and_v1() {
        let v3 = br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/lodash":{"version":"4.17.20"},
            "node_modules/a/node_modules/@types/node":{"version":"20.1.0"},"node_modules/l":{"link":true}}}"#;
        let p = parse_lock("package-lock.json", v3);
        let mut names: Vec<_> = p.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        names.sort();
        assert_eq!(names, vec![("@types/node", "20.1.0"), ("lodash", "4.17.20")]);
        let v1 = br#"{"lockfileVersion":1,"dependencies":{"minimist":{"version":"0.0.8","dependencies":{"x":{"version":"1.0.0"}}},"y":{"version":"file:../y"}}}"#;
        assert_eq!(parse_lock("package-lock.json", v1).len(), 2);
        assert!(parse_lock("package-lock.json", b"{").is_empty());
    }
}
