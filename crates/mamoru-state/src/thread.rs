//! Thread entries: everything `proc.*`, `thread.*` and `user.*` read, with the command-line texts rendered once when
//! they change (so `proc.cmdline` and `proc.args` cost a slice on the hot path).

use crate::container::{container_from_cgroups, HOST_ID};
use mamoru_event::{split_nul, ThreadRecord};

/// Clone flags (`PPM_CL_*`) the state engine reads or keeps.
pub mod clone_flags {
    pub use mamoru_event::render::flags::clone::*;
}

/// execve `flags` bits (`PPM_EXE_*`).
pub mod exe_flags {
    use mamoru_event::render::flags::execve as ppm;
    pub const WRITABLE: u32 = ppm::EXE_WRITABLE;
    pub const UPPER_LAYER: u32 = ppm::EXE_UPPER_LAYER;
    pub const FROM_MEMFD: u32 = ppm::EXE_FROM_MEMFD;
    pub const LOWER_LAYER: u32 = ppm::EXE_LOWER_LAYER;
}

/// Sets `dst` to `src`, reusing `dst`'s buffer (nothing is written when they are already equal).
pub(crate) fn assign_bytes(dst: &mut Vec<u8>, src: &[u8]) {
    if dst.as_slice() != src {
        dst.clear();
        dst.extend_from_slice(src);
    }
}

/// Sets `dst` to the items of `src`, reusing `dst`'s entries and their buffers; entries it needs beyond those take
/// buffers from `pool`, and entries it no longer needs give theirs back (argv and environments change length on
/// every exec, and would otherwise cost an allocation per item).
pub(crate) fn assign_list<'a>(dst: &mut Vec<Vec<u8>>, src: impl Iterator<Item = &'a [u8]>, pool: &mut Vec<Vec<u8>>) {
    let mut n = 0;
    for item in src {
        match dst.get_mut(n) {
            Some(entry) => assign_bytes(entry, item),
            None => {
                let mut entry = crate::take_pooled(pool);
                entry.clear();
                entry.extend_from_slice(item);
                dst.push(entry);
            }
        }
        n += 1;
    }
    for surplus in dst.drain(n..) {
        crate::recycle_name_buf(pool, surplus);
    }
}

/// Shortens `pairs` to `n` entries, giving the buffers of the removed ones to `pool`.
pub(crate) fn truncate_pairs(pairs: &mut Vec<(Vec<u8>, Vec<u8>)>, n: usize, pool: &mut Vec<Vec<u8>>) {
    for (a, b) in pairs.drain(n.min(pairs.len())..) {
        crate::recycle_name_buf(pool, a);
        crate::recycle_name_buf(pool, b);
    }
}

/// The text libsinsp uses for values it could not learn.
pub const NA: &[u8] = b"<NA>";

/// One thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    pub tid: i64,
    pub pid: i64,
    pub ptid: i64,
    pub sid: i64,
    pub vpgid: i64,
    pub pgid: i64,
    pub vtid: i64,
    pub vpid: i64,
    /// task->comm (`proc.name`).
    pub comm: Vec<u8>,
    /// argv[0] (`proc.exe`).
    pub exe: Vec<u8>,
    /// Resolved executable path (`proc.exepath`).
    pub exepath: Vec<u8>,
    /// argv[1..].
    pub args: Vec<Vec<u8>>,
    /// `NAME=value` entries.
    pub env: Vec<Vec<u8>>,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: u32,
    pub tty: u32,
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub exe_ino: u64,
    pub exe_ino_ctime: u64,
    pub exe_ino_mtime: u64,
    pub exe_writable: bool,
    pub exe_upper_layer: bool,
    pub exe_lower_layer: bool,
    pub exe_from_memfd: bool,
    /// `PPM_CL_*` flags.
    pub flags: u32,
    pub fdlimit: i64,
    pub clone_ts: u64,
    pub lastexec_ts: u64,
    pub pidns_init_start_ts: u64,
    pub root: Vec<u8>,
    /// `(subsystem, path)` pairs.
    pub cgroups: Vec<(Vec<u8>, Vec<u8>)>,
    /// `container.id`: 12-hex id, or `host`.
    pub container_id: Vec<u8>,
    /// Full id and runtime of the container, when the cgroups name one.
    pub container_full_id: Option<Vec<u8>>,
    pub container_runtime: Option<&'static str>,
    /// `proc.args`, rendered.
    pub args_text: Vec<u8>,
    /// `proc.cmdline`, rendered.
    pub cmdline: Vec<u8>,
    /// `proc.exeline`, rendered.
    pub exeline: Vec<u8>,
    /// The process exited (procexit seen); kept until the next event so the exit can still be evaluated.
    pub dead: bool,
    /// Created because an event named an unknown tid; most fields are unknown.
    pub invalid: bool,
    /// `prctl(PR_SET_CHILD_SUBREAPER)` is set on this thread's process.
    pub subreaper: bool,
    /// Timestamp of the last event this thread produced (least-recently-used eviction).
    pub last_seen_ts: u64,
    /// Key of the fd table / working directory this thread uses (its process id, or its own tid while unknown).
    pub group: i64,
    /// Reaper named by the procexit event (`-1` if none).
    pub reaper_tid: i64,
    pub(crate) children: Vec<i64>,
    /// Bytes of the last enter event (old captures carry parameters there).
    pub(crate) last_enter: Vec<u8>,
}

impl Thread {
    /// An entry for a tid seen in an event before any process information (libsinsp's invalid thread).
    pub fn placeholder(tid: i64) -> Thread {
        // libsinsp's fake thread for an unknown tid takes the tid as its pid (sysdig prints proc.pid = tid).
        let mut t = Thread {
            tid,
            pid: tid,
            ptid: -1,
            sid: -1,
            vpgid: -1,
            pgid: -1,
            vtid: tid,
            vpid: -1,
            comm: NA.to_vec(),
            exe: NA.to_vec(),
            uid: u32::MAX,
            gid: u32::MAX,
            loginuid: u32::MAX,
            fdlimit: -1,
            invalid: true,
            group: tid,
            reaper_tid: -1,
            ..Default::default()
        };
        t.set_cgroups(Vec::new());
        t.render_cmdline();
        t
    }

    /// Builds an entry from a capture/`/proc` record (fds are added separately).
    pub fn from_record(r: &ThreadRecord) -> Thread {
        let mut t = Thread {
            tid: r.tid,
            pid: r.pid,
            ptid: r.ptid,
            sid: r.sid,
            vpgid: r.vpgid,
            pgid: r.pgid,
            vtid: r.vtid,
            vpid: r.vpid,
            comm: r.comm.clone(),
            exe: r.exe.clone(),
            exepath: r.exepath.clone(),
            args: r.args.clone(),
            env: r.env.clone(),
            uid: r.uid,
            gid: r.gid,
            loginuid: r.loginuid,
            tty: r.tty,
            cap_inheritable: r.cap_inheritable,
            cap_permitted: r.cap_permitted,
            cap_effective: r.cap_effective,
            exe_ino: r.exe_ino,
            exe_ino_ctime: r.exe_ino_ctime,
            exe_ino_mtime: r.exe_ino_mtime,
            exe_writable: r.exe_writable,
            exe_upper_layer: r.exe_upper_layer,
            exe_from_memfd: r.exe_from_memfd,
            flags: r.flags,
            fdlimit: r.fdlimit,
            clone_ts: r.clone_ts,
            pidns_init_start_ts: r.pidns_init_start_ts,
            root: r.root.clone(),
            group: if r.pid > 0 { r.pid } else { r.tid },
            reaper_tid: -1,
            ..Default::default()
        };
        if t.comm.is_empty() {
            t.comm = t.exe.clone();
        }
        t.set_cgroups(r.cgroups.clone());
        t.render_cmdline();
        t
    }

    /// Whether this is the main thread of its process.
    pub fn is_main_thread(&self) -> bool {
        self.tid == self.pid || self.flags & clone_flags::IS_MAIN_THREAD != 0
    }

    /// Whether the process lives in a non-initial pid namespace.
    pub fn in_pid_namespace(&self) -> bool {
        self.flags & clone_flags::CHILD_IN_PIDNS != 0 || (self.vtid >= 0 && self.tid != self.vtid)
    }

    /// Replaces the cgroups and recomputes the container id from them.
    pub fn set_cgroups(&mut self, cgroups: Vec<(Vec<u8>, Vec<u8>)>) {
        self.cgroups = cgroups;
        self.refresh_container();
    }

    /// Recomputes the container fields from `cgroups`.
    fn refresh_container(&mut self) {
        match container_from_cgroups(self.cgroups.iter().map(|(_, p)| p.as_slice())) {
            Some(c) => {
                assign_bytes(&mut self.container_id, c.short_id());
                self.container_runtime = Some(c.runtime);
                self.container_full_id = Some(c.full_id);
            }
            None => {
                assign_bytes(&mut self.container_id, HOST_ID);
                self.container_runtime = None;
                self.container_full_id = None;
            }
        }
    }

    /// Sets cgroups from the drivers' NUL-separated `subsys=path` list. An empty list keeps the current cgroups.
    pub fn set_cgroups_from_param(&mut self, buf: &[u8]) {
        self.set_cgroups_pooled(buf, &mut Vec::new());
    }

    /// [`Thread::set_cgroups_from_param`] with new entries' buffers taken from (and dropped ones given to) `pool`.
    pub(crate) fn set_cgroups_pooled(&mut self, buf: &[u8], pool: &mut Vec<Vec<u8>>) {
        // Children usually report their parent's cgroups: an unchanged list keeps the entries (and container) as
        // they are, without re-parsing into new buffers.
        if self.cgroups_equal_param(buf) {
            return;
        }
        if split_nul(buf).all(<[u8]>::is_empty) {
            return;
        }
        // Parsed into the existing entries, reusing their buffers.
        let mut n = 0;
        for item in split_nul(buf).filter(|s| !s.is_empty()) {
            let (subsys, path) = match item.iter().position(|c| *c == b'=') {
                Some(eq) => (&item[..eq], &item[eq + 1..]),
                None => (&b""[..], item),
            };
            match self.cgroups.get_mut(n) {
                Some((s, p)) => {
                    assign_bytes(s, subsys);
                    assign_bytes(p, path);
                }
                None => {
                    let (mut s, mut p) = (crate::take_pooled(pool), crate::take_pooled(pool));
                    assign_bytes(&mut s, subsys);
                    assign_bytes(&mut p, path);
                    self.cgroups.push((s, p));
                }
            }
            n += 1;
        }
        truncate_pairs(&mut self.cgroups, n, pool);
        self.refresh_container();
    }

    /// Whether the non-empty items of the NUL-separated `subsys=path` list `buf` are exactly the current cgroups.
    fn cgroups_equal_param(&self, buf: &[u8]) -> bool {
        let mut items = split_nul(buf).filter(|s| !s.is_empty());
        for (subsys, path) in &self.cgroups {
            let Some(item) = items.next() else {
                return false;
            };
            let same = match item.iter().position(|c| *c == b'=') {
                Some(eq) => item[..eq] == subsys[..] && item[eq + 1..] == path[..],
                None => subsys.is_empty() && item == &path[..],
            };
            if !same {
                return false;
            }
        }
        items.next().is_none() && !self.cgroups.is_empty()
    }

    /// Sets argv[1..] from the drivers' NUL-separated list.
    pub fn set_args_from_param(&mut self, buf: &[u8]) {
        self.set_args_pooled(buf, &mut Vec::new());
    }

    /// [`Thread::set_args_from_param`] with new entries' buffers taken from (and dropped ones given to) `pool`.
    pub(crate) fn set_args_pooled(&mut self, buf: &[u8], pool: &mut Vec<Vec<u8>>) {
        // A forked child reports the argv it inherited: keep the entries instead of rebuilding equal ones.
        assign_list(&mut self.args, split_nul(buf), pool);
    }

    /// Sets the environment from the drivers' NUL-separated list (an empty list keeps the current one).
    pub fn set_env_from_param(&mut self, buf: &[u8]) {
        self.set_env_pooled(buf, &mut Vec::new());
    }

    /// [`Thread::set_env_from_param`] with new entries' buffers taken from (and dropped ones given to) `pool`.
    pub(crate) fn set_env_pooled(&mut self, buf: &[u8], pool: &mut Vec<Vec<u8>>) {
        if split_nul(buf).all(<[u8]>::is_empty) {
            return;
        }
        assign_list(&mut self.env, split_nul(buf).filter(|s| !s.is_empty()), pool);
    }

    /// Re-renders `args_text`, `cmdline` and `exeline` after `comm`, `exe` or `args` changed.
    pub fn render_cmdline(&mut self) {
        // Sized once: new threads start with empty buffers, and growing them piecemeal reallocates several times.
        let args_len: usize = self.args.iter().map(|a| a.len() + 1).sum();
        self.args_text.clear();
        self.args_text.reserve(args_len);
        self.cmdline.clear();
        self.cmdline.reserve(self.comm.len() + args_len);
        self.exeline.clear();
        self.exeline.reserve(self.exe.len() + args_len);
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                self.args_text.push(b' ');
            }
            self.args_text.extend_from_slice(a);
        }
        self.cmdline.clear();
        self.cmdline.extend_from_slice(&self.comm);
        self.exeline.clear();
        self.exeline.extend_from_slice(&self.exe);
        for a in &self.args {
            self.cmdline.push(b' ');
            self.cmdline.extend_from_slice(a);
            self.exeline.push(b' ');
            self.exeline.extend_from_slice(a);
        }
    }

    /// The value of environment variable `name`.
    pub fn env_var(&self, name: &[u8]) -> Option<&[u8]> {
        self.env.iter().find_map(|e| {
            let rest = e.strip_prefix(name)?;
            rest.strip_prefix(b"=")
        })
    }

    /// The cgroup path of `subsystem` (cgroup v2's unified hierarchy has an empty subsystem name).
    pub fn cgroup(&self, subsystem: &[u8]) -> Option<&[u8]> {
        self.cgroups
            .iter()
            .find(|(s, _)| s == subsystem || s.split(|c| *c == b',').any(|part| part == subsystem))
            .map(|(_, p)| p.as_slice())
    }

    /// Remembers a child tid (for reparenting when this thread exits). Dead entries are pruned when the list grows.
    pub(crate) fn add_child(&mut self, tid: i64) {
        if !self.children.contains(&tid) {
            self.children.push(tid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_command_lines() {
        let mut t = Thread::placeholder(10);
        t.comm = b"bash".to_vec();
        t.exe = b"/bin/bash".to_vec();
        t.set_args_from_param(b"-c\0echo hi\0");
        t.render_cmdline();
        assert_eq!(t.args_text, b"-c echo hi");
        assert_eq!(t.cmdline, b"bash -c echo hi");
        assert_eq!(t.exeline, b"/bin/bash -c echo hi");
        t.set_env_from_param(b"HOME=/root\0PATH=/bin\0");
        assert_eq!(t.env_var(b"HOME"), Some(&b"/root"[..]));
        assert_eq!(t.env_var(b"HOM"), None);
    }

    #[test]
    fn cgroups_decide_container() {
        let mut t = Thread::placeholder(1);
        assert_eq!(t.container_id, b"host");
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        t.set_cgroups_from_param(format!("cpuset=/docker/{id}\0memory=/docker/{id}\0").as_bytes());
        assert_eq!(t.container_id, b"0123456789ab");
        assert_eq!(t.cgroup(b"memory").map(|p| p.len()), Some(8 + 64));
    }
}
