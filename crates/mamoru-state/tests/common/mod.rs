//! Event construction for tests: parameters are given as values and encoded with the widths the event table
//! declares, so tests read like the syscalls they stand for.

#![allow(dead_code)]

use mamoru_event::{event_table, EventBuilder, ParamType, RawEvent};

pub enum V<'a> {
    N(i64),
    S(&'a str),
    B(Vec<u8>),
    Empty,
}

pub fn code(enum_name: &str) -> u16 {
    event_table()
        .iter()
        .find(|e| e.enum_name == enum_name)
        .map(|e| e.code)
        .unwrap_or_else(|| panic!("no event {enum_name}"))
}

pub fn build(enum_name: &str, ts: u64, tid: u64, vals: &[V]) -> Vec<u8> {
    let c = code(enum_name);
    let info = &event_table()[c as usize];
    assert_eq!(info.params.len(), vals.len(), "{enum_name}: wrong parameter count");
    let mut b = EventBuilder::new(c, ts, tid);
    for (p, v) in info.params.iter().zip(vals) {
        b = match v {
            V::Empty => b.empty(),
            V::S(s) => b.str(s),
            V::B(bytes) => b.bytes(bytes),
            V::N(n) => match p.ty.fixed_width() {
                Some(1) => b.u8(*n as u8),
                Some(2) => b.u16(*n as u16),
                Some(4) => b.u32(*n as u32),
                Some(8) => b.u64(*n as u64),
                _ => match p.ty {
                    ParamType::Dyn => b.u64(*n as u64),
                    other => panic!("{enum_name}.{}: numeric value for {other:?}", p.name),
                },
            },
        };
    }
    b.finish()
}

pub fn raw(bytes: &[u8]) -> RawEvent<'_> {
    RawEvent::parse(bytes, 0).expect("valid test event")
}

pub fn nul(items: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    for i in items {
        v.extend_from_slice(i.as_bytes());
        v.push(0);
    }
    v
}

/// A clone exit as current drivers emit it (`PPME_SYSCALL_CLONE_20_X`).
#[allow(clippy::too_many_arguments)]
pub fn clone_x(
    ts: u64,
    tid: u64,
    res: i64,
    exe: &str,
    args: &[&str],
    pid: i64,
    ptid: i64,
    comm: &str,
    flags: i64,
) -> Vec<u8> {
    build(
        "PPME_SYSCALL_CLONE_20_X",
        ts,
        tid,
        &[
            V::N(res),
            V::S(exe),
            V::B(nul(args)),
            V::N(tid as i64),
            V::N(pid),
            V::N(ptid),
            V::Empty,
            V::N(1024),
            V::N(0),
            V::N(0),
            V::N(0),
            V::N(0),
            V::N(0),
            V::S(comm),
            V::B(nul(&["cpuset=/"])),
            V::N(flags),
            V::N(1000),
            V::N(1000),
            V::N(tid as i64),
            V::N(pid),
            V::N(0),
        ],
    )
}

/// A successful execve exit (`PPME_SYSCALL_EXECVE_19_X`).
pub fn execve_x(ts: u64, tid: u64, exe: &str, args: &[&str], comm: &str, exepath: &str, cgroups: &[&str]) -> Vec<u8> {
    build(
        "PPME_SYSCALL_EXECVE_19_X",
        ts,
        tid,
        &[
            V::N(0),
            V::S(exe),
            V::B(nul(args)),
            V::N(tid as i64),
            V::N(tid as i64),
            V::N(1),
            V::Empty,
            V::N(1024),
            V::N(0),
            V::N(0),
            V::N(0),
            V::N(0),
            V::N(0),
            V::S(comm),
            V::B(nul(cgroups)),
            V::B(nul(&["HOME=/root", "PATH=/bin"])),
            V::N(34816),
            V::N(tid as i64),
            V::N(1000),
            V::N(1),
            V::N(0),
            V::N(0x3fffffffff),
            V::N(0x3fffffffff),
            V::N(1234),
            V::N(1_600_000_000_000_000_000),
            V::N(1_600_000_000_000_000_000),
            V::N(0),
            V::S(exepath),
            V::N(tid as i64),
            V::N(0),
            V::S(exepath),
        ],
    )
}
