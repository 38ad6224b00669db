//! Helpers shared by the integration tests: sample discovery, owned copies of records, and running sysdig.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mamoru_event::{FdRecord, InterfaceRecord, RawEvent, ThreadRecord};
use mamoru_scap::{MachineInfo, ReaderOptions, ReaderStats, Record, ScapReader, SectionHeader, UserList};

/// The shared capture corpus (override with `MAMORU_SCAP_CORPUS`).
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("MAMORU_SCAP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpus/scap"))
}

/// Every `*.scap` of the corpus, sorted. Fails when there are none: these tests must not pass on nothing.
pub fn samples() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("capture corpus {} is not readable: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scap"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .scap files in {}", dir.display());
    out
}

pub fn sample(name: &str) -> PathBuf {
    corpus_dir().join(name)
}

/// A record that owns its event bytes, for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Section(SectionHeader),
    MachineInfo(MachineInfo),
    Interfaces(Vec<InterfaceRecord>),
    Users(UserList),
    Threads(Vec<ThreadRecord>),
    Fds {
        tid: i64,
        fds: Vec<FdRecord>,
    },
    Event {
        cpu: u16,
        flags: Option<u32>,
        bytes: Vec<u8>,
    },
}

impl Owned {
    pub fn from_record(r: &Record<'_>) -> Owned {
        match r {
            Record::Section(s) => Owned::Section(*s),
            Record::MachineInfo(m) => Owned::MachineInfo(m.clone()),
            Record::Interfaces(i) => Owned::Interfaces(i.clone()),
            Record::Users(u) => Owned::Users(u.clone()),
            Record::Threads(t) => Owned::Threads(t.clone()),
            Record::Fds { tid, fds } => Owned::Fds {
                tid: *tid,
                fds: fds.clone(),
            },
            Record::Event { cpu, flags, event } => Owned::Event {
                cpu: *cpu,
                flags: *flags,
                bytes: event.bytes().to_vec(),
            },
        }
    }

    pub fn event(&self) -> Option<RawEvent<'_>> {
        match self {
            Owned::Event { cpu, bytes, .. } => RawEvent::parse(bytes, *cpu).ok(),
            _ => None,
        }
    }

    /// Writes this record with `w`.
    pub fn write_to<W: std::io::Write>(&self, w: &mut mamoru_scap::ScapWriter<W>) {
        let ev;
        let rec = match self {
            Owned::Section(s) => Record::Section(*s),
            Owned::MachineInfo(m) => Record::MachineInfo(m.clone()),
            Owned::Interfaces(i) => Record::Interfaces(i.clone()),
            Owned::Users(u) => Record::Users(u.clone()),
            Owned::Threads(t) => Record::Threads(t.clone()),
            Owned::Fds { tid, fds } => Record::Fds {
                tid: *tid,
                fds: fds.clone(),
            },
            Owned::Event { cpu, flags, bytes } => {
                ev = RawEvent::parse(bytes, *cpu).expect("owned event parses");
                Record::Event {
                    cpu: *cpu,
                    flags: *flags,
                    event: ev,
                }
            }
        };
        w.write_record(&rec).expect("write record");
    }
}

pub fn read_all_from<R: std::io::Read>(r: ScapReader<R>) -> (Vec<Owned>, ReaderStats) {
    let mut r = r;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().expect("record") {
        out.push(Owned::from_record(&rec));
    }
    (out, r.stats())
}

pub fn read_all(path: &Path, convert_old: bool) -> (Vec<Owned>, ReaderStats) {
    let opts = ReaderOptions {
        convert_old,
        ..ReaderOptions::default()
    };
    read_all_from(ScapReader::open_with(path, opts).expect("open"))
}

pub fn events(records: &[Owned]) -> Vec<&Owned> {
    records.iter().filter(|r| matches!(r, Owned::Event { .. })).collect()
}

/// Runs `sysdig` with `args`; fails loudly if sysdig is missing (CI installs Debian's sysdig 0.29.3).
pub fn sysdig(args: &[&str]) -> Vec<String> {
    sysdig_env(args, &[])
}

pub fn sysdig_env(args: &[&str], env: &[(&str, &Path)]) -> Vec<String> {
    let mut cmd = Command::new("sysdig");
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!(
            "\n\n*** sysdig could not be run ({e}).\n*** These tests compare mamoru with Debian's sysdig 0.29.3 and do \
             not pass without it: install it (apt-get install sysdig).\n\n"
        ),
    };
    assert!(
        out.status.success(),
        "sysdig {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Whether sysdig 0.29.3 can read this capture (it predates section header options).
pub fn sysdig_reads(path: &Path) -> bool {
    let out = Command::new("sysdig").args(["-r"]).arg(path).args(["-n", "1"]).output();
    matches!(out, Ok(o) if o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("Could not initialize"))
}
