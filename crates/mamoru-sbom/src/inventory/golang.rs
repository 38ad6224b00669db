//! Go binaries: the build-info blob (`\xff Go buildinf:`) that the Go linker embeds, with the Go version, the main
//! module and every dependency module. Only the inline layout of Go 1.18 and later is read: older binaries store
//! pointers into the data segment, which would need the executable's section table to follow.

use crate::package::{Ecosystem, Package};

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
/// Header flag: version and module info follow the header inline (Go 1.18+).
const FLAG_INLINE: u8 = 0x2;
/// Bound on the embedded strings, far above any real module list.
const MAX_STRING: u64 = 16 << 20;

pub(super) fn parse(path: &str, content: &[u8]) -> Vec<Package> {
    let Some((go_version, modinfo)) = find_build_info(content) else {
        return Vec::new();
    };
    modules(path, &go_version, &modinfo)
}

/// Finds the first well-formed inline build-info blob.
fn find_build_info(content: &[u8]) -> Option<(String, String)> {
    let mut from = 0;
    while let Some(pos) = find(&content[from..], MAGIC) {
        let at = from + pos;
        if let Some(found) = read_inline(content.get(at..)?) {
            return Some(found);
        }
        from = at + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn read_inline(blob: &[u8]) -> Option<(String, String)> {
    let flags = *blob.get(15)?;
    if flags & FLAG_INLINE == 0 {
        tracing::debug!("Go build info in the pre-1.18 pointer layout is not read");
        return None;
    }
    let mut pos = HEADER_LEN;
    let version = read_string(blob, &mut pos)?;
    let mut modinfo = read_string(blob, &mut pos)?;
    // The module info is framed by 16-byte sentinels; strip them as debug/buildinfo does.
    if modinfo.len() >= 33 && modinfo.as_bytes()[modinfo.len() - 17] == b'\n' {
        modinfo = modinfo.get(16..modinfo.len() - 16)?.to_string();
    }
    version.starts_with("go").then_some((version, modinfo))
}

/// A uvarint-length-prefixed string.
fn read_string(blob: &[u8], pos: &mut usize) -> Option<String> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *blob.get(*pos)?;
        *pos += 1;
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    if len > MAX_STRING {
        return None;
    }
    let end = pos.checked_add(len as usize)?;
    let s = std::str::from_utf8(blob.get(*pos..end)?).ok()?.to_string();
    *pos = end;
    Some(s)
}

fn modules(path: &str, go_version: &str, modinfo: &str) -> Vec<Package> {
    let mut out = Vec::new();
    // `go1.21.3 X:boringcrypto` → `v1.21.3` for the stdlib pseudo-module OSV uses.
    if let Some(v) = go_version.split_whitespace().next().and_then(|v| v.strip_prefix("go")) {
        out.push(Package::new(Ecosystem::Go, "stdlib", &format!("v{v}"), path, None));
    }
    for line in modinfo.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        match cols.as_slice() {
            ["mod", name, version, ..] | ["dep", name, version, ..] if !version.is_empty() && *version != "(devel)" => {
                out.push(Package::new(Ecosystem::Go, name, version, path, None));
            }
            // A replacement applies to the module line just before it.
            ["=>", name, version, ..] if !version.is_empty() => {
                if let Some(last) = out.last_mut() {
                    *last = Package::new(Ecosystem::Go, name, version, path, None);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    /// Builds a Go 1.18+ build-info blob as the linker writes it.
    pub(crate) fn blob(go: &str, modinfo: &str) -> Vec<u8> {
        let mut b = b"\x7fELF padding....".to_vec();
        b.extend_from_slice(super::MAGIC);
        b.push(8);
        b.push(super::FLAG_INLINE);
        b.resize(16 + super::HEADER_LEN, 0);
        let framed = format!("0123456789abcdef{modinfo}\nfedcba9876543210");
        for s in [go, framed.as_str()] {
            let mut n = s.len();
            while n >= 0x80 {
                b.push((n as u8) | 0x80);
                n >>= 7;
            }
            b.push(n as u8);
            b.extend_from_slice(s.as_bytes());
        }
        b
    }

    #[test]
    fn build_info() {
        let modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n\
                       dep\tgolang.org/x/crypto\tv0.0.0-20200115085410-6d4e4cb37c7d\th1:x=\n\
                       dep\tgithub.com/a/b\tv1.0.0\th1:y=\n=>\tgithub.com/fork/b\tv1.0.1\th1:z=\n\
                       build\t-compiler=gc";
        let p = super::parse("usr/bin/app", &blob("go1.21.3 X:boringcrypto", modinfo));
        let got: Vec<_> = p.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            got,
            vec![
                "stdlib@v1.21.3",
                "golang.org/x/crypto@v0.0.0-20200115085410-6d4e4cb37c7d",
                "github.com/fork/b@v1.0.1"
            ]
        );
        assert!(super::parse("x", b"\xff Go buildinf:\x08\x02").is_empty());
        assert!(super::parse("x", b"plain").is_empty());
    }
}
