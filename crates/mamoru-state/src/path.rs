//! Path arithmetic as libsinsp does it: joining a directory and a (possibly relative) path, then removing `.`, `..`
//! and repeated separators lexically (no symlink resolution: the state engine never touches the filesystem for this).

/// Joins `dir` and `path` and normalises the result into `out` (cleared first). An absolute `path` ignores `dir`.
/// An empty `path` yields the normalised `dir`.
pub fn join_into(dir: &[u8], path: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if path.first() == Some(&b'/') || dir.is_empty() {
        normalize_into(path, out);
        return;
    }
    let mut joined = Vec::with_capacity(dir.len() + path.len() + 1);
    joined.extend_from_slice(dir);
    if !dir.ends_with(b"/") {
        joined.push(b'/');
    }
    joined.extend_from_slice(path);
    normalize_into(&joined, out);
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
    out.clear();
    let absolute = path.first() == Some(&b'/');
    // Stack of component start offsets within `out`, so `..` can pop in O(1).
    let mut starts: Vec<usize> = Vec::new();
    if absolute {
        out.push(b'/');
    }
    for comp in path.split(|c| *c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                if let Some(start) = starts.pop() {
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
                starts.push(out.len());
                out.extend_from_slice(c);
            }
        }
    }
    if out.is_empty() && !path.is_empty() {
        out.push(if absolute { b'/' } else { b'.' });
    }
}

/// Collapses repeated `/` (what libsinsp keeps of a raw path for `fd.nameraw`).
pub fn squeeze_slashes(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &c in path {
        if c == b'/' && out.last() == Some(&b'/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// A working directory as libsinsp stores it: absolute, normalised, with a trailing `/`.
pub fn as_cwd(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    normalize_into(path, &mut out);
    if !out.ends_with(b"/") {
        out.push(b'/');
    }
    out
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
    }

    #[test]
    fn cwd_form_has_trailing_slash() {
        assert_eq!(as_cwd(b"/tmp"), b"/tmp/");
        assert_eq!(as_cwd(b"/"), b"/");
        assert_eq!(squeeze_slashes(b"a//b///c"), b"a/b/c");
    }
}
