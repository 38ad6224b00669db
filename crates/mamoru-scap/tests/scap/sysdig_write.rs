//! Captures written by mamoru, read by Debian's sysdig 0.29.3: it must print what it prints for the source.

use crate::common;

use std::collections::HashSet;
use std::path::Path;

use common::{events, read_all, samples, sysdig, sysdig_env, sysdig_reads, Owned};
use mamoru_event::{event_table, flags, EventBuilder, FdInfo, FdRecord, RawEvent, ThreadRecord};
use mamoru_scap::{Compat, ScapWriter, WriterOptions, SYSDIG_0_29_EVENT_MAX};

const FORMAT: &str = "*%evt.num %evt.rawtime %thread.tid %evt.type %evt.dir %proc.name %fd.name %evt.args";

fn write_file(records: &[Owned], opts: WriterOptions, path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = ScapWriter::new(std::io::BufWriter::new(file), opts).unwrap();
    for r in records {
        r.write_to(&mut w);
    }
    w.finish().unwrap();
}

fn print(path: &Path) -> Vec<String> {
    sysdig(&["-r", path.to_str().unwrap(), "-p", FORMAT])
}

fn drop_num(line: &str) -> String {
    line.split_once(' ')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default()
}

/// Names of the events that are not syscalls (switch, procexit, procinfo, container, ...).
fn meta_names() -> HashSet<&'static str> {
    event_table()
        .iter()
        .filter(|e| e.category & mamoru_event::cat::SYSCALL == 0)
        .map(|e| e.name)
        .collect()
}

/// sysdig `evt.num`s (it counts only the events its table knows) of the source events that conversion keeps.
fn kept_sysdig_numbers(path: &Path) -> HashSet<u64> {
    let key = |o: &Owned| o.event().map(|e| (e.ts, e.tid, e.etype, e.info().dir));
    let (raw, _) = read_all(path, false);
    let (conv, _) = read_all(path, true);
    let raw: Vec<_> = events(&raw)
        .into_iter()
        .filter_map(|o| o.event().map(|e| (e.ts, e.tid, e.etype)))
        .collect();
    let conv: Vec<_> = events(&conv).into_iter().filter_map(key).collect();
    let mut kept = HashSet::new();
    let (mut j, mut num) = (0, 0u64);
    for &(ts, tid, etype) in &raw {
        let counted = etype < SYSDIG_0_29_EVENT_MAX;
        if counted {
            num += 1;
        }
        let name = event_table()[etype as usize].name;
        if j < conv.len() && (conv[j].0, conv[j].1) == (ts, tid) && event_table()[conv[j].2 as usize].name == name {
            j += 1;
            if counted {
                kept.insert(num);
            }
        }
    }
    assert_eq!(j, conv.len());
    kept
}

#[test]
fn converted_copies_print_like_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    let meta = meta_names();
    for path in samples().into_iter().filter(|p| sysdig_reads(p)) {
        let kept = kept_sysdig_numbers(&path);
        let want: Vec<String> = print(&path)
            .iter()
            .filter(|l| {
                l.split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .is_some_and(|n: u64| kept.contains(&n))
            })
            .map(|l| drop_num(l))
            .collect();
        assert!(!want.is_empty());
        let (records, _) = read_all(&path, true);
        for gzip in [false, true] {
            let out = dir.path().join(format!("copy-{gzip}.scap"));
            write_file(
                &records,
                WriterOptions {
                    gzip,
                    compat: Compat::Sysdig029,
                },
                &out,
            );
            // The copy also holds the re-created syscall enter events; the source's enter events were dropped.
            let got: Vec<String> = print(&out)
                .iter()
                .filter(|l| {
                    let f: Vec<&str> = l.split(' ').collect();
                    f[4] != ">" || meta.contains(f[3])
                })
                .map(|l| drop_num(l))
                .collect();
            assert_eq!(got.len(), want.len(), "{}", path.display());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{} (gzip {gzip})", path.display());
            }
        }
    }
}

#[test]
fn unconverted_copies_print_exactly_like_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    for path in samples().into_iter().filter(|p| sysdig_reads(p)) {
        let (records, _) = read_all(&path, false);
        let out = dir.path().join("raw.scap");
        write_file(
            &records,
            WriterOptions {
                gzip: false,
                compat: Compat::Current,
            },
            &out,
        );
        assert_eq!(print(&out), print(&path), "{}", path.display());
    }
}

#[test]
fn copies_give_sysdig_the_same_thread_table() {
    let chisels = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = tempfile::tempdir().unwrap();
    let table = |p: &Path| {
        let mut l = sysdig_env(
            &["-r", p.to_str().unwrap(), "-c", "threadtable"],
            &[("SYSDIG_CHISEL_DIR", &chisels)],
        );
        l.sort();
        l
    };
    for path in samples().into_iter().filter(|p| sysdig_reads(p)) {
        let (records, _) = read_all(&path, true);
        let out = dir.path().join("copy.scap");
        write_file(&records, WriterOptions::default(), &out);
        assert_eq!(table(&out), table(&path), "{}", path.display());
    }
}

fn code(name: &str) -> u16 {
    event_table().iter().find(|e| e.enum_name == name).unwrap().code
}

/// Events as the sensor produces them (newest versions, exit events only, every parameter) must show their file
/// descriptors in sysdig 0.29.3, which tracks descriptors through enter events.
#[test]
fn sensor_style_events_show_their_descriptors_in_sysdig() {
    let tid = 4242u64;
    let thread = ThreadRecord {
        tid: tid as i64,
        pid: tid as i64,
        ptid: 1,
        comm: b"reader".to_vec(),
        exe: b"/usr/bin/reader".to_vec(),
        cwd: b"/".to_vec(),
        fdlimit: 1024,
        fds: vec![FdRecord {
            fd: 5,
            ino: 77,
            info: FdInfo::File {
                path: b"/etc/hosts".to_vec(),
                flags: 0,
                dev: 0x803,
                ino: 77,
            },
        }],
        ..ThreadRecord::default()
    };
    let ts = 1_700_000_000_000_000_000u64;
    let openat = EventBuilder::new(code("PPME_SYSCALL_OPENAT_2_X"), ts, tid)
        .i64(3)
        .i64(-100)
        .str("/etc/passwd")
        .u32(1)
        .u32(0)
        .u32(0x803)
        .u64(12)
        .finish();
    let read = EventBuilder::new(code("PPME_SYSCALL_READ_X"), ts + 1, tid)
        .i64(4)
        .bytes(b"root")
        .i64(3)
        .u32(4)
        .finish();
    let read_preexisting = EventBuilder::new(code("PPME_SYSCALL_READ_X"), ts + 2, tid)
        .i64(2)
        .bytes(b"ok")
        .i64(5)
        .u32(2)
        .finish();
    let close = EventBuilder::new(code("PPME_SYSCALL_CLOSE_X"), ts + 3, tid)
        .i64(0)
        .i64(3)
        .finish();
    for e in [&openat, &read, &read_preexisting, &close] {
        let info = RawEvent::parse(e, 0).unwrap().info();
        assert_eq!(RawEvent::parse(e, 0).unwrap().nparams(), info.params.len());
        assert!(!info.has_flag(flags::OLD_VERSION));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.scap");
    let file = std::fs::File::create(&out).unwrap();
    let mut w = ScapWriter::new(file, WriterOptions::default()).unwrap();
    w.write_threads(&[thread]).unwrap();
    for e in [&openat, &read, &read_preexisting, &close] {
        w.write_event(0, &RawEvent::parse(e, 0).unwrap()).unwrap();
    }
    w.finish().unwrap();
    let lines = sysdig(&[
        "-r",
        out.to_str().unwrap(),
        "-p",
        "*%evt.type %evt.dir %proc.name %fd.name",
        "evt.dir=<",
    ]);
    assert_eq!(
        lines,
        vec![
            "openat < reader /etc/passwd",
            "read < reader /etc/passwd",
            "read < reader /etc/hosts",
            "close < reader /etc/passwd",
        ]
    );
}

/// Large-payload event types go into `EV_V2_LARGE` blocks, which sysdig 0.29.3 reads (it counts the container event
/// as event 1 but, like every container event, does not print it).
#[test]
fn large_payload_blocks_are_read_by_sysdig() {
    let json = r#"{"container":{"id":"abcdef123456","type":0,"name":"web","image":"nginx:latest"}}"#;
    let container = EventBuilder::new(code("PPME_CONTAINER_JSON_2_E"), 10, 1)
        .str(json)
        .finish();
    let close = EventBuilder::new(code("PPME_SYSCALL_CLOSE_X"), 11, 1)
        .i64(0)
        .i64(3)
        .finish();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("large.scap");
    let mut w = ScapWriter::new(std::fs::File::create(&out).unwrap(), WriterOptions::default()).unwrap();
    for e in [&container, &close] {
        w.write_event(0, &RawEvent::parse(e, 0).unwrap()).unwrap();
    }
    w.finish().unwrap();
    let lines = sysdig(&[
        "-r",
        out.to_str().unwrap(),
        "-p",
        "*%evt.num %evt.rawtime %evt.type %evt.dir",
    ]);
    assert_eq!(lines, vec!["2 11 close >", "3 11 close <"]);
}
