//! Package inventory: which files hold package metadata ([`wants`]), and what each such file says
//! ([`packages_in_file`]). Every supported source is self-contained in one file, so the same functions serve a
//! directory walk ([`inventory`]) and a streaming layer walk that hands over file contents one at a time.

mod cargo;
mod collect;
mod dpkg;
mod golang;
mod java;
mod npm;
mod python;

pub use collect::PackageCollector;

use crate::error::Result;
use crate::fs::{FileInfo, RootFs};
use crate::package::Package;

/// Largest metadata file read (status databases, lock files, METADATA).
pub const MAX_METADATA_BYTES: u64 = 64 << 20;
/// Largest binary searched for Go build info.
pub const MAX_BINARY_BYTES: u64 = 512 << 20;
/// Largest jar opened.
pub const MAX_JAR_BYTES: u64 = 256 << 20;

/// What kind of package source a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    DpkgStatus,
    ApkInstalled,
    PythonMetadata,
    NpmPackageJson,
    NpmLock,
    CargoLock,
    Jar,
    /// An executable that may carry Go build info.
    Binary,
    OsRelease,
}

/// Classifies a file by path and mode; `None` for files the inventory never reads.
pub fn classify(path: &str, mode: u32) -> Option<Source> {
    let path = path.trim_start_matches('/');
    let name = path.rsplit('/').next().unwrap_or(path);
    if path == "var/lib/dpkg/status" || path.starts_with("var/lib/dpkg/status.d/") && !name.ends_with(".md5sums") {
        return Some(Source::DpkgStatus);
    }
    if path == "lib/apk/db/installed" {
        return Some(Source::ApkInstalled);
    }
    if path == "etc/os-release" || path == "usr/lib/os-release" {
        return Some(Source::OsRelease);
    }
    let parent = path.rsplit('/').nth(1).unwrap_or("");
    if (name == "METADATA" && parent.ends_with(".dist-info")) || (name == "PKG-INFO" && parent.ends_with(".egg-info")) {
        return Some(Source::PythonMetadata);
    }
    if name.ends_with(".egg-info") {
        // A single-file egg-info (distutils) is a PKG-INFO under another name.
        return Some(Source::PythonMetadata);
    }
    if name == "package.json" && parent_is_node_module(path) {
        return Some(Source::NpmPackageJson);
    }
    if name == "package-lock.json" || name == "npm-shrinkwrap.json" {
        return Some(Source::NpmLock);
    }
    if name == "Cargo.lock" {
        return Some(Source::CargoLock);
    }
    if name.ends_with(".jar") || name.ends_with(".war") || name.ends_with(".ear") {
        return Some(Source::Jar);
    }
    if mode & 0o111 != 0 {
        return Some(Source::Binary);
    }
    None
}

/// True for `.../node_modules/NAME/package.json` and `.../node_modules/@scope/NAME/package.json`.
fn parent_is_node_module(path: &str) -> bool {
    let comps: Vec<&str> = path.split('/').collect();
    let n = comps.len();
    (n >= 3 && comps[n - 3] == "node_modules")
        || (n >= 4 && comps[n - 4] == "node_modules" && comps[n - 3].starts_with('@'))
}

/// Whether the inventory wants this file's content.
pub fn wants(path: &str, mode: u32) -> bool {
    classify(path, mode).is_some()
}

/// The read cap for a source.
pub fn read_limit(source: Source) -> u64 {
    match source {
        Source::Binary => MAX_BINARY_BYTES,
        Source::Jar => MAX_JAR_BYTES,
        _ => MAX_METADATA_BYTES,
    }
}

/// Facts about the distribution read from os-release, used for deb/apk purls and release-scoped advisories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distro {
    pub id: Option<String>,
    pub version_id: Option<String>,
}

impl Distro {
    pub fn parse(content: &str) -> Self {
        let mut d = Distro::default();
        for line in content.lines() {
            let Some((k, v)) = line.split_once('=') else { continue };
            let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
            match k.trim() {
                "ID" => d.id = Some(v),
                "VERSION_ID" => d.version_id = Some(v),
                _ => {}
            }
        }
        d
    }
}

/// Packages described by one file. Bad content is logged and yields what could be read; it never fails the scan.
pub fn packages_in_file(path: &str, mode: u32, content: &[u8], distro: &Distro) -> Vec<Package> {
    let Some(source) = classify(path, mode) else {
        return Vec::new();
    };
    let text = || String::from_utf8_lossy(content);
    let mut pkgs = match source {
        Source::DpkgStatus => dpkg::parse_dpkg(path, &text(), distro),
        Source::ApkInstalled => dpkg::parse_apk(path, &text(), distro),
        Source::PythonMetadata => python::parse(path, &text()),
        Source::NpmPackageJson => npm::parse_package_json(path, content),
        Source::NpmLock => npm::parse_lock(path, content),
        Source::CargoLock => cargo::parse(path, &text()),
        Source::Jar => java::parse(path, content),
        Source::Binary => golang::parse(path, content),
        Source::OsRelease => Vec::new(),
    };
    for p in &mut pkgs {
        if matches!(p.ecosystem, crate::Ecosystem::Debian | crate::Ecosystem::Alpine) {
            p.distro_release = distro.version_id.clone();
        }
    }
    pkgs
}

/// The inventory of a root filesystem: every package found, sorted by ecosystem, name, version and path.
pub fn inventory(fs: &dyn RootFs) -> Result<Vec<Package>> {
    let files = fs.files()?;
    let distro = read_distro(fs, &files);
    let mut out = Vec::new();
    for file in &files {
        let Some(source) = classify(&file.path, file.mode) else {
            continue;
        };
        if source == Source::OsRelease {
            continue;
        }
        // Executables are many and mostly not Go: look at the magic before reading a whole binary.
        if source == Source::Binary && !fs.read(&file.path, 4).is_ok_and(|head| is_executable_format(&head)) {
            continue;
        }
        let content = match fs.read(&file.path, read_limit(source)) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read package metadata");
                continue;
            }
        };
        for mut pkg in packages_in_file(&file.path, file.mode, &content, &distro) {
            pkg.layer = file.layer;
            out.push(pkg);
        }
    }
    sort_packages(&mut out);
    Ok(out)
}

/// ELF, Mach-O (both byte orders, 32/64-bit) or PE.
fn is_executable_format(head: &[u8]) -> bool {
    matches!(
        head,
        [0x7f, b'E', b'L', b'F', ..]
            | [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
            | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..]
            | [b'M', b'Z', ..]
    )
}

/// Sorts and removes exact duplicates (same package found twice in the same file).
pub fn sort_packages(pkgs: &mut Vec<Package>) {
    pkgs.sort_by(|a, b| (a.ecosystem, &a.name, &a.version, &a.path).cmp(&(b.ecosystem, &b.name, &b.version, &b.path)));
    pkgs.dedup();
}

fn read_distro(fs: &dyn RootFs, files: &[FileInfo]) -> Distro {
    for candidate in ["etc/os-release", "usr/lib/os-release"] {
        if files.iter().any(|f| f.path == candidate) {
            if let Ok(c) = fs.read(candidate, 64 << 10) {
                return Distro::parse(&String::from_utf8_lossy(&c));
            }
        }
    }
    Distro::default()
}

/// Splits RFC 822-style paragraphs (dpkg status, apk installed) into `(line number, paragraph)`.
pub(crate) fn paragraphs(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
            start = i + 2;
        } else {
            cur.push(line);
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out
}
