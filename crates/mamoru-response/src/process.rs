//! Signals to exactly the alerted process: a pidfd opened on the pid, then the start time of the process behind
//! the pid checked against the alert's, then the signal sent through the pidfd.
//!
//! Why this order is safe: if the alerted process had exited and its pid been reused before `pidfd_open`, /proc
//! shows the newer process, whose start time differs, and nothing is sent. If the start time matches, the pidfd
//! was opened on the alerted process (a process cannot be older than the one whose pid it reuses), and a signal
//! through a pidfd never reaches another process: if the target exits meanwhile, the kernel answers ESRCH.

use crate::error::ResponseError;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Where process start times come from: `/proc` on a live system, a fake in tests.
pub trait ProcessTable {
    /// Start time of process `pid`, epoch nanoseconds.
    fn start_time_ns(&self, pid: i64) -> Result<u64, ResponseError>;
    /// Process group of process `pid`.
    fn process_group(&self, pid: i64) -> Result<i64, ResponseError>;
    /// Every process id currently listed.
    fn pids(&self) -> Result<Vec<i64>, ResponseError>;
}

/// The live `/proc` (or another procfs mount).
#[derive(Debug, Clone)]
pub struct ProcFs {
    root: PathBuf,
    boot_epoch_ns: u64,
    ns_per_tick: u64,
}

impl ProcFs {
    /// `/proc`, with the boot time taken from the clocks (ns precise, unlike /proc/stat's `btime` seconds).
    pub fn new() -> Result<ProcFs, ResponseError> {
        ProcFs::at("/proc")
    }

    pub fn at(root: impl Into<PathBuf>) -> Result<ProcFs, ResponseError> {
        // SAFETY: sysconf has no memory-safety preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if hz <= 0 {
            return Err(ResponseError::last_os("sysconf(_SC_CLK_TCK)"));
        }
        Ok(ProcFs {
            root: root.into(),
            boot_epoch_ns: boot_epoch_ns()?,
            ns_per_tick: 1_000_000_000 / hz as u64,
        })
    }

    fn stat_fields(&self, pid: i64) -> Result<Vec<String>, ResponseError> {
        let path = self.root.join(pid.to_string()).join("stat");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ResponseError::NoSuchProcess(pid)),
            Err(source) => return Err(ResponseError::Read { path, source }),
        };
        parse_stat(&text).ok_or_else(|| ResponseError::Parse {
            path,
            reason: "no `(comm)` in the stat line".into(),
        })
    }
}

/// The fields after `pid (comm)` of a `/proc/<pid>/stat` line: index 0 is `state` (field 3 of proc(5)).
fn parse_stat(text: &str) -> Option<Vec<String>> {
    // comm may contain spaces and parentheses: the last ')' ends it.
    let close = text.rfind(')')?;
    Some(text[close + 1..].split_whitespace().map(str::to_owned).collect())
}

/// proc(5) field number (1-based, `pid` = 1) to an index into [`parse_stat`]'s output.
fn stat_field(fields: &[String], number: usize, path: &Path) -> Result<i64, ResponseError> {
    fields
        .get(number - 3)
        .and_then(|f| f.parse::<i64>().ok())
        .ok_or_else(|| ResponseError::Parse {
            path: path.to_path_buf(),
            reason: format!("field {number} missing or not a number"),
        })
}

impl ProcessTable for ProcFs {
    fn start_time_ns(&self, pid: i64) -> Result<u64, ResponseError> {
        let fields = self.stat_fields(pid)?;
        let ticks = stat_field(&fields, 22, &self.root.join(pid.to_string()).join("stat"))?;
        Ok(self.boot_epoch_ns + (ticks.max(0) as u64).saturating_mul(self.ns_per_tick))
    }

    fn process_group(&self, pid: i64) -> Result<i64, ResponseError> {
        let fields = self.stat_fields(pid)?;
        stat_field(&fields, 5, &self.root.join(pid.to_string()).join("stat"))
    }

    fn pids(&self) -> Result<Vec<i64>, ResponseError> {
        let dir = fs::read_dir(&self.root).map_err(|source| ResponseError::Read {
            path: self.root.clone(),
            source,
        })?;
        Ok(dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i64>().ok()))
            .collect())
    }
}

/// Epoch time of boot: CLOCK_REALTIME minus CLOCK_BOOTTIME (what /proc start times count from).
fn boot_epoch_ns() -> Result<u64, ResponseError> {
    let real = clock_ns(libc::CLOCK_REALTIME)?;
    let boot = clock_ns(libc::CLOCK_BOOTTIME)?;
    Ok(real.saturating_sub(boot))
}

fn clock_ns(clock: libc::clockid_t) -> Result<u64, ResponseError> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(ResponseError::last_os("clock_gettime"));
    }
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// The identity of a process: its pid and when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: i64,
    /// Epoch nanoseconds; 0 (unknown) is never accepted.
    pub start_time_ns: u64,
}

/// Sends signals to verified processes.
#[derive(Debug, Clone)]
pub struct Killer<T: ProcessTable> {
    table: T,
    tolerance_ns: u64,
}

impl<T: ProcessTable> Killer<T> {
    pub fn new(table: T, tolerance_ns: u64) -> Self {
        Killer { table, tolerance_ns }
    }

    /// Opens a pidfd on `target.pid` that is known to refer to the process that started at
    /// `target.start_time_ns`.
    pub fn open_verified(&self, target: ProcessIdentity) -> Result<OwnedFd, ResponseError> {
        if target.pid <= 1 {
            return Err(ResponseError::NoSubject("pid 0 or 1 is never a target"));
        }
        let pidfd = pidfd_open(target.pid)?;
        let actual = self.table.start_time_ns(target.pid)?;
        if target.start_time_ns == 0 || actual.abs_diff(target.start_time_ns) > self.tolerance_ns {
            return Err(ResponseError::PidReused {
                pid: target.pid,
                expected_ns: target.start_time_ns,
                actual_ns: actual,
            });
        }
        Ok(pidfd)
    }

    /// SIGKILLs the process, never another one that reused its pid.
    pub fn kill(&self, target: ProcessIdentity) -> Result<(), ResponseError> {
        let pidfd = self.open_verified(target)?;
        pidfd_send_signal(&pidfd, libc::SIGKILL, target.pid)
    }

    /// SIGKILLs every member of the verified process's group, each through its own pidfd opened and checked to be
    /// in that group, so a pid reused by an unrelated process is never hit. Returns the pids signalled.
    pub fn kill_group(&self, target: ProcessIdentity) -> Result<Vec<i64>, ResponseError> {
        let leader_fd = self.open_verified(target)?;
        let pgid = self.table.process_group(target.pid)?;
        if pgid <= 1 {
            return Err(ResponseError::NoSubject("process group 0 or 1 is never a target"));
        }
        let mut killed = Vec::new();
        for pid in self.table.pids()? {
            if pid == target.pid || self.table.process_group(pid).ok() != Some(pgid) {
                continue;
            }
            let Ok(fd) = pidfd_open(pid) else { continue };
            // Re-check after opening: the pidfd now pins the process we verify.
            if self.table.process_group(pid).ok() == Some(pgid) && pidfd_send_signal(&fd, libc::SIGKILL, pid).is_ok() {
                killed.push(pid);
            }
        }
        // The verified process last, so its group id stays valid while the others are found.
        pidfd_send_signal(&leader_fd, libc::SIGKILL, target.pid)?;
        killed.push(target.pid);
        Ok(killed)
    }
}

fn pidfd_open(pid: i64) -> Result<OwnedFd, ResponseError> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0u32) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Err(ResponseError::NoSuchProcess(pid));
        }
        return Err(ResponseError::Io {
            what: format!("pidfd_open({pid})"),
            source: err,
        });
    }
    // SAFETY: the kernel returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn pidfd_send_signal(pidfd: &OwnedFd, signal: i32, pid: i64) -> Result<(), ResponseError> {
    // SAFETY: the pidfd is open; a null siginfo means "as kill(2) would send it"; flags must be 0.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Err(ResponseError::NoSuchProcess(pid));
        }
        return Err(ResponseError::Io {
            what: format!("pidfd_send_signal({pid})"),
            source: err,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};

    fn sleeper() -> Child {
        Command::new("sleep").arg("30").spawn().expect("spawning sleep")
    }

    fn alive(child: &mut Child) -> bool {
        child.try_wait().expect("try_wait").is_none()
    }

    /// A process table whose start times are shifted, as if the pid had been reused by a newer process.
    struct ShiftedTable(ProcFs, u64);
    impl ProcessTable for ShiftedTable {
        fn start_time_ns(&self, pid: i64) -> Result<u64, ResponseError> {
            Ok(self.0.start_time_ns(pid)? + self.1)
        }
        fn process_group(&self, pid: i64) -> Result<i64, ResponseError> {
            self.0.process_group(pid)
        }
        fn pids(&self) -> Result<Vec<i64>, ResponseError> {
            self.0.pids()
        }
    }

    #[test]
    fn stat_parsing_survives_parentheses_in_comm() {
        let f = parse_stat("42 (a) b (c)) S 1 42 42 0 -1").unwrap();
        assert_eq!(f[0], "S");
        assert_eq!(stat_field(&f, 5, Path::new("x")).unwrap(), 42);
        assert!(stat_field(&f, 22, Path::new("x")).is_err());
    }

    #[test]
    fn kills_the_process_whose_start_time_matches() {
        let procfs = ProcFs::new().unwrap();
        let mut child = sleeper();
        let pid = child.id() as i64;
        let start = procfs.start_time_ns(pid).unwrap();
        let killer = Killer::new(procfs, 50_000_000);
        killer
            .kill(ProcessIdentity {
                pid,
                start_time_ns: start + 20_000_000,
            })
            .unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn never_kills_a_process_that_reused_the_pid() {
        let procfs = ProcFs::new().unwrap();
        let mut child = sleeper();
        let pid = child.id() as i64;
        let start = procfs.start_time_ns(pid).unwrap();
        // The alert's process started 5 s before the one now behind the pid.
        let killer = Killer::new(ShiftedTable(procfs.clone(), 5_000_000_000), 50_000_000);
        let err = killer
            .kill(ProcessIdentity {
                pid,
                start_time_ns: start,
            })
            .unwrap_err();
        assert!(matches!(err, ResponseError::PidReused { .. }), "{err}");
        assert!(alive(&mut child));
        // An unknown start time is refused too.
        let killer = Killer::new(procfs, 50_000_000);
        let err = killer.kill(ProcessIdentity { pid, start_time_ns: 0 }).unwrap_err();
        assert!(matches!(err, ResponseError::PidReused { .. }), "{err}");
        assert!(alive(&mut child));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_vanished_process_is_reported_not_guessed() {
        let procfs = ProcFs::new().unwrap();
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id() as i64;
        child.wait().unwrap();
        let killer = Killer::new(procfs, 50_000_000);
        let err = killer.kill(ProcessIdentity { pid, start_time_ns: 1 }).unwrap_err();
        assert!(matches!(err, ResponseError::NoSuchProcess(p) if p == pid), "{err}");
    }

    #[test]
    fn kills_the_whole_process_group_and_nothing_else() {
        use std::os::unix::process::CommandExt;
        let procfs = ProcFs::new().unwrap();
        // A shell leading its own process group with two children; an outsider in another group.
        let mut leader = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let mut outsider = sleeper();
        let pid = leader.id() as i64;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let members = loop {
            let members: Vec<i64> = procfs
                .pids()
                .unwrap()
                .into_iter()
                .filter(|p| procfs.process_group(*p).ok() == Some(pid))
                .collect();
            if members.len() >= 3 || std::time::Instant::now() > deadline {
                break members;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(members.len(), 3, "{members:?}");
        let start = procfs.start_time_ns(pid).unwrap();
        let killer = Killer::new(procfs.clone(), 50_000_000);
        let mut killed = killer
            .kill_group(ProcessIdentity {
                pid,
                start_time_ns: start,
            })
            .unwrap();
        killed.sort();
        let mut expected = members.clone();
        expected.sort();
        assert_eq!(killed, expected);
        leader.wait().unwrap();
        assert!(alive(&mut outsider));
        outsider.kill().unwrap();
        outsider.wait().unwrap();
    }
}
