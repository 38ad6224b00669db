//! The state engine: the thread, file-descriptor, user and container tables that give syscall events their context.
//!
//! libsinsp-compatible semantics, independently implemented: threads are created by clone/fork (from either side
//! of the syscall), replaced by execve, removed on procexit with their children reparented; fd tables are shared by
//! the threads of a process and follow open/socket/connect/accept/dup/close and friends, with each entry's `fd.name`
//! text rendered when it changes. [`State::process_event`] is called for every event *before* rules are evaluated on
//! it; removals (close, procexit) are deferred to the start of the next event so rules still see the state being
//! torn down. Everything is bounded: the thread table has a ceiling with eviction of dead, placeholder and
//! least-recently-seen entries, fd tables and user tables have caps, and odd events (missing parameters, unknown
//! tids) never panic. Seeding comes from capture records ([`State::add_thread`] ...) or from `/proc`
//! ([`State::seed_from_proc`]).

mod caps;
mod container;
mod fd;
mod hash;
mod parse;
pub mod path;
mod pkey;
mod procfs;
mod thread;
mod users;

pub use caps::{caps_to_text, ALL_CAPS, CAP_NAMES};
pub use container::{
    container_from_cgroups, container_from_path, CgroupContainer, ContainerInfo, ContainerMount, HOST_ID, SHORT_ID_LEN,
};
pub use fd::{oflags, write_endpoint, write_tuple, Fd, FdKind, Role, L4};
pub use procfs::{read_proc, ProcSnapshot, SeedReport};
pub use thread::{clone_flags, exe_flags, Thread, NA};
pub use users::{parse_group, parse_passwd};

/// The host's users and groups, from `<root>/etc/passwd` and `<root>/etc/group`.
pub fn host_users(root: &Path) -> Result<(Vec<UserRecord>, Vec<GroupRecord>), StateError> {
    let passwd = root.join("etc/passwd");
    let text = std::fs::read(&passwd).map_err(|source| StateError::Io { path: passwd, source })?;
    let users = parse_passwd(&text, b"");
    let group = root.join("etc/group");
    let text = std::fs::read(&group).map_err(|source| StateError::Io { path: group, source })?;
    Ok((users, parse_group(&text, b"")))
}

use hash::IdMap;
use mamoru_event::{FdRecord, GroupRecord, InterfaceRecord, RawEvent, ThreadRecord, UserRecord};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Errors of the state engine's I/O paths (seeding from `/proc` or passwd files).
#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Tunables.
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// Thread table ceiling; inserting past it evicts a batch of entries.
    pub max_threads: usize,
    /// Per-process fd table ceiling; new fds past it are not tracked (counted in stats).
    pub max_fds_per_process: usize,
    /// Live mode: unknown tids are looked up in `/proc` (never for replayed captures).
    pub live: bool,
    /// Root containing `proc/` and `etc/` for live lookups.
    pub host_root: PathBuf,
    /// Upper bound on `/proc` lookups per second of event time (live mode).
    pub max_proc_lookups_per_sec: u32,
    /// `evt.hostname`.
    pub hostname: Vec<u8>,
    /// Boot time as epoch ns (for `proc.pidns_init_start_ts` of host processes); 0 when unknown.
    pub boot_ts: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            max_threads: 131_072,
            max_fds_per_process: 65_536,
            live: false,
            host_root: PathBuf::from("/"),
            max_proc_lookups_per_sec: 1000,
            hostname: Vec::new(),
            boot_ts: 0,
        }
    }
}

/// Counters describing the tables and what the engine had to do to keep them bounded and consistent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateStats {
    pub threads: usize,
    pub processes: usize,
    pub fds: usize,
    pub users: usize,
    pub groups: usize,
    pub containers: usize,
    pub events: u64,
    /// Threads removed to respect `max_threads`.
    pub evicted_threads: u64,
    /// Placeholder threads created for unknown tids.
    pub placeholder_threads: u64,
    /// Successful `/proc` lookups of unknown tids (live mode).
    pub proc_lookups: u64,
    /// Entries replaced because a new clone reused a tid still in the table.
    pub tid_collisions: u64,
    /// fds not tracked because a process's table was full.
    pub dropped_fds: u64,
    /// Users/groups refused because a table was full.
    pub dropped_users: u64,
}

/// The fd table and working directory shared by the threads of one process.
#[derive(Debug, Clone, Default)]
pub struct ProcGroup {
    /// The fd table, shared copy-on-write: a forked child starts with its parent's table and the first change on
    /// either side copies it (most children exec right away and keep only a few fds, so most copies never happen).
    /// Copies go into recycled tables with recycled name buffers, so process churn does not allocate.
    pub fds: Arc<FdTable>,
    /// Working directory, libsinsp style: absolute with a trailing `/`.
    pub cwd: Vec<u8>,
    /// Thread ids in the table that use this group.
    pub members: Vec<i64>,
    /// Members not marked dead.
    pub alive: u32,
}

/// What [`State::process_event`] learned about the event it parsed; [`State::event_context`] hands it to extractors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventContext {
    pub ts: u64,
    pub tid: i64,
    /// The fd the event used or created (`fd.num`), if any.
    pub fd: Option<i64>,
    /// The event changed the name of its fd (`fd.name_changed`).
    pub fd_name_changed: bool,
}

#[derive(Debug, Default)]
struct Pending {
    tids: Vec<i64>,
    /// `(group, fd)`.
    fds: Vec<(i64, i64)>,
}

/// A process's fd table, by fd number.
pub type FdTable = IdMap<i64, Fd>;

/// Keeps `buf` in `pool` for reuse if it is worth keeping and the pool has room. Buffers below
/// [`NAME_BUF_MIN_CAPACITY`] are dropped: pooled buffers all hold a typical path without growing, so handing one out
/// for the next open or socket name does not reallocate (a longer name grows it once, and it is kept grown).
pub(crate) fn recycle_name_buf(pool: &mut Vec<Vec<u8>>, mut buf: Vec<u8>) {
    if buf.capacity() < NAME_BUF_MIN_CAPACITY || buf.capacity() > NAME_BUF_MAX_CAPACITY || pool.len() >= NAME_BUF_POOL {
        return;
    }
    buf.clear();
    pool.push(buf);
}

/// An empty buffer from `pool`, or a new one with room for a typical path when the pool is empty.
pub(crate) fn take_pooled(pool: &mut Vec<Vec<u8>>) -> Vec<u8> {
    pool.pop().unwrap_or_else(|| Vec::with_capacity(NAME_BUF_MIN_CAPACITY))
}

/// The fd table behind `fds` for writing. A table still shared with another process (after fork, or the shared
/// empty table of a new process) is first copied into a recycled table, with the entries' names in recycled buffers.
pub(crate) fn fds_mut<'a>(
    fds: &'a mut Arc<FdTable>,
    spare_tables: &mut Vec<Arc<FdTable>>,
    name_bufs: &mut Vec<Vec<u8>>,
) -> &'a mut FdTable {
    if Arc::get_mut(fds).is_none() {
        let mut own = spare_tables.pop().unwrap_or_default();
        if let Some(table) = Arc::get_mut(&mut own) {
            table.clear();
            table.reserve(fds.len());
            for (num, f) in fds.iter() {
                table.insert(*num, copy_fd(f, name_bufs));
            }
        } else {
            own = Arc::new((**fds).clone());
        }
        *fds = own;
    }
    // Unshared now: `make_mut` hands out the table without copying.
    Arc::make_mut(fds)
}

/// A copy of `f` whose name buffers come from `pool` (empty names stay unallocated).
pub(crate) fn copy_fd(f: &Fd, pool: &mut Vec<Vec<u8>>) -> Fd {
    let mut copy_bytes = |src: &[u8]| {
        let mut out = if src.is_empty() { Vec::new() } else { take_pooled(pool) };
        out.extend_from_slice(src);
        out
    };
    let name = copy_bytes(&f.name);
    let name_raw = copy_bytes(&f.name_raw);
    Fd {
        kind: f.kind.clone(),
        name,
        name_raw,
        open_flags: f.open_flags,
        dev: f.dev,
        ino: f.ino,
        role: f.role,
        connected: f.connected,
    }
}

/// Ancestor walks stop after this many steps (and on loops).
pub const MAX_ANCESTORS: usize = 256;

/// The state engine.
#[derive(Debug)]
pub struct State {
    cfg: StateConfig,
    threads: IdMap<i64, Thread>,
    groups: IdMap<i64, ProcGroup>,
    users: users::UserTables,
    containers: HashMap<Vec<u8>, ContainerInfo>,
    host_container: ContainerInfo,
    interfaces: Vec<InterfaceRecord>,
    pending: Pending,
    ctx: EventContext,
    /// The file a failed open of the current event named: Falco still resolves `fd.name`, `fd.typechar` (and
    /// `fd.num` = -1) for failed opens, which rules such as `open_file_failed` rely on.
    failed_open: Option<Fd>,
    first_ts: Option<u64>,
    prev_ts: Option<u64>,
    /// Bytes of enter events kept for their exit events (bounded).
    enter_bytes: usize,
    stats: StateStats,
    lookup_window: (u64, u32),
    /// Name buffers of removed fds, reused by the next opens: a process that opens and closes files keeps
    /// recycling the same few buffers instead of allocating two per open.
    pub(crate) name_bufs: Vec<Vec<u8>>,
    /// Removed thread entries whose buffers new clones reuse (process churn then allocates little).
    pub(crate) spare_threads: Vec<Thread>,
    /// Removed process groups whose member lists and cwd buffers new processes reuse.
    spare_groups: Vec<ProcGroup>,
    /// Empty, unshared fd tables (capacity kept): a process that needs a table of its own takes one.
    pub(crate) spare_fd_tables: Vec<Arc<FdTable>>,
    /// The empty table new processes share until their first fd (cloning it is a reference count increment).
    empty_fds: Arc<FdTable>,
    /// The event fd's name before the event (`fd.name_changed`), in a reused buffer.
    pub(crate) name_before: Vec<u8>,
}

/// Removed thread entries kept for reuse (and process groups, and fd tables).
const SPARE_THREADS: usize = 64;

/// Buffers kept for reuse (and the largest capacity worth keeping).
const NAME_BUF_POOL: usize = 1024;
const NAME_BUF_MAX_CAPACITY: usize = 4096;
/// The smallest capacity a pooled buffer has: most paths, socket names, argv items and cgroup names fit, so a
/// buffer taken from the pool rarely has to grow (and one that grew keeps its capacity when recycled).
pub(crate) const NAME_BUF_MIN_CAPACITY: usize = 128;

impl Default for State {
    fn default() -> Self {
        State::new(StateConfig::default())
    }
}

impl State {
    pub fn new(cfg: StateConfig) -> State {
        State {
            cfg,
            threads: IdMap::default(),
            groups: IdMap::default(),
            users: users::UserTables::default(),
            containers: HashMap::new(),
            host_container: ContainerInfo::host(),
            interfaces: Vec::new(),
            pending: Pending::default(),
            ctx: EventContext::default(),
            failed_open: None,
            first_ts: None,
            prev_ts: None,
            enter_bytes: 0,
            stats: StateStats::default(),
            lookup_window: (0, 0),
            name_bufs: Vec::new(),
            spare_threads: Vec::new(),
            spare_groups: Vec::new(),
            spare_fd_tables: Vec::new(),
            empty_fds: Arc::default(),
            name_before: Vec::new(),
        }
    }

    pub fn config(&self) -> &StateConfig {
        &self.cfg
    }

    pub fn set_hostname(&mut self, name: impl Into<Vec<u8>>) {
        self.cfg.hostname = name.into();
    }

    /// `evt.hostname` (empty when unknown).
    pub fn hostname(&self) -> &[u8] {
        &self.cfg.hostname
    }

    pub fn set_boot_ts(&mut self, ts: u64) {
        self.cfg.boot_ts = ts;
    }

    pub fn set_live(&mut self, live: bool) {
        self.cfg.live = live;
    }

    /// Timestamp of the event processed before the current one (`evt.deltatime` base).
    pub fn prev_event_ts(&self) -> Option<u64> {
        self.prev_ts
    }

    /// Timestamp of the first event processed (`evt.reltime` base).
    pub fn first_event_ts(&self) -> Option<u64> {
        self.first_ts
    }

    // ----------------------------------------------------------------------------------------------- seeding ----

    /// Adds (or replaces) a thread from a record, with the record's fds.
    pub fn add_thread(&mut self, rec: ThreadRecord) {
        let mut t = Thread::from_record(&rec);
        t.last_seen_ts = self.ctx.ts;
        let tid = t.tid;
        let group = t.group;
        self.insert_thread(t);
        if let Some(g) = self.groups.get_mut(&group) {
            if !rec.cwd.is_empty() {
                g.cwd = path::as_cwd(&rec.cwd);
            }
        }
        for f in &rec.fds {
            self.add_fd(tid, f.clone());
        }
    }

    /// Adds one fd of thread `tid` (ignored if the thread is unknown).
    pub fn add_fd(&mut self, tid: i64, rec: FdRecord) {
        let fd = Fd::from_record(&rec);
        self.put_fd(tid, rec.fd, fd);
    }

    pub fn add_user(&mut self, rec: UserRecord) {
        self.users.add_user(rec);
    }

    pub fn add_group(&mut self, rec: GroupRecord) {
        self.users.add_group(rec);
    }

    pub fn add_interface(&mut self, rec: InterfaceRecord) {
        if self.interfaces.len() < 4096 {
            self.interfaces.push(rec);
        }
    }

    /// Network interfaces known from the capture or the host.
    pub fn interfaces(&self) -> &[InterfaceRecord] {
        &self.interfaces
    }

    /// Loads host users and groups from `<root>/etc/passwd` and `<root>/etc/group`.
    pub fn load_host_users(&mut self, root: &Path) -> Result<(), StateError> {
        let (users, groups) = host_users(root)?;
        users.into_iter().for_each(|u| self.users.add_user(u));
        groups.into_iter().for_each(|g| self.users.add_group(g));
        Ok(())
    }

    /// Seeds every process and thread under `<root>/proc`, with fds and sockets.
    pub fn seed_from_proc(&mut self, root: &Path) -> Result<SeedReport, StateError> {
        procfs::seed(self, root)
    }

    // ------------------------------------------------------------------------------------------- containers ----

    /// Stores container metadata (from a container engine).
    pub fn set_container(&mut self, info: ContainerInfo) {
        if self.containers.len() < 65_536 || self.containers.contains_key(&info.id) {
            self.containers.insert(info.id.clone(), info);
        }
    }

    /// Forgets container `id`: its metadata and its own users and groups.
    pub fn remove_container(&mut self, id: &[u8]) {
        self.containers.remove(id);
        if id != HOST_ID {
            self.users.remove_container(id);
        }
    }

    /// Metadata of container `id` (`host` always resolves).
    pub fn container(&self, id: &[u8]) -> Option<&ContainerInfo> {
        if id == HOST_ID {
            return Some(self.containers.get(id).unwrap_or(&self.host_container));
        }
        self.containers.get(id)
    }

    // ----------------------------------------------------------------------------------------------- lookups ----

    pub fn thread(&self, tid: i64) -> Option<&Thread> {
        self.threads.get(&tid)
    }

    pub fn threads(&self) -> impl Iterator<Item = &Thread> {
        self.threads.values()
    }

    /// The main thread of `t`'s process (`t` itself when that is not in the table).
    pub fn main_thread<'a>(&'a self, t: &'a Thread) -> &'a Thread {
        if t.is_main_thread() {
            return t;
        }
        self.threads.get(&t.pid).unwrap_or(t)
    }

    /// The parent of `t`'s process.
    pub fn parent(&self, t: &Thread) -> Option<&Thread> {
        let mt = self.main_thread(t);
        if mt.ptid == mt.tid {
            return None;
        }
        self.threads.get(&mt.ptid)
    }

    /// Ancestors of `t`'s process, parent first; stops at a missing parent, a loop, or [`MAX_ANCESTORS`].
    pub fn ancestors<'a>(&'a self, t: &'a Thread) -> Ancestors<'a> {
        let start = self.main_thread(t);
        Ancestors {
            state: self,
            cur: start,
            start_tid: start.tid,
            steps: 0,
        }
    }

    /// The `n`-th ancestor (`0` = the process itself).
    pub fn ancestor<'a>(&'a self, t: &'a Thread, n: usize) -> Option<&'a Thread> {
        if n == 0 {
            return Some(self.main_thread(t));
        }
        self.ancestors(t).nth(n - 1)
    }

    /// The fd table and cwd of `t`'s process.
    pub fn proc_group(&self, t: &Thread) -> Option<&ProcGroup> {
        self.groups.get(&t.group)
    }

    pub fn fd(&self, t: &Thread, fd: i64) -> Option<&Fd> {
        self.groups.get(&t.group)?.fds.get(&fd)
    }

    /// The working directory of `t` (`proc.cwd`): absolute with a trailing `/`.
    pub fn cwd(&self, t: &Thread) -> &[u8] {
        self.groups.get(&t.group).map(|g| g.cwd.as_slice()).unwrap_or(b"")
    }

    /// `proc.nthreads`: live threads of `t`'s process.
    pub fn nthreads(&self, t: &Thread) -> u64 {
        self.groups.get(&t.group).map(|g| u64::from(g.alive)).unwrap_or(1)
    }

    pub fn user(&self, container_id: &[u8], uid: u32) -> Option<&UserRecord> {
        self.users.user(container_id, uid)
    }

    pub fn group(&self, container_id: &[u8], gid: u32) -> Option<&GroupRecord> {
        self.users.group(container_id, gid)
    }

    /// The user of thread `t`, from the user table of its container.
    pub fn user_of(&self, t: &Thread, uid: u32) -> Option<&UserRecord> {
        self.users.user(&t.container_id, uid)
    }

    /// The group of thread `t`, from the group table of its container.
    pub fn group_of(&self, t: &Thread, gid: u32) -> Option<&GroupRecord> {
        self.users.group(&t.container_id, gid)
    }

    /// Resolves `path` as a syscall taking `dirfd` would (`None` or `AT_FDCWD` = relative to the cwd).
    pub fn resolve_at_path(&self, t: &Thread, dirfd: Option<i64>, path: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.resolve_at_path_into(t, dirfd, path, &mut out);
        out
    }

    /// [`State::resolve_at_path`] into a caller buffer.
    pub fn resolve_at_path_into(&self, t: &Thread, dirfd: Option<i64>, path: &[u8], out: &mut Vec<u8>) {
        path::join_into(self.dirfd_base(t, dirfd, path), path, out);
    }

    /// The directory a relative `path` is resolved against (libsinsp's `parse_dirfd`); empty for absolute paths.
    /// A directory fd's name may lack the trailing `/`: joining adds the separator.
    pub(crate) fn dirfd_base<'a>(&'a self, t: &Thread, dirfd: Option<i64>, path: &[u8]) -> &'a [u8] {
        if path.first() == Some(&b'/') {
            return b"";
        }
        match dirfd {
            None | Some(parse::AT_FDCWD) => self.cwd(t),
            Some(fd) => match self.fd(t, fd) {
                Some(f) if !f.name.is_empty() => &f.name,
                _ => b"<UNKNOWN>/",
            },
        }
    }

    /// The context [`State::process_event`] recorded for `raw` (recomputed from the event alone when `raw` is not
    /// the event processed last).
    pub fn event_context(&self, raw: &RawEvent<'_>) -> EventContext {
        if self.ctx.ts == raw.ts && self.ctx.tid == raw.tid as i64 && self.stats.events > 0 {
            return self.ctx;
        }
        EventContext {
            ts: raw.ts,
            tid: raw.tid as i64,
            fd: parse::exit_event_fd(raw),
            fd_name_changed: false,
        }
    }

    pub fn stats(&self) -> StateStats {
        let mut s = self.stats;
        s.threads = self.threads.len();
        s.processes = self.groups.len();
        s.fds = self.groups.values().map(|g| g.fds.len()).sum();
        s.users = self.users.user_count();
        s.groups = self.users.group_count();
        s.containers = self.containers.len();
        s.dropped_users = self.users.dropped;
        s
    }

    // ------------------------------------------------------------------------------------------- processing ----

    /// Parses one event into the state. Call it for every event before evaluating rules on that event; the removals
    /// the event implies (closed fds, exited threads) are applied when the next event arrives, or by
    /// [`State::flush_pending`].
    pub fn process_event(&mut self, raw: &RawEvent<'_>) -> EventContext {
        self.flush_pending();
        if let Some(f) = self.failed_open.take() {
            self.recycle_fd(f);
        }
        self.prev_ts = (self.stats.events > 0).then_some(self.ctx.ts);
        self.stats.events += 1;
        if self.first_ts.is_none() {
            self.first_ts = Some(raw.ts);
        }
        parse::process(self, raw);
        self.ctx
    }

    /// The file the current event failed to open (`fd.num` is then -1), as Falco reports it.
    pub fn failed_open_fd(&self) -> Option<&Fd> {
        self.failed_open.as_ref()
    }

    /// Applies deferred removals now.
    pub fn flush_pending(&mut self) {
        let fds = std::mem::take(&mut self.pending.fds);
        for (group, fd) in &fds {
            if let Some(g) = self.groups.get_mut(group) {
                if g.fds.contains_key(fd) {
                    let table = fds_mut(&mut g.fds, &mut self.spare_fd_tables, &mut self.name_bufs);
                    if let Some(f) = table.remove(fd) {
                        recycle_name_buf(&mut self.name_bufs, f.name);
                        recycle_name_buf(&mut self.name_bufs, f.name_raw);
                    }
                }
            }
        }
        let mut fds = fds;
        fds.clear();
        self.pending.fds = fds;
        let tids = std::mem::take(&mut self.pending.tids);
        for tid in &tids {
            if self.threads.get(tid).is_some_and(|t| t.dead) {
                self.remove_thread(*tid);
            }
        }
        let mut tids = tids;
        tids.clear();
        self.pending.tids = tids;
    }

    // ----------------------------------------------------------------------------------- table maintenance ----

    /// An empty buffer for an fd name (a recycled one when available).
    pub(crate) fn take_name_buf(&mut self) -> Vec<u8> {
        take_pooled(&mut self.name_bufs)
    }

    /// Keeps the buffers of a dropped process group: the group itself (member list, cwd buffer) and its fd table
    /// with the entries' name buffers, unless another process still shares the table.
    fn recycle_group(&mut self, mut g: ProcGroup) {
        let fds = std::mem::replace(&mut g.fds, self.empty_fds.clone());
        self.recycle_fd_table(fds);
        if self.spare_groups.len() < SPARE_THREADS {
            g.members.clear();
            g.cwd.clear();
            g.alive = 0;
            self.spare_groups.push(g);
        } else {
            recycle_name_buf(&mut self.name_bufs, g.cwd);
        }
    }

    /// Keeps an fd table no process uses any more (emptied, capacity kept) and its entries' name buffers.
    pub(crate) fn recycle_fd_table(&mut self, mut fds: Arc<FdTable>) {
        let Some(table) = Arc::get_mut(&mut fds) else {
            return;
        };
        for (_, f) in table.drain() {
            recycle_name_buf(&mut self.name_bufs, f.name);
            recycle_name_buf(&mut self.name_bufs, f.name_raw);
        }
        if self.spare_fd_tables.len() < SPARE_THREADS {
            self.spare_fd_tables.push(fds);
        }
    }

    /// A new, empty process group (a recycled one when available); its fd table is the shared empty one.
    fn new_group(spare: &mut Vec<ProcGroup>, empty_fds: &Arc<FdTable>) -> ProcGroup {
        match spare.pop() {
            Some(g) => g,
            None => ProcGroup {
                fds: empty_fds.clone(),
                ..ProcGroup::default()
            },
        }
    }

    /// Keeps the name buffers of a dropped fd entry for reuse.
    pub(crate) fn recycle_fd(&mut self, f: Fd) {
        recycle_name_buf(&mut self.name_bufs, f.name);
        recycle_name_buf(&mut self.name_bufs, f.name_raw);
    }

    /// Inserts a thread (replacing an entry with the same tid), evicting first if the table is at its ceiling.
    pub(crate) fn insert_thread(&mut self, t: Thread) {
        let tid = t.tid;
        if self.threads.contains_key(&tid) {
            self.remove_thread(tid);
        }
        if self.threads.len() >= self.cfg.max_threads.max(1) {
            self.evict(tid);
        }
        let g = self
            .groups
            .entry(t.group)
            .or_insert_with(|| Self::new_group(&mut self.spare_groups, &self.empty_fds));
        g.members.push(tid);
        if !t.dead {
            g.alive += 1;
        }
        if t.ptid > 0 && t.ptid != tid {
            if let Some(p) = self.threads.get_mut(&t.ptid) {
                p.add_child(tid);
                if p.children.len() > 64 && p.children.len().is_power_of_two() {
                    let ptid = p.tid;
                    self.prune_children(ptid);
                }
            }
        }
        self.threads.insert(tid, t);
    }

    fn prune_children(&mut self, ptid: i64) {
        // The list is taken out and filtered in place (the parent's entry cannot be borrowed during the lookups).
        let Some(mut kids) = self.threads.get_mut(&ptid).map(|p| std::mem::take(&mut p.children)) else {
            return;
        };
        kids.retain(|k| self.threads.get(k).is_some_and(|c| c.ptid == ptid));
        if let Some(p) = self.threads.get_mut(&ptid) {
            p.children = kids;
        }
    }

    /// Removes a thread now, reparenting its children and dropping its process's fd table with the last member.
    pub(crate) fn remove_thread(&mut self, tid: i64) {
        let Some(t) = self.threads.remove(&tid) else {
            return;
        };
        self.enter_bytes = self.enter_bytes.saturating_sub(t.last_enter.len());
        if let Some(g) = self.groups.get_mut(&t.group) {
            if let Some(pos) = g.members.iter().position(|m| *m == tid) {
                g.members.swap_remove(pos);
            }
            if !t.dead {
                g.alive = g.alive.saturating_sub(1);
            }
            if g.members.is_empty() {
                if let Some(old) = self.groups.remove(&t.group) {
                    self.recycle_group(old);
                }
            }
        }
        if !t.children.is_empty() {
            let reaper = self.find_reaper(&t);
            for child in &t.children {
                if let Some(c) = self.threads.get_mut(child) {
                    if c.ptid == tid {
                        c.ptid = reaper;
                    } else {
                        continue;
                    }
                } else {
                    continue;
                }
                if reaper > 0 {
                    if let Some(r) = self.threads.get_mut(&reaper) {
                        r.add_child(*child);
                    }
                }
            }
        }
        if self.spare_threads.len() < SPARE_THREADS {
            self.spare_threads.push(t);
        }
    }

    /// Who adopts the children of exiting thread `t`: the reaper the kernel named, another live thread of the same
    /// process, the nearest subreaper ancestor, the pid-namespace init, then init; 0 when none is known.
    fn find_reaper(&self, t: &Thread) -> i64 {
        if t.reaper_tid > 0 && t.reaper_tid != t.tid && self.threads.contains_key(&t.reaper_tid) {
            return t.reaper_tid;
        }
        if let Some(g) = self.groups.get(&t.group) {
            if let Some(m) = g
                .members
                .iter()
                .find(|m| **m != t.tid && self.threads.get(m).is_some_and(|x| !x.dead))
            {
                return *m;
            }
        }
        let mut cur = self.threads.get(&t.ptid);
        let mut steps = 0;
        while let Some(a) = cur {
            if a.subreaper && !a.dead {
                return a.tid;
            }
            if a.vpid == 1 && t.in_pid_namespace() && !a.dead {
                return a.tid;
            }
            steps += 1;
            if steps > MAX_ANCESTORS || a.ptid == a.tid || a.ptid == t.tid {
                break;
            }
            cur = self.threads.get(&a.ptid);
        }
        if t.tid != 1 && self.threads.contains_key(&1) {
            1
        } else {
            0
        }
    }

    /// Evicts a batch (1/16 of the table, at least one) of the least valuable threads: dead ones first, then
    /// placeholders, then the least recently seen. `protect` is never evicted.
    fn evict(&mut self, protect: i64) {
        let target = (self.threads.len() / 16).max(1);
        let mut ranked: Vec<((u8, u64), i64)> = self
            .threads
            .values()
            .filter(|t| t.tid != protect)
            .map(|t| {
                let class = if t.dead {
                    0
                } else if t.invalid {
                    1
                } else {
                    2
                };
                ((class, t.last_seen_ts), t.tid)
            })
            .collect();
        if ranked.is_empty() {
            return;
        }
        let n = target.min(ranked.len());
        if n < ranked.len() {
            ranked.select_nth_unstable(n - 1);
        }
        for (_, tid) in ranked.into_iter().take(n) {
            self.remove_thread(tid);
            self.stats.evicted_threads += 1;
        }
        tracing::debug!(evicted = n, "thread table at its ceiling; evicted a batch");
    }

    /// Inserts or replaces fd `num` in the table of thread `tid`'s process.
    pub(crate) fn put_fd(&mut self, tid: i64, num: i64, fd: Fd) {
        if num < 0 {
            return;
        }
        let Some(group) = self.threads.get(&tid).map(|t| t.group) else {
            return;
        };
        let max = self.cfg.max_fds_per_process;
        let g = self
            .groups
            .entry(group)
            .or_insert_with(|| Self::new_group(&mut self.spare_groups, &self.empty_fds));
        if g.fds.len() >= max && !g.fds.contains_key(&num) {
            self.stats.dropped_fds += 1;
            return;
        }
        let table = fds_mut(&mut g.fds, &mut self.spare_fd_tables, &mut self.name_bufs);
        if let Some(old) = table.insert(num, fd) {
            self.recycle_fd(old);
        }
    }

    pub(crate) fn fd_mut(&mut self, tid: i64, num: i64) -> Option<&mut Fd> {
        let group = self.threads.get(&tid)?.group;
        let g = self.groups.get_mut(&group)?;
        if !g.fds.contains_key(&num) {
            return None;
        }
        fds_mut(&mut g.fds, &mut self.spare_fd_tables, &mut self.name_bufs).get_mut(&num)
    }

    pub(crate) fn fd_of_tid(&self, tid: i64, num: i64) -> Option<&Fd> {
        let t = self.threads.get(&tid)?;
        self.fd(t, num)
    }

    /// Moves thread `tid` to the fd table/cwd group `new_group` (its pid became known).
    pub(crate) fn regroup(&mut self, tid: i64, new_group: i64) {
        let Some(t) = self.threads.get(&tid) else {
            return;
        };
        let old = t.group;
        if old == new_group {
            return;
        }
        let dead = t.dead;
        let mut moved: Option<ProcGroup> = None;
        if let Some(g) = self.groups.get_mut(&old) {
            if let Some(pos) = g.members.iter().position(|m| *m == tid) {
                g.members.swap_remove(pos);
            }
            if !dead {
                g.alive = g.alive.saturating_sub(1);
            }
            if g.members.is_empty() {
                moved = self.groups.remove(&old);
            }
        }
        let g = self
            .groups
            .entry(new_group)
            .or_insert_with(|| Self::new_group(&mut self.spare_groups, &self.empty_fds));
        if let Some(m) = moved {
            // The placeholder's own table becomes the process's if the process had none yet.
            if g.fds.is_empty() {
                g.fds = m.fds;
            }
            if g.cwd.is_empty() {
                g.cwd = m.cwd;
            }
        }
        g.members.push(tid);
        if !dead {
            g.alive += 1;
        }
        if let Some(t) = self.threads.get_mut(&tid) {
            t.group = new_group;
        }
    }
}

/// Iterator over a process's ancestors (see [`State::ancestors`]).
pub struct Ancestors<'a> {
    state: &'a State,
    cur: &'a Thread,
    start_tid: i64,
    steps: usize,
}

impl<'a> Iterator for Ancestors<'a> {
    type Item = &'a Thread;

    fn next(&mut self) -> Option<&'a Thread> {
        if self.steps >= MAX_ANCESTORS {
            return None;
        }
        let ptid = self.cur.ptid;
        if ptid <= 0 || ptid == self.cur.tid || ptid == self.start_tid {
            return None;
        }
        let p = self.state.threads.get(&ptid)?;
        self.steps += 1;
        self.cur = p;
        Some(p)
    }
}
