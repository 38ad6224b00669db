//! fanotify exec permission events on containers' root filesystems (the mechanism fapolicyd uses).
//!
//! Each covered container's overlay superblock gets a `FAN_MARK_FILESYSTEM` mark for `FAN_OPEN_EXEC_PERM` (block
//! mode) or `FAN_OPEN_EXEC` (detect mode: nothing waits on mamoru). For every exec the listener finds the file's path
//! inside the container, looks it up in the overlay's upper directory, decides with [`super::decide`], and answers
//! `FAN_DENY` (the exec fails with EPERM) or `FAN_ALLOW`. Only local filesystem lookups happen before the answer.
//! If the listener dies, closing the group makes the kernel allow every pending and future exec: the gap is
//! reported by [`super::LivenessMarker`] on the next start.

use super::container::ContainerRootfs;
use super::control::AlertSink;
use super::probe::Mechanism;
use super::report::{drift_alert, DriftRecord};
use super::{allowed, decide, fact, Verdict};
use crate::error::ResponseError;
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{self, File};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One covered container.
struct Covered {
    rootfs: ContainerRootfs,
    policy: u32,
    allow: Vec<String>,
}

type Registry = Arc<Mutex<HashMap<u64, Arc<Covered>>>>;

/// The fanotify listener.
pub struct FanotifyEnforcer {
    group: Arc<OwnedFd>,
    blocking: bool,
    containers: Registry,
    stop: Arc<OwnedFd>,
    decisions: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Checks that permission events and exec marks work here (no filesystem is watched).
pub fn probe_fanotify() -> Result<(), ResponseError> {
    let group = fanotify_init(true)?;
    let dir = std::env::temp_dir();
    // An inode mark on a directory: validates FAN_OPEN_EXEC_PERM support without watching any executable.
    mark(
        &group,
        libc::FAN_MARK_ADD | libc::FAN_MARK_INODE,
        libc::FAN_OPEN_EXEC_PERM,
        &dir,
    )
}

fn fanotify_init(blocking: bool) -> Result<OwnedFd, ResponseError> {
    let class = if blocking {
        libc::FAN_CLASS_CONTENT
    } else {
        libc::FAN_CLASS_NOTIF
    };
    // SAFETY: plain syscall wrapper; returns a new fd or -1.
    let fd = unsafe { libc::fanotify_init(class | libc::FAN_CLOEXEC, (libc::O_RDONLY | libc::O_LARGEFILE) as u32) };
    if fd < 0 {
        return Err(ResponseError::Unavailable {
            mechanism: "fanotify",
            reason: format!("fanotify_init: {}", std::io::Error::last_os_error()),
        });
    }
    // SAFETY: the kernel returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn mark(group: &OwnedFd, flags: u32, mask: u64, path: &Path) -> Result<(), ResponseError> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| ResponseError::Parse {
        path: path.into(),
        reason: "NUL byte in path".into(),
    })?;
    // SAFETY: the group fd is open and c_path is a valid NUL-terminated string for the duration of the call.
    let rc = unsafe { libc::fanotify_mark(group.as_raw_fd(), flags, mask, libc::AT_FDCWD, c_path.as_ptr()) };
    if rc != 0 {
        return Err(ResponseError::Unavailable {
            mechanism: "fanotify",
            reason: format!(
                "fanotify_mark on {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ),
        });
    }
    Ok(())
}

fn eventfd() -> Result<OwnedFd, ResponseError> {
    // SAFETY: plain syscall wrapper; returns a new fd or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(ResponseError::last_os("eventfd"));
    }
    // SAFETY: the kernel returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl FanotifyEnforcer {
    /// Opens the group and starts the listener. `blocking` selects permission events.
    pub fn start(blocking: bool, sink: AlertSink) -> Result<FanotifyEnforcer, ResponseError> {
        let group = Arc::new(fanotify_init(blocking)?);
        let stop = Arc::new(eventfd()?);
        let containers: Registry = Arc::default();
        let decisions = Arc::new(AtomicU64::new(0));
        let listener = Listener {
            group: Arc::clone(&group),
            stop: Arc::clone(&stop),
            containers: Arc::clone(&containers),
            blocking,
            sink,
            decisions: Arc::clone(&decisions),
        };
        let thread = std::thread::Builder::new()
            .name("mamoru-drift-fanotify".into())
            .spawn(move || listener.run())
            .map_err(ResponseError::io("spawning the fanotify listener"))?;
        Ok(FanotifyEnforcer {
            group,
            blocking,
            containers,
            stop,
            decisions,
            thread: Some(thread),
        })
    }

    fn mask(&self) -> u64 {
        if self.blocking {
            libc::FAN_OPEN_EXEC_PERM
        } else {
            libc::FAN_OPEN_EXEC
        }
    }

    /// Watches the container's root filesystem.
    pub fn add_container(&self, rootfs: &ContainerRootfs, policy: u32, allow: &[String]) -> Result<(), ResponseError> {
        if let Ok(mut map) = self.containers.lock() {
            map.insert(
                rootfs.dev,
                Arc::new(Covered {
                    rootfs: rootfs.clone(),
                    policy,
                    allow: allow.to_vec(),
                }),
            );
        }
        mark(
            &self.group,
            libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM,
            self.mask(),
            &rootfs.merged,
        )
    }

    /// Stops watching the container's root filesystem (it may already be unmounted: then the mark is gone).
    pub fn remove_container(&self, rootfs: &ContainerRootfs) {
        if let Ok(mut map) = self.containers.lock() {
            map.remove(&rootfs.dev);
        }
        let _ = mark(
            &self.group,
            libc::FAN_MARK_REMOVE | libc::FAN_MARK_FILESYSTEM,
            self.mask(),
            &rootfs.merged,
        );
    }

    /// Whether the listener thread still runs.
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Exec events answered so far.
    pub fn decisions(&self) -> u64 {
        self.decisions.load(Ordering::Relaxed)
    }
}

impl Drop for FanotifyEnforcer {
    fn drop(&mut self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writing 8 bytes from a valid buffer to our eventfd.
        unsafe { libc::write(self.stop.as_raw_fd(), one.as_ptr().cast(), one.len()) };
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Listener {
    group: Arc<OwnedFd>,
    stop: Arc<OwnedFd>,
    containers: Registry,
    blocking: bool,
    sink: AlertSink,
    decisions: Arc<AtomicU64>,
}

/// `struct fanotify_event_metadata` (24 bytes).
const METADATA_LEN: usize = 24;

impl Listener {
    fn run(self) {
        let mut buf = vec![0u8; 64 * 1024];
        let mut fds = [
            libc::pollfd {
                fd: self.group.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        loop {
            // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 1000) };
            if n < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(error = %std::io::Error::last_os_error(), "fanotify poll failed: listener stops");
                return;
            }
            if fds[1].revents != 0 {
                return;
            }
            if fds[0].revents & libc::POLLIN == 0 {
                continue;
            }
            // SAFETY: reading into a valid, writable buffer of buf.len() bytes.
            let len = unsafe { libc::read(self.group.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if len < 0 {
                let err = std::io::Error::last_os_error();
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) {
                    continue;
                }
                tracing::error!(error = %err, "fanotify read failed: listener stops");
                return;
            }
            self.handle_batch(&buf[..len as usize]);
        }
    }

    fn handle_batch(&self, mut buf: &[u8]) {
        while buf.len() >= METADATA_LEN {
            let event_len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            let mask = u64::from_ne_bytes([buf[8], buf[9], buf[10], buf[11], buf[12], buf[13], buf[14], buf[15]]);
            let fd = i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
            let pid = i32::from_ne_bytes([buf[20], buf[21], buf[22], buf[23]]);
            if event_len < METADATA_LEN || event_len > buf.len() {
                tracing::error!(event_len, "malformed fanotify event");
                return;
            }
            if mask & libc::FAN_Q_OVERFLOW != 0 {
                // Only notification groups (detect mode) can overflow; permission events are never dropped.
                tracing::error!("fanotify queue overflow: some exec detections were lost");
            }
            if fd >= 0 {
                // SAFETY: the kernel opened this fd for us in the event; we are its only owner.
                let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
                self.handle_exec(file, pid);
            }
            buf = &buf[event_len..];
        }
    }

    fn handle_exec(&self, file: File, pid: i32) {
        let (verdict, record) = self.classify(&file, pid);
        if self.blocking {
            respond(&self.group, file.as_raw_fd(), verdict == Verdict::Block);
        }
        drop(file);
        self.decisions.fetch_add(1, Ordering::Relaxed);
        if let Some(mut rec) = record.filter(|_| verdict != Verdict::Allow) {
            fill_process(&mut rec);
            (self.sink)(drift_alert(&rec));
        }
    }

    /// The verdict for one exec and, unless allowed, what the alert needs. Local lookups only.
    fn classify(&self, file: &File, pid: i32) -> (Verdict, Option<DriftRecord>) {
        let Ok(meta) = file.metadata() else {
            return (Verdict::Allow, None);
        };
        let covered = self.containers.lock().ok().and_then(|m| m.get(&meta.dev()).cloned());
        let Some(covered) = covered else {
            return (Verdict::Allow, None);
        };
        let link = fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap_or_default();
        let rel = relative_path(&link, &covered.rootfs.merged, meta.dev(), meta.ino());
        let mut facts = fact::IN_SCOPE;
        match &rel {
            Some(rel) => {
                if covered.rootfs.on_upper_layer(rel) {
                    facts |= fact::UPPER;
                }
                if allowed(&covered.allow, rel) {
                    facts |= fact::ALLOWED;
                }
            }
            // Unlinked after being written: it cannot be in the image.
            None if link.as_os_str().as_bytes().ends_with(b" (deleted)") => facts |= fact::UPPER,
            None => tracing::warn!(link = %link.display(), "fanotify: cannot place the executable in its container"),
        }
        let verdict = decide(facts, covered.policy);
        let record = DriftRecord {
            verdict,
            mechanism: Mechanism::Fanotify,
            facts,
            pid: i64::from(pid),
            tid: i64::from(pid),
            ppid: -1,
            uid: 0,
            comm: String::new(),
            exepath: rel.unwrap_or_else(|| link.display().to_string()),
            exe_dev: meta.dev(),
            exe_ino: meta.ino(),
            container: Some(covered.rootfs.meta.clone()),
            action: if verdict == Verdict::Block && self.blocking {
                "EPERM".into()
            } else {
                String::new()
            },
        };
        (verdict, Some(record))
    }
}

fn respond(group: &OwnedFd, fd: RawFd, deny: bool) {
    let response = libc::fanotify_response {
        fd,
        response: if deny { libc::FAN_DENY } else { libc::FAN_ALLOW },
    };
    let len = std::mem::size_of::<libc::fanotify_response>();
    // SAFETY: writes the bytes of a live, initialised fanotify_response to the open group fd.
    let written = unsafe {
        libc::write(
            group.as_raw_fd(),
            (&response as *const libc::fanotify_response).cast(),
            len,
        )
    };
    if written != len as isize {
        tracing::error!(
            error = %std::io::Error::last_os_error(),
            "fanotify: answering a permission event failed (the kernel allows it when the group closes)"
        );
    }
}

/// The path of the executable inside the container: the longest suffix of the path the kernel shows (which is
/// relative to whichever mount namespace the exec happened in) that names the same inode under our view of the
/// container's root filesystem.
fn relative_path(link: &Path, merged: &Path, dev: u64, ino: u64) -> Option<String> {
    let parts: Vec<&std::ffi::OsStr> = link
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s),
            _ => None,
        })
        .collect();
    (0..parts.len()).find_map(|start| {
        let suffix: PathBuf = parts[start..].iter().collect();
        let meta = fs::symlink_metadata(merged.join(&suffix)).ok()?;
        (meta.dev() == dev && meta.ino() == ino).then(|| format!("/{}", suffix.display()))
    })
}

/// Adds the exec'ing process's name, parent and uid from /proc (best effort: it may be gone).
fn fill_process(rec: &mut DriftRecord) {
    let mut status = String::new();
    if File::open(format!("/proc/{}/status", rec.pid))
        .and_then(|mut f| f.read_to_string(&mut status))
        .is_err()
    {
        return;
    }
    for line in status.lines() {
        if let Some(v) = line.strip_prefix("Name:") {
            rec.comm = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("PPid:") {
            rec.ppid = v.trim().parse().unwrap_or(-1);
        } else if let Some(v) = line.strip_prefix("Uid:") {
            rec.uid = v.split_whitespace().next().and_then(|u| u.parse().ok()).unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_finds_the_suffix_naming_the_same_inode() {
        let dir = tempfile::tempdir().unwrap();
        let merged = dir.path().join("merged");
        fs::create_dir_all(merged.join("bin")).unwrap();
        fs::write(merged.join("bin/tool"), b"x").unwrap();
        let meta = fs::metadata(merged.join("bin/tool")).unwrap();
        // As seen from inside the container, and from another mount of the same filesystem.
        for link in ["/bin/tool", "/mnt/elsewhere/bin/tool"] {
            assert_eq!(
                relative_path(Path::new(link), &merged, meta.dev(), meta.ino()).as_deref(),
                Some("/bin/tool")
            );
        }
        assert_eq!(
            relative_path(Path::new("/bin/other"), &merged, meta.dev(), meta.ino()),
            None
        );
        assert_eq!(
            relative_path(Path::new("/bin/tool"), &merged, meta.dev(), meta.ino() + 1),
            None
        );
    }
}
