//! Shell wildcard matching with the semantics of POSIX `fnmatch(3)` without flags (Falco's `glob`) and with
//! `FNM_CASEFOLD` (Falco's `iglob`): `*` matches any run of bytes including `/`, `?` any single byte, `[...]` a
//! bracket expression (`!`/`^` negation, ranges, `[:class:]`), and `\x` the byte `x`. The pattern is interpreted
//! directly, so the same code serves constant patterns and patterns read from a right-hand-side field.

/// Whether `text` matches the whole of `pattern`.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8], casefold: bool) -> bool {
    let mut p = 0;
    let mut t = 0;
    // Where to resume after a mismatch: the pattern position just past the last `*` and the text position that
    // star currently absorbs up to. Every non-star token matches exactly one byte, so one resume point suffices.
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            resume = Some((p, t));
            continue;
        }
        if p < pattern.len() {
            if let Some(next) = match_one(pattern, p, text[t], casefold) {
                p = next;
                t += 1;
                continue;
            }
        }
        match resume {
            Some((rp, rt)) => {
                p = rp;
                t = rt + 1;
                resume = Some((rp, rt + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Matches the single-byte token at `pattern[p]` (not `*`) against `c`; returns the position after the token.
fn match_one(pattern: &[u8], p: usize, c: u8, casefold: bool) -> Option<usize> {
    match pattern[p] {
        b'?' => Some(p + 1),
        b'[' => match bracket(pattern, p, c, casefold) {
            Some((true, next)) => Some(next),
            Some((false, _)) => None,
            // An unterminated bracket is an ordinary '['.
            None => bytes_eq(b'[', c, casefold).then_some(p + 1),
        },
        b'\\' if p + 1 < pattern.len() => bytes_eq(pattern[p + 1], c, casefold).then_some(p + 2),
        lit => bytes_eq(lit, c, casefold).then_some(p + 1),
    }
}

fn bytes_eq(a: u8, b: u8, casefold: bool) -> bool {
    a == b || (casefold && a.eq_ignore_ascii_case(&b))
}

/// Evaluates the bracket expression starting at `pattern[start] == '['` for byte `c`. Returns whether it matched
/// and the position after the closing `]`, or `None` when the expression is not terminated.
fn bracket(pattern: &[u8], start: usize, c: u8, casefold: bool) -> Option<(bool, usize)> {
    let mut j = start + 1;
    let negate = matches!(pattern.get(j), Some(b'!') | Some(b'^'));
    if negate {
        j += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let b = *pattern.get(j)?;
        if b == b']' && !first {
            j += 1;
            break;
        }
        first = false;
        if b == b'[' && pattern.get(j + 1) == Some(&b':') {
            if let Some(end) = find_class_end(pattern, j + 2) {
                matched |= class_matches(&pattern[j + 2..end], c, casefold);
                j = end + 2;
                continue;
            }
        }
        let (lo, after_lo) = bracket_char(pattern, j)?;
        j = after_lo;
        if pattern.get(j) == Some(&b'-') && pattern.get(j + 1).is_some_and(|n| *n != b']') {
            let (hi, after_hi) = bracket_char(pattern, j + 1)?;
            j = after_hi;
            matched |= in_range(lo, hi, c, casefold);
        } else {
            matched |= bytes_eq(lo, c, casefold);
        }
    }
    Some((matched != negate, j))
}

/// One (possibly escaped) byte inside a bracket expression.
fn bracket_char(pattern: &[u8], j: usize) -> Option<(u8, usize)> {
    match *pattern.get(j)? {
        b'\\' => pattern.get(j + 1).map(|e| (*e, j + 2)),
        b => Some((b, j + 1)),
    }
}

fn in_range(lo: u8, hi: u8, c: u8, casefold: bool) -> bool {
    if (lo..=hi).contains(&c) {
        return true;
    }
    casefold && {
        let (l, u) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
        (lo..=hi).contains(&l) || (lo..=hi).contains(&u)
    }
}

/// Finds the `:]` closing a `[:class:]` whose name starts at `from`; returns the position of the `:`.
fn find_class_end(pattern: &[u8], from: usize) -> Option<usize> {
    let mut k = from;
    while k + 1 < pattern.len() {
        if pattern[k] == b':' && pattern[k + 1] == b']' {
            return Some(k);
        }
        if !pattern[k].is_ascii_alphabetic() {
            return None;
        }
        k += 1;
    }
    None
}

fn class_matches(name: &[u8], c: u8, casefold: bool) -> bool {
    match name {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase() || (casefold && c.is_ascii_lowercase()),
        b"lower" => c.is_ascii_lowercase() || (casefold && c.is_ascii_uppercase()),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => matches!(c, b' ' | b'\t'),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"punct" => c.is_ascii_punctuation(),
        b"print" => (0x20..0x7f).contains(&c),
        b"graph" => c.is_ascii_graphic(),
        b"cntrl" => c.is_ascii_control(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn g(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes(), false)
    }

    #[test]
    fn stars_and_questions() {
        assert!(g("*", ""));
        assert!(g("*", "/a/b"));
        assert!(g("/etc/*", "/etc/passwd"));
        assert!(
            g("/etc/*", "/etc/ssh/sshd_config"),
            "star crosses slashes without FNM_PATHNAME"
        );
        assert!(!g("/etc/*", "/usr/etc/x"));
        assert!(g("a?c", "abc"));
        assert!(!g("a?c", "ac"));
        assert!(g("*.sh", "run.sh"));
        assert!(g("*a*b*c", "xxaxxbxxc"));
        assert!(!g("*a*b*c", "xxaxxcxxb"));
        assert!(g("", ""));
        assert!(!g("", "a"));
    }

    #[test]
    fn brackets() {
        assert!(g("[abc]x", "bx"));
        assert!(!g("[abc]x", "dx"));
        assert!(g("[!abc]x", "dx"));
        assert!(g("[^abc]x", "dx"));
        assert!(g("[a-c][0-9]", "b7"));
        assert!(g("[]]", "]"));
        assert!(g("[!]]", "a"));
        assert!(g("[[:digit:]]*", "9lives"));
        assert!(!g("[[:digit:]]*", "lives"));
        assert!(g("[a-]", "-"));
        assert!(g("[", "["), "unterminated bracket is literal");
        assert!(g("a[b", "a[b"));
    }

    #[test]
    fn escapes_and_case() {
        assert!(g("\\*", "*"));
        assert!(!g("\\*", "a"));
        assert!(glob_match(b"*.EXE", b"virus.exe", true));
        assert!(!glob_match(b"*.EXE", b"virus.exe", false));
        assert!(glob_match(b"[A-Z]x", b"qx", true));
    }
}
