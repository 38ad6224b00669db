//! Names libsinsp gives to errno values, signals and capabilities, and the small text formatters the renderer needs
//! (C `%g`, UTC timestamps, UTF-8 sanitizing) written without heap allocation.

use std::fmt::Write as _;

/// The errno names libsinsp resolves (`sinsp_utils::errno_to_str`). Other values have no name: Falco prints them as
/// numbers, so this list is deliberately not the full Linux table.
const ERRNO_NAMES: &[(i64, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (15, "ENOTBLK"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (33, "EDOM"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (37, "ENOLCK"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (88, "ENOTSOCK"),
    (91, "EPROTOTYPE"),
    (93, "EPROTONOSUPPORT"),
    (95, "EOPNOTSUPP"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (100, "ENETDOWN"),
    (101, "ENETUNREACH"),
    (104, "ECONNRESET"),
    (107, "ENOTCONN"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
    (123, "ENOMEDIUM"),
    (125, "ECANCELED"),
    (512, "ERESTARTSYS"),
    (514, "ERESTARTNOHAND"),
    (516, "ERESTART_RESTARTBLOCK"),
];

/// The name of a positive errno value (`2` → `"ENOENT"`), for the values libsinsp names.
pub fn errno_name(errno: i64) -> Option<&'static str> {
    ERRNO_NAMES.iter().find(|(v, _)| *v == errno).map(|(_, n)| *n)
}

/// Signal names by number (x86 numbering), as `sinsp_utils::signal_to_str` gives them.
const SIGNAL_NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// The name of a signal number (`9` → `"SIGKILL"`); real-time and unknown signals have none.
pub fn signal_name(sig: u8) -> Option<&'static str> {
    (sig as usize).checked_sub(1).and_then(|i| SIGNAL_NAMES.get(i)).copied()
}

/// Capability names by bit number.
pub const CAPABILITY_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Appends the text Falco gives a capability set (`thread.cap_effective` & co.): the names of the set bits in bit
/// order, separated by single spaces; bits past the known capabilities are ignored; an empty set writes nothing.
pub fn cap_names(mask: u64, out: &mut Vec<u8>) {
    let mut first = true;
    for (bit, name) in CAPABILITY_NAMES.iter().enumerate() {
        if mask & (1u64 << bit) != 0 {
            if !first {
                out.push(b' ');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
        }
    }
}

/// A fixed-capacity text buffer on the stack, so numeric formatting never touches the heap.
pub(crate) struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl StackText {
    pub(crate) fn new() -> Self {
        StackText { buf: [0; 64], len: 0 }
    }
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends `v` as C's `%g` prints it (six significant digits, trailing zeros removed, exponent form below 1e-4 and
/// from 1e6 on).
pub(crate) fn push_c_g(v: f64, out: &mut Vec<u8>) {
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    if !v.is_finite() {
        out.extend_from_slice(if v.is_nan() {
            b"nan"
        } else if v > 0.0 {
            b"inf"
        } else {
            b"-inf"
        });
        return;
    }
    // Round to six significant digits first: the rounded exponent decides between the two notations.
    let mut sci = StackText::new();
    if write!(sci, "{v:.5e}").is_err() {
        return;
    }
    let text = sci.as_bytes();
    let Some(epos) = text.iter().position(|c| *c == b'e') else {
        return;
    };
    let exp: i32 = std::str::from_utf8(&text[epos + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(-4..6).contains(&exp) {
        push_trimmed(&text[..epos], out);
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let mut digits = StackText::new();
        let _ = write!(digits, "{:02}", exp.unsigned_abs());
        out.extend_from_slice(digits.as_bytes());
    } else {
        let decimals = (5 - exp).max(0) as usize;
        let mut fixed = StackText::new();
        if write!(fixed, "{v:.decimals$}").is_ok() {
            push_trimmed(fixed.as_bytes(), out);
        }
    }
}

/// Appends a decimal number without trailing fractional zeros (and without a dangling point).
fn push_trimmed(num: &[u8], out: &mut Vec<u8>) {
    if !num.contains(&b'.') {
        out.extend_from_slice(num);
        return;
    }
    let mut end = num.len();
    while end > 0 && num[end - 1] == b'0' {
        end -= 1;
    }
    if end > 0 && num[end - 1] == b'.' {
        end -= 1;
    }
    out.extend_from_slice(&num[..end]);
}

/// Appends `ns` (nanoseconds since the epoch) as `YYYY-MM-DD HH:MM:SS.NNNNNNNNN +0000`, the `PT_ABSTIME` text, in UTC.
pub(crate) fn push_abstime(ns: u64, out: &mut Vec<u8>) {
    let secs = ns / 1_000_000_000;
    let nanos = ns % 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let mut t = StackText::new();
    let _ = write!(
        t,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{nanos:09} +0000",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    out.extend_from_slice(t.as_bytes());
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends `bytes`, replacing each invalid UTF-8 sequence by U+FFFD as libsinsp sanitizes paths and names.
pub(crate) fn push_sanitized(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

/// Appends `path` to the normalized absolute path already in `out[start..]`: empty and `.` components vanish, `..`
/// removes the previous component (never the root), separators are single and there is no trailing `/`.
pub(crate) fn push_path_components(path: &[u8], start: usize, out: &mut Vec<u8>) {
    if out.len() == start {
        out.push(b'/');
    }
    for comp in path.split(|c| *c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                let seg = &out[start..];
                let cut = seg.iter().rposition(|c| *c == b'/').unwrap_or(0);
                out.truncate(start + cut.max(1));
            }
            _ => {
                if out.last() != Some(&b'/') {
                    out.push(b'/');
                }
                push_sanitized(comp, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut out = Vec::new();
        push_c_g(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn c_g_formatting_matches_printf() {
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(0.001), "0.001");
        assert_eq!(g(123.456789), "123.457");
        assert_eq!(g(1e-9), "1e-09");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(1234567.0), "1.23457e+06");
        assert_eq!(g(999999.5), "1e+06");
        assert_eq!(g(100000.0), "100000");
    }

    #[test]
    fn abstime_is_utc_with_nanoseconds() {
        let mut out = Vec::new();
        push_abstime(1_534_527_348_123_456_789, &mut out);
        assert_eq!(out, b"2018-08-17 17:35:48.123456789 +0000");
    }

    #[test]
    fn errno_and_signal_names() {
        assert_eq!(errno_name(2), Some("ENOENT"));
        assert_eq!(errno_name(14), None, "libsinsp does not name EFAULT");
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(34), None);
    }

    #[test]
    fn capability_sets_are_space_separated_names_in_bit_order() {
        let mut out = Vec::new();
        cap_names((1 << 0) | (1 << 1) | (1 << 21) | (1 << 63), &mut out);
        assert_eq!(out, b"CAP_CHOWN CAP_DAC_OVERRIDE CAP_SYS_ADMIN");
        out.clear();
        cap_names(0, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn paths_are_joined_and_normalized() {
        let join = |base: &str, p: &str| {
            let mut out = Vec::new();
            push_path_components(base.as_bytes(), 0, &mut out);
            push_path_components(p.as_bytes(), 0, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(join("/home/u/", "a.txt"), "/home/u/a.txt");
        assert_eq!(join("/home/u", "./x/../y//z/"), "/home/u/y/z");
        assert_eq!(join("/", "../../etc/passwd"), "/etc/passwd");
        assert_eq!(join("/a", ".."), "/");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut out = Vec::new();
        push_sanitized(b"a\xffb", &mut out);
        assert_eq!(out, "a\u{FFFD}b".as_bytes());
    }
}
