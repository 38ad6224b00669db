//! dpkg status databases (`var/lib/dpkg/status`, distroless `status.d/*`) and the apk database
//! (`lib/apk/db/installed`).

use super::{paragraphs, Distro};
use crate::package::{Ecosystem, Package};

/// Value of a `Field: value` line (first line only; continuation lines are not needed here).
fn field<'a>(para: &[&'a str], name: &str) -> Option<&'a str> {
    para.iter().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (!line.starts_with([' ', '\t']) && k.eq_ignore_ascii_case(name)).then(|| v.trim())
    })
}

pub(super) fn parse_dpkg(path: &str, text: &str, distro: &Distro) -> Vec<Package> {
    let mut out = Vec::new();
    for (line, para) in paragraphs(text) {
        let (Some(name), Some(version)) = (field(&para, "Package"), field(&para, "Version")) else {
            tracing::debug!(path, line, "dpkg paragraph without Package/Version");
            continue;
        };
        // Only installed packages (status.d files have no Status field: they are installed by construction).
        if let Some(status) = field(&para, "Status") {
            if !status.ends_with(" installed") {
                continue;
            }
        }
        let mut pkg = Package::new(Ecosystem::Debian, name, version, path, distro.id.as_deref());
        // `Source: name (version)` when the source version differs from the binary's.
        pkg.source_name = field(&para, "Source")
            .and_then(|s| s.split_whitespace().next())
            .map(str::to_string);
        out.push(pkg);
    }
    out
}

pub(super) fn parse_apk(path: &str, text: &str, distro: &Distro) -> Vec<Package> {
    let mut out = Vec::new();
    for (line, para) in paragraphs(text) {
        let get = |key: &str| {
            para.iter()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        };
        let (Some(name), Some(version)) = (get("P"), get("V")) else {
            tracing::debug!(path, line, "apk record without P:/V:");
            continue;
        };
        let mut pkg = Package::new(Ecosystem::Alpine, name, version, path, distro.id.as_deref());
        pkg.source_name = get("o").map(str::to_string);
        out.push(pkg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_status() {
        let text = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\nSource: glibc\n\
                    Description: x\n more\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
                    Package: curl\nStatus: install ok installed\nSource: curl (7.88.1-10)\nVersion: 7.88.1-10+deb12u5\n";
        let d = Distro {
            id: Some("debian".into()),
            version_id: Some("12".into()),
        };
        let p = parse_dpkg("var/lib/dpkg/status", text, &d);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "libc6");
        assert_eq!(p[0].source_name.as_deref(), Some("glibc"));
        assert_eq!(p[1].source_name.as_deref(), Some("curl"));
        assert_eq!(p[1].purl, "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5");
    }

    #[test]
    fn apk_installed() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox-binsh\nV:1.36.1-r5\no:busybox\n";
        let p = parse_apk("lib/apk/db/installed", text, &Distro::default());
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].source_name.as_deref(), Some("busybox"));
        assert_eq!(p[0].purl, "pkg:apk/alpine/musl@1.2.4-r2");
    }
}
