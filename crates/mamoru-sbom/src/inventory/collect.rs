//! A collector for streaming walks (an image's layers, file by file, possibly from several threads): files are
//! offered as they come, and the inventory is settled at the end, when the caller knows which files the final
//! filesystem still shows and os-release has been seen.

use super::{classify, packages_in_file, sort_packages, Distro, Source};
use crate::package::{purl, Ecosystem, Package};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    packages: Vec<Package>,
    /// os-release per (path, layer): the visible one is picked at the end.
    os_release: Vec<(String, Option<usize>, Distro)>,
}

/// Thread-safe package collector.
#[derive(Default)]
pub struct PackageCollector {
    state: Mutex<State>,
}

impl PackageCollector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether [`PackageCollector::add_file`] wants this file's content, and how much of it.
    pub fn wants(&self, path: &str, mode: u32) -> Option<u64> {
        classify(path, mode).map(super::read_limit)
    }

    /// Offers one file (path relative to the root, the layer that ships it).
    pub fn add_file(&self, path: &str, mode: u32, layer: Option<usize>, content: &[u8]) {
        let path = path.trim_start_matches('/');
        let Some(source) = classify(path, mode) else { return };
        let mut found = Vec::new();
        let mut distro = None;
        if source == Source::OsRelease {
            distro = Some(Distro::parse(&String::from_utf8_lossy(content)));
        } else {
            found = packages_in_file(path, mode, content, &Distro::default());
            for p in &mut found {
                p.layer = layer;
            }
        }
        // A poisoned lock only means another thread panicked mid-push; the data is still a valid Vec.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = distro {
            state.os_release.push((path.to_string(), layer, d));
        }
        state.packages.extend(found);
    }

    /// The inventory: packages whose file `visible(path, layer)` accepts (for images, the merged view's verdict),
    /// with distro facts from the visible os-release applied. Drains the collector, so it can be reused.
    pub fn finish(&self, visible: &dyn Fn(&str, Option<usize>) -> bool) -> Vec<Package> {
        let state = std::mem::take(&mut *self.state.lock().unwrap_or_else(|e| e.into_inner()));
        let distro = ["etc/os-release", "usr/lib/os-release"]
            .iter()
            .find_map(|want| {
                state
                    .os_release
                    .iter()
                    .find(|(p, l, _)| p == want && visible(p, *l))
                    .map(|(_, _, d)| d.clone())
            })
            .unwrap_or_default();
        let mut out: Vec<Package> = state
            .packages
            .into_iter()
            .filter(|p| visible(p.path.split("!/").next().unwrap_or(&p.path), p.layer))
            .map(|mut p| {
                if matches!(p.ecosystem, Ecosystem::Debian | Ecosystem::Alpine) {
                    p.purl = purl(p.ecosystem, &p.name, &p.version, distro.id.as_deref());
                    p.distro_release = distro.version_id.clone();
                }
                p
            })
            .collect();
        sort_packages(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_with_visibility() {
        let c = PackageCollector::new();
        assert!(c.wants("var/lib/dpkg/status", 0o644).is_some());
        assert!(c.wants("etc/passwd", 0o644).is_none());
        c.add_file("/etc/os-release", 0o644, Some(0), b"ID=ubuntu\nVERSION_ID=\"22.04\"\n");
        c.add_file(
            "var/lib/dpkg/status",
            0o644,
            Some(0),
            b"Package: bash\nStatus: install ok installed\nVersion: 5.1-6\n",
        );
        c.add_file(
            "var/lib/dpkg/status",
            0o644,
            Some(1),
            b"Package: bash\nStatus: install ok installed\nVersion: 5.1-6ubuntu1\n",
        );
        // Layer 1's status file hides layer 0's.
        let pkgs = c.finish(&|path, layer| !(path == "var/lib/dpkg/status" && layer == Some(0)));
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].purl, "pkg:deb/ubuntu/bash@5.1-6ubuntu1");
        assert_eq!(pkgs[0].distro_release.as_deref(), Some("22.04"));
        assert_eq!(pkgs[0].layer, Some(1));
    }
}
