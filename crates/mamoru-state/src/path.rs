//! Path arithmetic as libsinsp does it: joining a directory and a (possibly relative) path, then removing `.`, `..`
//! and repeated separators lexically (no symlink resolution: the state engine never touches the filesystem for this).

/// Joins `dir` and `path` and normalises the result into `out` (cleared first). An absolute `path` ignores `dir`.
/// An empty `path` yields the normalised `dir`.
pub fn join_into(dir: &[u8], path: &[u8], out: &mut Vec<u8>) {
    if path.first() == Some(&b'/') || dir.is_empty() {
        normalize_into(path, out);
        return;
    }
    // The components of `dir + "/" + path` are those of `dir` followed by those of `path`: normalise them in one
    // pass instead of building the joined string first.
    normalize_parts(dir.first() == Some(&b'/'), dir, path, out);
}

/// Joins `dir` and `path` (see [`join_into`]).
pub fn join(dir: &[u8], path: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    join_into(dir, path, &mut out);
    out
}

/// Lexical normalisation: collapses `//`, drops `.`, resolves `..` (never above `/` for absolute paths). A trailing
/// separator is dropped except for the root. Relative inputs stay relative.
pub fn normalize_into(path: &[u8], out: &mut Vec<u8>) {
    if path.is_empty() {
        out.clear();
        return;
    }
    // Most paths programs open are already normal: one scan and a copy instead of splitting into components.
    if is_normal_absolute(path) {
        out.clear();
        out.extend_from_slice(path);
        return;
    }
    normalize_parts(path.first() == Some(&b'/'), path, b"", out);
}

/// Whether normalising `path` leaves it unchanged: absolute, no empty, `.` or `..` component, and no trailing
/// separator (other than the root itself).
fn is_normal_absolute(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') {
        return false;
    }
    if path.len() == 1 {
        return true;
    }
    // Each component starts after a separator; check the first bytes of each for `/`, `.` and `..`.
    let mut i = 0;
    while i < path.len() {
        // path[i] is a separator.
        let rest = &path[i + 1..];
        match rest {
            [] | [b'/', ..] | [b'.'] | [b'.', b'/', ..] | [b'.', b'.'] | [b'.', b'.', b'/', ..] => return false,
            _ => {}
        }
        match rest.iter().position(|c| *c == b'/') {
            Some(n) => i += n + 1,
            None => return true,
        }
    }
    true
}

/// Normalises the components of `head` followed by those of `tail` (a non-empty input) into `out`.
fn normalize_parts(absolute: bool, head: &[u8], tail: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(head.len() + tail.len() + 1);
    if absolute {
        out.push(b'/');
    }
    // Components in `out` that a `..` may remove (leading `..` of relative paths are not).
    let mut poppable = 0usize;
    let comps = head.split(|c| *c == b'/').chain(tail.split(|c| *c == b'/'));
    for comp in comps {
        match comp {
            b"" | b"." => {}
            b".." => {
                if poppable > 0 {
                    poppable -= 1;
                    // The last component starts after the last separator (or at the start of `out`).
                    let start = out.iter().rposition(|c| *c == b'/').map_or(0, |i| i + 1);
                    out.truncate(start);
                    // Remove the separator that preceded the popped component (but keep the root slash).
                    if out.len() > usize::from(absolute) {
                        out.pop();
                    }
                } else if !absolute {
                    if !out.is_empty() {
                        out.push(b'/');
                    }
                    out.extend_from_slice(b"..");
                }
            }
            c => {
                if !out.is_empty() && !out.ends_with(b"/") {
                    out.push(b'/');
                }
                poppable += 1;
                out.extend_from_slice(c);
            }
        }
    }
    if out.is_empty() {
        out.push(if absolute { b'/' } else { b'.' });
    }
}

/// Collapses repeated `/` (what libsinsp keeps of a raw path for `fd.nameraw`).
pub fn squeeze_slashes(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    squeeze_slashes_into(path, &mut out);
    out
}

/// [`squeeze_slashes`] into a caller buffer (cleared first).
pub fn squeeze_slashes_into(path: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if !path.windows(2).any(|w| w[0] == b'/' && w[1] == b'/') {
        out.extend_from_slice(path);
        return;
    }
    out.reserve(path.len());
    let mut rest = path;
    // Copy runs up to each `//` at once rather than byte by byte.
    while let Some(i) = rest.windows(2).position(|w| w == b"//") {
        out.extend_from_slice(&rest[..=i]);
        let skip = rest[i..].iter().take_while(|c| **c == b'/').count();
        rest = &rest[i + skip..];
    }
    out.extend_from_slice(rest);
}

/// A working directory as libsinsp stores it: absolute, normalised, with a trailing `/`.
pub fn as_cwd(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    as_cwd_into(path, &mut out);
    out
}

/// [`as_cwd`] into a caller buffer (cleared first).
pub fn as_cwd_into(path: &[u8], out: &mut Vec<u8>) {
    normalize_into(path, out);
    if !out.ends_with(b"/") {
        out.push(b'/');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(d: &str, p: &str) -> String {
        String::from_utf8(join(d.as_bytes(), p.as_bytes())).unwrap_or_default()
    }

    #[test]
    fn joins_and_normalises() {
        assert_eq!(j("/home/u/", "a.txt"), "/home/u/a.txt");
        assert_eq!(j("/home/u", "../x//y/./z"), "/home/x/y/z");
        assert_eq!(j("/home/u/", "/etc/passwd"), "/etc/passwd");
        assert_eq!(j("/", "../../etc"), "/etc");
        assert_eq!(j("/a/b/", ".."), "/a");
        assert_eq!(j("/a/", "."), "/a");
        assert_eq!(j("", "rel/../x"), "x");
        assert_eq!(j("/a/b", "../../../c"), "/c");
        assert_eq!(j("a/b/", "../../../c/.."), "..");
        assert_eq!(j("a", "../b"), "b");
        assert_eq!(j("/", ""), "/");
        assert_eq!(j("/x/", ""), "/x");
        assert_eq!(j("", ""), "");
        assert_eq!(j("", "./"), ".");
        assert_eq!(j("", "../a/../../b"), "../../b");
    }

    #[test]
    fn normal_paths_are_recognised() {
        for p in ["/", "/etc", "/etc/hosts", "/a/.b", "/a/..b/c", "/a/b.", "/.x"] {
            assert!(is_normal_absolute(p.as_bytes()), "{p}");
            assert_eq!(j("/cwd/", p), p);
        }
        for p in [
            "", "etc", "//", "/a/", "/a//b", "/./a", "/a/.", "/a/..", "/a/../b", "/..", "/.",
        ] {
            assert!(!is_normal_absolute(p.as_bytes()), "{p}");
        }
        assert_eq!(j("/cwd/", "/a/../b/./c//"), "/b/c");
    }

    #[test]
    fn cwd_form_has_trailing_slash() {
        assert_eq!(as_cwd(b"/tmp"), b"/tmp/");
        assert_eq!(as_cwd(b"/"), b"/");
        assert_eq!(squeeze_slashes(b"a//b///c"), b"a/b/c");
        assert_eq!(squeeze_slashes(b"//x//"), b"/x/");
        assert_eq!(squeeze_slashes(b"/"), b"/");
        assert_eq!(squeeze_slashes(b""), b"");
        assert_eq!(squeeze_slashes(b"/usr/lib/x"), b"/usr/lib/x");
    }
}
