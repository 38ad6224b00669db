//! Process list blocks, format versions 1 to 9.
//!
//! Each version appends fields to the previous one (v2 memory counters, v3 environment, v4 namespaces and cgroups, v5
//! root, v6 session id, v7 resolved executable path, v8 process group). Version 9 prefixes each entry with its length,
//! after which fields are only ever appended: readers take what fits and skip the rest. One wrinkle from libscap 0.10:
//! `pidns_init_start_ts` and `tty` were inserted *before* the older trailing fields; an entry whose tail is at most
//! 29 bytes (the size of `loginuid, exe_writable` and the three capability sets) predates that insertion.

use mamoru_event::{split_nul, ThreadRecord};

use crate::error::BodyError;
use crate::wire::{Cursor, Out};

/// Tail size of a pre-0.10 v9 entry: loginuid (4), exe_writable (1), three capability sets (24).
const PRE_0_10_TAIL: usize = 29;
/// Limits libscap enforces when reading (longer values make the whole capture unreadable there).
pub(crate) const MAX_PATH: usize = 1024;
pub(crate) const MAX_ARGS: usize = 4096;
pub(crate) const MAX_ENV: usize = 4096;
pub(crate) const MAX_CGROUPS: usize = 4096;

pub(crate) fn parse_proclist(body: &[u8], version: u8) -> Result<Vec<ThreadRecord>, BodyError> {
    let mut c = Cursor::new(body);
    let mut out = Vec::new();
    while c.remaining() >= 4 {
        out.push(parse_entry(&mut c, version)?);
    }
    Ok(out)
}

fn parse_entry(c: &mut Cursor<'_>, v: u8) -> Result<ThreadRecord, BodyError> {
    let start = c.pos();
    let sub_len = if v >= 9 {
        c.u32("process entry length")? as usize
    } else {
        0
    };
    let mut t = ThreadRecord {
        sid: -1,
        vpgid: -1,
        pgid: -1,
        vtid: -1,
        vpid: -1,
        loginuid: u32::MAX,
        ..ThreadRecord::default()
    };
    t.tid = c.i64("tid")?;
    t.pid = c.i64("pid")?;
    t.ptid = c.i64("ptid")?;
    if v >= 6 {
        t.sid = c.i64("sid")?;
    }
    if v >= 8 {
        t.vpgid = c.i64("vpgid")?;
    }
    t.comm = c.str16("comm")?.to_vec();
    t.exe = c.str16("exe")?.to_vec();
    if v >= 7 {
        t.exepath = c.str16("exepath")?.to_vec();
    }
    t.args = split_nul(c.str16("args")?).map(<[u8]>::to_vec).collect();
    t.cwd = c.str16("cwd")?.to_vec();
    t.fdlimit = c.i64("fdlimit")?;
    t.flags = c.u32("flags")?;
    t.uid = c.u32("uid")?;
    t.gid = c.u32("gid")?;
    if v >= 2 {
        // vmsize_kb, vmrss_kb, vmswap_kb, pfmajor, pfminor: sampled counters, not thread identity.
        c.skip(4 + 4 + 4 + 8 + 8, "memory counters")?;
        if v >= 3 {
            t.env = split_nul(c.str16("env")?).map(<[u8]>::to_vec).collect();
        }
        if v >= 4 {
            t.vtid = c.i64("vtid")?;
            t.vpid = c.i64("vpid")?;
            t.cgroups = parse_cgroups(c.str16("cgroups")?);
            if v >= 5 {
                t.root = c.str16("root")?.to_vec();
            }
        }
    }
    if sub_len > 0 {
        parse_v9_tail(c, start, sub_len, &mut t)?;
    }
    Ok(t)
}

fn parse_v9_tail(c: &mut Cursor<'_>, start: usize, sub_len: usize, t: &mut ThreadRecord) -> Result<(), BodyError> {
    let used = c.pos() - start;
    if used > sub_len {
        return Err(BodyError::new(
            start,
            format!("process entry of {used} bytes overruns its length {sub_len}"),
        ));
    }
    let end = start + sub_len;
    let fits = |c: &Cursor<'_>, n: usize| c.pos() + n <= end;
    if sub_len - used > PRE_0_10_TAIL {
        if fits(c, 8) {
            t.pidns_init_start_ts = c.u64("pidns_init_start_ts")?;
        }
        if fits(c, 4) {
            t.tty = c.u32("tty")?;
        }
    }
    if fits(c, 4) {
        t.loginuid = c.u32("loginuid")?;
    }
    if fits(c, 1) {
        t.exe_writable = c.u8("exe_writable")? != 0;
    }
    if fits(c, 8) {
        t.cap_inheritable = c.u64("cap_inheritable")?;
    }
    if fits(c, 8) {
        t.cap_permitted = c.u64("cap_permitted")?;
    }
    if fits(c, 8) {
        t.cap_effective = c.u64("cap_effective")?;
    }
    if fits(c, 1) {
        t.exe_upper_layer = c.u8("exe_upper_layer")? != 0;
    }
    if fits(c, 8) {
        t.exe_ino = c.u64("exe_ino")?;
    }
    if fits(c, 8) {
        t.exe_ino_ctime = c.u64("exe_ino_ctime")?;
    }
    if fits(c, 8) {
        t.exe_ino_mtime = c.u64("exe_ino_mtime")?;
    }
    if fits(c, 1) {
        t.exe_from_memfd = c.u8("exe_from_memfd")? != 0;
    }
    if fits(c, 1) {
        // exe_lower_layer: not part of the thread record model.
        c.skip(1, "exe_lower_layer")?;
    }
    if fits(c, 8) {
        t.pgid = c.i64("pgid")?;
    }
    c.skip(end - c.pos(), "process entry tail")
}

/// `subsys=path` items, NUL-separated, as `/proc/PID/cgroup` lists them.
fn parse_cgroups(raw: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    split_nul(raw)
        .map(|item| match item.iter().position(|b| *b == b'=') {
            Some(eq) => (item[..eq].to_vec(), item[eq + 1..].to_vec()),
            None => (item.to_vec(), Vec::new()),
        })
        .collect()
}

/// NUL-terminated items joined, cut at `max` bytes on an item boundary.
fn join_nul<'a>(items: impl Iterator<Item = &'a [u8]>, max: usize, buf: &mut Vec<u8>) {
    buf.clear();
    for it in items {
        if buf.len() + it.len() + 1 > max {
            break;
        }
        buf.extend_from_slice(it);
        buf.push(0);
    }
}

/// Writes v9 entries in the current libscap layout: every field, each entry prefixed by its length.
pub(crate) fn encode_proclist(threads: &[ThreadRecord], out: &mut Vec<u8>) {
    let mut args = Vec::new();
    let mut env = Vec::new();
    let mut cgroups = Vec::new();
    let mut cg_item = Vec::new();
    for t in threads {
        join_nul(t.args.iter().map(Vec::as_slice), MAX_ARGS, &mut args);
        join_nul(t.env.iter().map(Vec::as_slice), MAX_ENV, &mut env);
        cgroups.clear();
        for (subsys, path) in &t.cgroups {
            cg_item.clear();
            cg_item.extend_from_slice(subsys);
            cg_item.push(b'=');
            cg_item.extend_from_slice(path);
            if cgroups.len() + cg_item.len() + 1 > MAX_CGROUPS {
                break;
            }
            cgroups.extend_from_slice(&cg_item);
            cgroups.push(0);
        }
        let mut o = Out(out);
        let start = o.len();
        o.u32(0); // entry length, patched below
        o.i64(t.tid).i64(t.pid).i64(t.ptid).i64(t.sid).i64(t.vpgid);
        o.str16(&t.comm, MAX_PATH)
            .str16(&t.exe, MAX_PATH)
            .str16(&t.exepath, MAX_PATH);
        o.str16(&args, MAX_ARGS).str16(&t.cwd, MAX_PATH);
        o.i64(t.fdlimit).u32(t.flags).u32(t.uid).u32(t.gid);
        o.u32(0).u32(0).u32(0).u64(0).u64(0); // vmsize, vmrss, vmswap, pfmajor, pfminor
        o.str16(&env, MAX_ENV);
        o.i64(t.vtid)
            .i64(t.vpid)
            .str16(&cgroups, MAX_CGROUPS)
            .str16(&t.root, MAX_PATH);
        o.u64(t.pidns_init_start_ts)
            .u32(t.tty)
            .u32(t.loginuid)
            .u8(t.exe_writable as u8);
        o.u64(t.cap_inheritable).u64(t.cap_permitted).u64(t.cap_effective);
        o.u8(t.exe_upper_layer as u8)
            .u64(t.exe_ino)
            .u64(t.exe_ino_ctime)
            .u64(t.exe_ino_mtime);
        o.u8(t.exe_from_memfd as u8).u8(0).i64(t.pgid); // exe_lower_layer is not modelled
        let len = o.len() - start;
        o.patch_u32(start, len as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_thread() -> ThreadRecord {
        ThreadRecord {
            tid: 42,
            pid: 40,
            ptid: 1,
            sid: 40,
            vpgid: 40,
            pgid: 40,
            comm: b"bash".to_vec(),
            exe: b"-bash".to_vec(),
            exepath: b"/usr/bin/bash".to_vec(),
            args: vec![b"-c".to_vec(), b"echo hi".to_vec()],
            env: vec![b"HOME=/root".to_vec(), b"TERM=xterm".to_vec()],
            cwd: b"/root".to_vec(),
            fdlimit: 1024,
            flags: 0x2,
            uid: 0,
            gid: 0,
            loginuid: 1000,
            vtid: 42,
            vpid: 40,
            cgroups: vec![(b"cpu".to_vec(), b"/user.slice".to_vec())],
            root: b"/".to_vec(),
            tty: 34816,
            exe_ino: 77,
            exe_ino_ctime: 1,
            exe_ino_mtime: 2,
            exe_writable: true,
            exe_upper_layer: true,
            exe_from_memfd: true,
            cap_inheritable: 1,
            cap_permitted: 2,
            cap_effective: 3,
            clone_ts: 0,
            pidns_init_start_ts: 99,
            fds: Vec::new(),
        }
    }

    #[test]
    fn v9_entries_round_trip_every_field() {
        let t = sample_thread();
        let mut buf = Vec::new();
        encode_proclist(&[t.clone(), t.clone()], &mut buf);
        buf.extend_from_slice(&[0, 0, 0]);
        assert_eq!(parse_proclist(&buf, 9).unwrap(), vec![t.clone(), t]);
    }

    #[test]
    fn pre_0_10_tail_is_read_as_loginuid_and_capabilities() {
        let t = sample_thread();
        let mut buf = Vec::new();
        encode_proclist(&[t], &mut buf);
        // Rebuild the entry without the fields libscap 0.10 added: drop pidns/tty and everything after the caps.
        let full_len = buf.len();
        let tail = 8 + 4 + 4 + 1 + 24 + 1 + 24 + 1 + 1 + 8;
        let base = full_len - tail;
        let mut old = buf[..base].to_vec();
        Out(&mut old).u32(1000).u8(1).u64(1).u64(2).u64(3);
        let len = old.len() as u32;
        old[..4].copy_from_slice(&len.to_le_bytes());
        let got = &parse_proclist(&old, 9).unwrap()[0];
        assert_eq!(got.loginuid, 1000);
        assert_eq!(got.cap_effective, 3);
        assert_eq!(got.pidns_init_start_ts, 0);
        assert_eq!(got.pgid, -1);
    }

    #[test]
    fn v1_entries_have_defaults_for_missing_fields() {
        let mut buf = Vec::new();
        let mut o = Out(&mut buf);
        o.i64(7)
            .i64(7)
            .i64(1)
            .str16(b"init", 99)
            .str16(b"/sbin/init", 99)
            .str16(b"a\0b\0", 99);
        o.str16(b"/", 99).i64(1024).u32(0).u32(0).u32(0);
        let got = &parse_proclist(&buf, 1).unwrap()[0];
        assert_eq!(got.comm, b"init");
        assert_eq!(got.args, vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!((got.sid, got.vtid, got.loginuid), (-1, -1, u32::MAX));
    }

    /// v8: sid and vpgid after ptid, exepath after exe, memory counters, env, namespaces, cgroups and root; no length.
    #[test]
    fn v8_entries_read_every_field_in_order() {
        let mut buf = Vec::new();
        let mut o = Out(&mut buf);
        o.i64(9).i64(8).i64(1).i64(8).i64(8);
        o.str16(b"nginx", 99).str16(b"nginx", 99).str16(b"/usr/sbin/nginx", 99);
        o.str16(b"-g\0daemon off;\0", 99).str16(b"/", 99);
        o.i64(4096).u32(0).u32(33).u32(33);
        o.u32(1).u32(2).u32(3).u64(4).u64(5);
        o.str16(b"A=1\0", 99);
        o.i64(1).i64(1).str16(b"memory=/docker/abc\0", 99).str16(b"/", 99);
        let t = &parse_proclist(&buf, 8).unwrap()[0];
        assert_eq!((t.tid, t.pid, t.ptid, t.sid, t.vpgid), (9, 8, 1, 8, 8));
        assert_eq!(t.exepath, b"/usr/sbin/nginx");
        assert_eq!(t.args, vec![b"-g".to_vec(), b"daemon off;".to_vec()]);
        assert_eq!((t.fdlimit, t.uid, t.gid), (4096, 33, 33));
        assert_eq!(t.env, vec![b"A=1".to_vec()]);
        assert_eq!((t.vtid, t.vpid), (1, 1));
        assert_eq!(t.cgroups, vec![(b"memory".to_vec(), b"/docker/abc".to_vec())]);
        assert_eq!(t.root, b"/");
        assert_eq!(t.loginuid, u32::MAX);
    }

    #[test]
    fn overlong_entry_length_is_rejected() {
        let mut buf = Vec::new();
        encode_proclist(&[sample_thread()], &mut buf);
        buf[..4].copy_from_slice(&10u32.to_le_bytes());
        assert!(parse_proclist(&buf, 9).is_err());
    }
}
