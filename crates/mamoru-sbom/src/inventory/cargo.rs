//! Rust: `Cargo.lock` (`[[package]]` tables). Workspace members (no `source`) are local code, not crates.io
//! packages, and are left out so they cannot match advisories of a same-named crate.

use crate::package::{Ecosystem, Package};

pub(super) fn parse(path: &str, text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    let mut current: Option<(Option<String>, Option<String>, Option<String>)> = None;
    let flush = |cur: &mut Option<(Option<String>, Option<String>, Option<String>)>, out: &mut Vec<Package>| {
        if let Some((Some(name), Some(version), Some(source))) = cur.take() {
            if source.starts_with("registry+") || source.starts_with("sparse+") {
                out.push(Package::new(Ecosystem::CratesIo, &name, &version, path, None));
            }
        }
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            flush(&mut current, &mut out);
            if line == "[[package]]" {
                current = Some((None, None, None));
            }
            continue;
        }
        let Some(cur) = current.as_mut() else { continue };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key.trim() {
            "name" => cur.0 = Some(value),
            "version" => cur.1 = Some(value),
            "source" => cur.2 = Some(value),
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock() {
        let text = "version = 3\n\n[[package]]\nname = \"hyper\"\nversion = \"0.14.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"x\"\ndependencies = [\n \"bytes\",\n]\n\n[[package]]\nname = \"myapp\"\nversion = \"0.1.0\"\n\n[metadata]\n";
        let p = super::parse("Cargo.lock", text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].purl, "pkg:cargo/hyper@0.14.9");
    }
}
