//! Java archives: `META-INF/maven/**/pom.properties` (one per bundled artifact, shaded jars carry several), with
//! `META-INF/MANIFEST.MF` as the fallback; nested jars (Spring Boot `BOOT-INF/lib/*.jar`, wars) one level deep.
//! Every entry read is capped, and the entry count is bounded, so a zip bomb costs at most the caps.

use crate::package::{Ecosystem, Package};
use std::io::{Cursor, Read};

const MAX_ENTRIES: usize = 200_000;
const MAX_TEXT_ENTRY: u64 = 1 << 20;
const MAX_NESTED_JAR: u64 = 64 << 20;
const MAX_DEPTH: usize = 2;

pub(super) fn parse(path: &str, content: &[u8]) -> Vec<Package> {
    let mut out = Vec::new();
    read_jar(path, content, 1, &mut out);
    out
}

fn read_jar(path: &str, content: &[u8], depth: usize, out: &mut Vec<Package>) {
    let mut archive = match zip::ZipArchive::new(Cursor::new(content)) {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(path, error = %e, "not a readable jar");
            return;
        }
    };
    if archive.len() > MAX_ENTRIES {
        tracing::warn!(
            path,
            entries = archive.len(),
            "jar has too many entries; not inventoried"
        );
        return;
    }
    let mut found_pom = false;
    let mut manifest = None;
    for i in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(i) else { continue };
        let Ok(name) = entry.name().map(|n| n.to_string()) else {
            continue;
        };
        let is_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let is_manifest = name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        let is_nested = depth < MAX_DEPTH && (name.ends_with(".jar") || name.ends_with(".war"));
        if !(is_pom || is_manifest || is_nested) {
            continue;
        }
        let cap = if is_nested { MAX_NESTED_JAR } else { MAX_TEXT_ENTRY };
        if entry.size() > cap {
            tracing::warn!(path, entry = %name, size = entry.size(), "jar entry over the size cap; skipped");
            continue;
        }
        let mut buf = Vec::new();
        if let Err(e) = (&mut entry).take(cap).read_to_end(&mut buf) {
            tracing::debug!(path, entry = %name, error = %e, "cannot read jar entry");
            continue;
        }
        if is_pom {
            if let Some(p) = pom_properties(path, &String::from_utf8_lossy(&buf)) {
                found_pom = true;
                out.push(p);
            }
        } else if is_manifest {
            manifest = Some(String::from_utf8_lossy(&buf).into_owned());
        } else {
            read_jar(&format!("{path}!/{name}"), &buf, depth + 1, out);
        }
    }
    if !found_pom {
        if let Some(p) = manifest.as_deref().and_then(|m| from_manifest(path, m)) {
            out.push(p);
        }
    }
}

fn properties(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once(['=', ':'])?;
            Some((k.trim(), v.trim()))
        })
}

fn pom_properties(path: &str, text: &str) -> Option<Package> {
    let (mut g, mut a, mut v) = (None, None, None);
    for (k, val) in properties(text) {
        match k {
            "groupId" => g = Some(val),
            "artifactId" => a = Some(val),
            "version" => v = Some(val),
            _ => {}
        }
    }
    let (g, a, v) = (g?, a?, v?);
    Some(Package::new(Ecosystem::Maven, &format!("{g}:{a}"), v, path, None))
}

fn from_manifest(path: &str, text: &str) -> Option<Package> {
    let get = |key: &str| properties(text).find(|(k, _)| *k == key).map(|(_, v)| v);
    let version = get("Implementation-Version").or_else(|| get("Bundle-Version"))?;
    let artifact = get("Implementation-Title").or_else(|| get("Bundle-SymbolicName"))?;
    // `Bundle-SymbolicName: x.y; singleton:=true`
    let artifact = artifact.split(';').next().unwrap_or(artifact).trim();
    let name = match get("Implementation-Vendor-Id") {
        Some(group) => format!("{group}:{artifact}"),
        None => artifact.to_string(),
    };
    Some(Package::new(Ecosystem::Maven, &name, version, path, None))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn pom_manifest_and_nested() {
        let inner = jar(&[(
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
            b"#c\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
        )]);
        let outer = jar(&[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\nImplementation-Title: app\nImplementation-Version: 1.0\n",
            ),
            ("BOOT-INF/lib/log4j-core-2.14.1.jar", &inner),
        ]);
        let p = super::parse("app.jar", &outer);
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "org.apache.logging.log4j:log4j-core",
                    "2.14.1",
                    "app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar"
                ),
                ("app", "1.0", "app.jar"),
            ]
        );
        assert!(super::parse("bad.jar", b"PK\x03\x04junk").is_empty());
    }
}
