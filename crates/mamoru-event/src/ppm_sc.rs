//! System-independent syscall codes (`ppm_sc`), their names, the x86_64 syscall numbers they stand for, and the
//! scap events current drivers emit for each.
//!
//! The codes and names come from `data/ppm-sc.tsv` (the `PPM_SC_FIELDS` list of the drivers'
//! `ppm_events_public.h`, lower-cased as `evt.type` prints them for generic events); the x86_64 numbers from
//! `data/x86_64-syscalls.tsv`. Both are embedded at compile time and indexed once, on first use. A syscall maps to the
//! x86_64 number whose kernel name equals its `ppm_sc` name, which is how the drivers' `syscall_table64.c` is built.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::table::{cat, event_table, flags, Direction};

/// One past the highest `ppm_sc` code (`PPM_SC_MAX`).
pub const PPM_SC_MAX: u16 = 453;

/// `PPM_SC_UNKNOWN`.
pub const PPM_SC_UNKNOWN: u16 = 0;

const PPM_SC_TSV: &str = include_str!("../data/ppm-sc.tsv");
const X86_64_TSV: &str = include_str!("../data/x86_64-syscalls.tsv");

/// Syscalls whose scap event carries a different name than the syscall (libs' `events_to_sc` map).
const EVENT_NAME_ALIASES: &[(&str, &str)] = &[
    ("pread64", "pread"),
    ("pwrite64", "pwrite"),
    ("_llseek", "llseek"),
    ("_newselect", "select"),
    ("prlimit64", "prlimit"),
    ("sendfile64", "sendfile"),
    ("ugetrlimit", "getrlimit"),
];

struct Tables {
    names: Vec<Option<&'static str>>,
    codes: HashMap<&'static str, u16>,
    x86_to_sc: Vec<Option<u16>>,
    sc_to_x86: Vec<Option<u32>>,
    sc_events: Vec<Option<(u16, u16)>>,
}

/// Rows `number<TAB>name` of an embedded table, comments and malformed rows skipped (the tests check the row
/// counts, so a malformed row cannot go unnoticed).
fn rows(text: &'static str) -> impl Iterator<Item = (u32, &'static str)> {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| {
        let (num, name) = l.split_once('\t')?;
        Some((num.trim().parse().ok()?, name.trim()))
    })
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(build_tables)
}

fn build_tables() -> Tables {
    let mut names = vec![None; PPM_SC_MAX as usize];
    let mut codes = HashMap::new();
    for (code, name) in rows(PPM_SC_TSV) {
        if let Some(slot) = names.get_mut(code as usize) {
            *slot = Some(name);
            codes.insert(name, code as u16);
        }
    }
    let mut x86_to_sc = Vec::new();
    let mut sc_to_x86 = vec![None; PPM_SC_MAX as usize];
    for (nr, name) in rows(X86_64_TSV) {
        let Some(&sc) = codes.get(name) else { continue };
        if x86_to_sc.len() <= nr as usize {
            x86_to_sc.resize(nr as usize + 1, None);
        }
        x86_to_sc[nr as usize] = Some(sc);
        sc_to_x86[sc as usize] = Some(nr);
    }
    let sc_events = build_sc_events(&codes);
    Tables {
        names,
        codes,
        x86_to_sc,
        sc_to_x86,
        sc_events,
    }
}

/// For every syscall, the newest event pair that carries it: the exit event named like the syscall that is neither
/// unused nor kept only for old captures, and the enter event just before it.
fn build_sc_events(codes: &HashMap<&'static str, u16>) -> Vec<Option<(u16, u16)>> {
    let mut by_event_name: HashMap<&str, (u16, u16)> = HashMap::new();
    for info in event_table() {
        let current = info.dir == Direction::Exit
            && info.category & cat::SYSCALL != 0
            && !info.has_flag(flags::UNUSED)
            && !info.has_flag(flags::OLD_VERSION)
            && info.name != "syscall";
        if current {
            by_event_name.insert(info.name, (info.code - 1, info.code));
        }
    }
    let mut out = vec![None; PPM_SC_MAX as usize];
    for (&name, &sc) in codes {
        let event_name = EVENT_NAME_ALIASES
            .iter()
            .find(|(sys, _)| *sys == name)
            .map_or(name, |(_, ev)| *ev);
        out[sc as usize] = by_event_name.get(event_name).copied();
    }
    out
}

/// The name of a `ppm_sc` code (`"openat"`, `"_llseek"`), as `evt.type` prints generic syscalls.
pub fn syscall_name(ppm_sc: u16) -> Option<&'static str> {
    tables().names.get(ppm_sc as usize).copied().flatten()
}

/// The `ppm_sc` code of a syscall name.
pub fn syscall_code(name: &str) -> Option<u16> {
    tables().codes.get(name).copied()
}

/// The `ppm_sc` code of an x86_64 syscall number; `None` for numbers the drivers do not know.
pub fn from_x86_64_nr(nr: u32) -> Option<u16> {
    tables().x86_to_sc.get(nr as usize).copied().flatten()
}

/// The x86_64 syscall number of a `ppm_sc` code; `None` for syscalls x86_64 does not have (`socketcall`, `mmap2`, ...)
/// and for tracepoint codes.
pub fn x86_64_nr(ppm_sc: u16) -> Option<u32> {
    tables().sc_to_x86.get(ppm_sc as usize).copied().flatten()
}

/// The `(enter, exit)` event codes current drivers emit for a syscall; `None` when the syscall is reported as a
/// generic event (`PPME_GENERIC_E`/`X` carrying the `ppm_sc` code). Tracepoint codes (`sched_switch`, ...) give `None`.
pub fn event_codes_for_syscall(ppm_sc: u16) -> Option<(u16, u16)> {
    tables().sc_events.get(ppm_sc as usize).copied().flatten()
}

/// All known `(code, name)` pairs in code order.
pub fn all_syscalls() -> impl Iterator<Item = (u16, &'static str)> {
    tables()
        .names
        .iter()
        .enumerate()
        .filter_map(|(code, name)| name.map(|n| (code as u16, n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::event_info;

    #[test]
    fn every_row_of_the_embedded_tables_parses() {
        let sc_rows = PPM_SC_TSV.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(rows(PPM_SC_TSV).count(), sc_rows);
        let nr_rows = X86_64_TSV.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(rows(X86_64_TSV).count(), nr_rows);
    }

    #[test]
    fn ppm_sc_max_is_one_past_the_highest_code() {
        let max = rows(PPM_SC_TSV).map(|(c, _)| c).max().unwrap();
        assert_eq!(max + 1, PPM_SC_MAX as u32);
    }

    #[test]
    fn names_and_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (code, name) in all_syscalls() {
            assert!(seen.insert(name), "duplicate syscall name {name}");
            assert_eq!(syscall_code(name), Some(code), "{name}");
            assert_eq!(syscall_name(code), Some(name));
        }
        assert_eq!(seen.len(), 452, "ppm_sc 382 is the only gap");
        assert_eq!(syscall_name(382), None);
        assert_eq!(syscall_name(PPM_SC_MAX), None);
    }

    #[test]
    fn known_codes_match_the_driver_header() {
        assert_eq!(syscall_code("openat"), Some(197));
        assert_eq!(syscall_code("execve"), Some(324));
        assert_eq!(syscall_code("close_range"), Some(392));
        assert_eq!(syscall_code("_llseek"), Some(292));
        assert_eq!(syscall_name(400), Some("signal_deliver"));
        assert_eq!(syscall_name(452), Some("uprobe"));
    }

    #[test]
    fn x86_64_numbers_map_both_ways() {
        assert_eq!(from_x86_64_nr(0), syscall_code("read"));
        assert_eq!(from_x86_64_nr(59), syscall_code("execve"));
        assert_eq!(from_x86_64_nr(257), syscall_code("openat"));
        assert_eq!(from_x86_64_nr(228), syscall_code("clock_gettime"));
        assert_eq!(from_x86_64_nr(436), syscall_code("close_range"));
        assert_eq!(from_x86_64_nr(184), None, "tuxcall has no ppm_sc");
        assert_eq!(x86_64_nr(syscall_code("mmap2").unwrap()), None);
        for nr in 0..600 {
            if let Some(sc) = from_x86_64_nr(nr) {
                assert_eq!(x86_64_nr(sc), Some(nr));
            }
        }
    }

    #[test]
    fn syscalls_map_to_their_current_events() {
        let pair = |name: &str| event_codes_for_syscall(syscall_code(name).unwrap());
        let names = |name: &str| pair(name).map(|(e, x)| (event_info(e).unwrap().name, event_info(x).unwrap().name));
        assert_eq!(pair("open"), Some((2, 3)));
        assert_eq!(pair("execve"), Some((292, 293)), "PPME_SYSCALL_EXECVE_19");
        assert_eq!(pair("openat"), Some((306, 307)), "PPME_SYSCALL_OPENAT_2");
        assert_eq!(names("pread64"), Some(("pread", "pread")));
        assert_eq!(names("prlimit64"), Some(("prlimit", "prlimit")));
        assert_eq!(pair("clock_gettime"), None, "generic");
        assert_eq!(pair("sched_switch"), None, "tracepoint");
        for (sc, _) in all_syscalls() {
            if let Some((e, x)) = event_codes_for_syscall(sc) {
                let (ei, xi) = (event_info(e).unwrap(), event_info(x).unwrap());
                assert_eq!(ei.dir, Direction::Enter);
                assert!(!xi.is_unused() && !xi.has_flag(flags::OLD_VERSION));
            }
        }
    }
}
