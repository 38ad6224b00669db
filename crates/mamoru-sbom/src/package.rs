//! The package model shared by inventory, SBOM output and vulnerability matching.

use serde::Serialize;

/// Package ecosystems, named as OSV names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Ecosystem {
    Debian,
    Alpine,
    Rpm,
    PyPI,
    Npm,
    CratesIo,
    Go,
    Maven,
}

impl Ecosystem {
    /// The OSV ecosystem name (the part before any `:release`).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "Red Hat",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
        }
    }

    /// Parses an OSV ecosystem string such as `PyPI`, `Debian:12` or `Alpine:v3.18`; returns the release too.
    pub fn from_osv(s: &str) -> Option<(Self, Option<&str>)> {
        let (base, release) = match s.split_once(':') {
            Some((b, r)) => (b, Some(r)),
            None => (s, None),
        };
        let eco = match base {
            "Debian" => Ecosystem::Debian,
            "Alpine" => Ecosystem::Alpine,
            "Red Hat" => Ecosystem::Rpm,
            "PyPI" => Ecosystem::PyPI,
            "npm" => Ecosystem::Npm,
            "crates.io" => Ecosystem::CratesIo,
            "Go" => Ecosystem::Go,
            "Maven" => Ecosystem::Maven,
            _ => return None,
        };
        Some((eco, release))
    }

    fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Debian => "deb",
            Ecosystem::Alpine => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
        }
    }

    /// The name under which OSV records list a package (PEP 503 normalisation for PyPI).
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => pep503(name),
            _ => name.to_string(),
        }
    }
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// Name as the ecosystem writes it (`group:artifact` for Maven, module path for Go).
    pub name: String,
    pub version: String,
    /// Package URL (purl spec).
    pub purl: String,
    /// The file the package was found in, relative to the root.
    pub path: String,
    /// The image layer that ships `path` (None for a directory scan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// Debian/Alpine source package, which distro advisories are keyed by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// Distro release (`12`, `3.18.4`) from os-release, for distro advisories scoped to a release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro_release: Option<String>,
}

impl Package {
    /// Builds a package with its purl; `distro` is the purl namespace for deb/apk/rpm (`debian`, `alpine`).
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, path: &str, distro: Option<&str>) -> Self {
        Package {
            ecosystem,
            name: name.to_string(),
            version: version.to_string(),
            purl: purl(ecosystem, name, version, distro),
            path: path.to_string(),
            layer: None,
            source_name: None,
            distro_release: None,
        }
    }
}

/// Percent-encodes everything but unreserved characters (purl spec: name/version/namespace segments).
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The package URL of a package.
pub fn purl(ecosystem: Ecosystem, name: &str, version: &str, distro: Option<&str>) -> String {
    let ty = ecosystem.purl_type();
    // Namespace segments and name, per type.
    let (namespace, name) = match ecosystem {
        Ecosystem::Debian | Ecosystem::Alpine | Ecosystem::Rpm => {
            let default = match ecosystem {
                Ecosystem::Debian => "debian",
                Ecosystem::Alpine => "alpine",
                _ => "redhat",
            };
            (vec![distro.unwrap_or(default).to_ascii_lowercase()], name.to_string())
        }
        Ecosystem::PyPI => (vec![], pep503(name)),
        Ecosystem::Npm => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => (vec![format!("@{scope}")], n.to_string()),
            None => (vec![], name.to_string()),
        },
        Ecosystem::Go => {
            let mut segs: Vec<String> = name.split('/').map(str::to_string).collect();
            let last = segs.pop().unwrap_or_default();
            (segs, last)
        }
        Ecosystem::Maven => match name.split_once(':') {
            Some((g, a)) => (vec![g.to_string()], a.to_string()),
            None => (vec![], name.to_string()),
        },
        Ecosystem::CratesIo => (vec![], name.to_string()),
    };
    let mut out = format!("pkg:{ty}/");
    for seg in &namespace {
        out.push_str(&pct(seg));
        out.push('/');
    }
    out.push_str(&pct(&name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&pct(version));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(purl(Ecosystem::PyPI, "Jinja2", "2.10", None), "pkg:pypi/jinja2@2.10");
        assert_eq!(
            purl(Ecosystem::PyPI, "zope.interface", "5.0", None),
            "pkg:pypi/zope-interface@5.0"
        );
        assert_eq!(
            purl(Ecosystem::Npm, "@babel/core", "7.0.0", None),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(
            purl(Ecosystem::Debian, "curl", "7.88.1-10+deb12u5", None),
            "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5"
        );
        assert_eq!(
            purl(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.0", None),
            "pkg:golang/github.com/gin-gonic/gin@v1.9.0"
        );
        assert_eq!(
            purl(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1", None),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            purl(Ecosystem::CratesIo, "hyper", "0.14.9", None),
            "pkg:cargo/hyper@0.14.9"
        );
    }

    #[test]
    fn pep503_names() {
        assert_eq!(pep503("PyYAML"), "pyyaml");
        assert_eq!(pep503("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(pep503("zope.interface"), "zope-interface");
    }
}
