//! The shared sample captures, read by mamoru and compared with Debian's sysdig 0.29.3.

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use common::{events, read_all, sample, samples, sysdig, sysdig_env, sysdig_reads, Owned};
use mamoru_event::{cat, event_table, Direction, RawEvent};
use mamoru_scap::SYSDIG_0_29_EVENT_MAX;

/// One event as compared with sysdig: timestamp, thread, type name, direction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ev {
    ts: u64,
    tid: u64,
    name: &'static str,
    dir: char,
    generic: bool,
}

fn ev_of(e: &RawEvent<'_>) -> Ev {
    Ev {
        ts: e.ts,
        tid: e.tid,
        name: e.name(),
        dir: if e.info().dir == Direction::Enter { '>' } else { '<' },
        // sysdig prints the syscall name of generic events, not "syscall".
        generic: e.etype <= 1,
    }
}

fn mamoru_events(path: &Path, convert_old: bool) -> Vec<Ev> {
    let (recs, _) = read_all(path, convert_old);
    events(&recs)
        .iter()
        .filter_map(|r| r.event())
        .map(|e| ev_of(&e))
        .collect()
}

/// sysdig's events by `evt.num`: (rawtime, tid, type, dir).
fn sysdig_events(path: &Path) -> BTreeMap<u64, (u64, u64, String, char)> {
    let lines = sysdig(&[
        "-r",
        path.to_str().unwrap(),
        "-p",
        "*%evt.num %evt.rawtime %thread.tid %evt.type %evt.dir",
    ]);
    lines
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let num: u64 = f[0].parse().unwrap();
            (
                num,
                (
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].to_string(),
                    f[4].chars().next().unwrap(),
                ),
            )
        })
        .collect()
}

/// sysdig numbers only the events its (older) event table knows.
fn sysdig_numbering(raw: &[Ev], raw_types: &[u16]) -> Vec<Option<u64>> {
    let mut n = 0;
    raw_types
        .iter()
        .take(raw.len())
        .map(|&t| {
            (t < SYSDIG_0_29_EVENT_MAX).then(|| {
                n += 1;
                n
            })
        })
        .collect()
}

fn raw_types(path: &Path) -> Vec<u16> {
    let (recs, _) = read_all(path, false);
    events(&recs)
        .iter()
        .filter_map(|r| r.event())
        .map(|e| e.etype)
        .collect()
}

fn same(ours: &Ev, theirs: &(u64, u64, String, char)) -> bool {
    ours.ts == theirs.0 && ours.tid == theirs.1 && ours.dir == theirs.3 && (ours.generic || ours.name == theirs.2)
}

#[test]
fn every_sample_reads_to_the_end_in_both_modes() {
    for path in samples() {
        for convert in [false, true] {
            let (recs, stats) = read_all(&path, convert);
            assert!(matches!(recs[0], Owned::Section(_)), "{}", path.display());
            assert!(stats.events > 0, "{}: no events", path.display());
            assert_eq!(stats.unknown_blocks, 0);
            assert_eq!(stats.converter.unconvertible, 0, "{}: {stats:?}", path.display());
            assert!(recs.iter().any(|r| matches!(r, Owned::Threads(t) if !t.is_empty())));
            assert!(recs.iter().any(|r| matches!(r, Owned::MachineInfo(_))));
        }
    }
}

#[test]
fn section_header_options_are_skipped() {
    // curl_google_comments is curl_google with pcapng comments in its section header.
    let a = read_all(&sample("curl_google.scap"), true).0;
    let b = read_all(&sample("curl_google_comments.scap"), true).0;
    assert_eq!(a[1..], b[1..]);
}

#[test]
fn raw_events_match_sysdig_event_by_event() {
    for path in samples().into_iter().filter(|p| sysdig_reads(p)) {
        let ours = mamoru_events(&path, false);
        let nums = sysdig_numbering(&ours, &raw_types(&path));
        let theirs = sysdig_events(&path);
        assert!(!theirs.is_empty());
        let by_num: BTreeMap<u64, &Ev> = ours.iter().zip(&nums).filter_map(|(e, n)| n.map(|n| (n, e))).collect();
        for (num, t) in &theirs {
            let o = by_num
                .get(num)
                .unwrap_or_else(|| panic!("{}: sysdig event {num} missing", path.display()));
            assert!(
                same(o, t),
                "{}: event {num}: mamoru {o:?}, sysdig {t:?}",
                path.display()
            );
        }
    }
}

#[test]
fn converted_events_are_the_exit_and_meta_events_of_sysdig() {
    for path in samples().into_iter().filter(|p| sysdig_reads(p)) {
        let raw = mamoru_events(&path, false);
        let conv = mamoru_events(&path, true);
        let nums = sysdig_numbering(&raw, &raw_types(&path));
        let theirs = sysdig_events(&path);
        // Conversion keeps order, timestamps, threads and event names, and only drops syscall enter events.
        let mut j = 0;
        let mut kept = HashSet::new();
        for (i, r) in raw.iter().enumerate() {
            if j < conv.len() && (conv[j].ts, conv[j].tid, conv[j].name) == (r.ts, r.tid, r.name) {
                kept.insert(i);
                j += 1;
            } else {
                assert_eq!(r.dir, '>', "{}: exit event {r:?} was dropped", path.display());
            }
        }
        assert_eq!(
            j,
            conv.len(),
            "{}: converted events are not a subsequence",
            path.display()
        );
        assert!(
            conv.iter().all(|e| e.dir == '<' || !syscall_name(e.name)),
            "{}",
            path.display()
        );
        // Every converted event that sysdig shows matches sysdig's line for it.
        let mut compared = 0;
        for (i, num) in nums.iter().enumerate() {
            if let (true, Some(num)) = (kept.contains(&i), num) {
                if let Some(t) = theirs.get(num) {
                    assert!(same(&raw[i], t), "{}: event {num}", path.display());
                    compared += 1;
                }
            }
        }
        assert!(compared > 0);
    }
}

fn syscall_name(name: &str) -> bool {
    event_table()
        .iter()
        .any(|e| e.name == name && e.category & cat::SYSCALL != 0)
}

#[test]
fn process_lists_match_sysdig_thread_tables() {
    let chisels = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for path in samples().into_iter().filter(|p| sysdig_reads(p)) {
        let (recs, _) = read_all(&path, true);
        let ours: BTreeMap<i64, (i64, i64, Vec<u8>, Vec<u8>)> = recs
            .iter()
            .filter_map(|r| match r {
                Owned::Threads(t) => Some(t),
                _ => None,
            })
            .flatten()
            .map(|t| (t.tid, (t.pid, t.ptid, t.comm.clone(), t.exe.clone())))
            .collect();
        let lines = sysdig_env(
            &["-r", path.to_str().unwrap(), "-c", "threadtable"],
            &[("SYSDIG_CHISEL_DIR", &chisels)],
        );
        let mut matched = 0;
        for l in &lines {
            let f: Vec<&str> = l.split('\t').collect();
            let tid: i64 = f[0].parse().unwrap();
            // sysdig's table is taken after its first event, which may have added a thread.
            if let Some((pid, ptid, comm, exe)) = ours.get(&tid) {
                assert_eq!(f[1].parse::<i64>().unwrap(), *pid, "{}: tid {tid}", path.display());
                assert_eq!(f[2].parse::<i64>().unwrap(), *ptid, "{}: tid {tid}", path.display());
                assert_eq!(f[3].as_bytes(), &comm[..], "{}: tid {tid}", path.display());
                assert_eq!(f[4].as_bytes(), &exe[..], "{}: tid {tid}", path.display());
                matched += 1;
            }
        }
        assert!(
            matched + 2 >= ours.len(),
            "{}: sysdig shows {matched} of our {} threads",
            path.display(),
            ours.len()
        );
    }
}
