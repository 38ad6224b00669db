//! Python distributions: `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (email-header format).

use crate::package::{Ecosystem, Package};

pub(super) fn parse(path: &str, text: &str) -> Vec<Package> {
    let (mut name, mut version) = (None, None);
    // Headers end at the first blank line; the body is the long description.
    for line in text.lines().take_while(|l| !l.trim().is_empty()) {
        if let Some((k, v)) = line.split_once(':') {
            match k.trim() {
                "Name" if name.is_none() => name = Some(v.trim()),
                "Version" if version.is_none() => version = Some(v.trim()),
                _ => {}
            }
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => vec![Package::new(Ecosystem::PyPI, n, v, path, None)],
        _ => {
            tracing::debug!(path, "Python metadata without Name/Version");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn metadata() {
        let p = super::parse(
            "x/Jinja2-2.10.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n\nName: no\n",
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].purl, "pkg:pypi/jinja2@2.10");
        assert!(super::parse("m", "Metadata-Version: 2.1\n").is_empty());
    }
}
