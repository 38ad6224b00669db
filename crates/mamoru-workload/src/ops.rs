//! The workload loops. Each returns the wall time of its loop only (setup such as binding the listener is not
//! counted) and checks every call, so a workload that silently stopped doing its syscalls cannot pass for a fast one.

use std::ffi::CString;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The file `open-close` opens: present on every Linux system, small, readable by anyone.
const OPEN_PATH: &str = "/etc/hostname";
/// The program `fork-exec` runs.
const EXEC_PATH: &str = "/bin/true";
/// Bytes of one TCP request and of one reply: a small RPC.
const MESSAGE_LEN: usize = 64;

#[derive(Debug)]
pub struct WorkloadError {
    what: String,
    source: io::Error,
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)
    }
}

impl std::error::Error for WorkloadError {}

/// What one loop cost: wall time, and the CPU time (user + system) of this process and of the children it waited
/// for. CPU time includes the kernel work a monitor does inside the workload's syscalls (BPF programs, audit
/// records) but not the time the workload sat preempted by other programs, so it stays meaningful on a busy machine.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Starts timing a loop; [`Meter::finish`] ends it.
struct Meter {
    start: Instant,
    cpu_start: Duration,
}

impl Meter {
    fn start() -> Self {
        Meter {
            cpu_start: cpu_time(),
            start: Instant::now(),
        }
    }

    fn finish(self) -> Measurement {
        let wall = self.start.elapsed();
        Measurement {
            wall,
            cpu: cpu_time().saturating_sub(self.cpu_start),
        }
    }
}

/// User + system time of this process (all threads) and of its waited-for children.
fn cpu_time() -> Duration {
    [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN]
        .into_iter()
        .map(|who| {
            // SAFETY: rusage is plain data, zero is a valid value; getrusage only writes into it.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `usage` is a valid out-pointer; RUSAGE_SELF/RUSAGE_CHILDREN cannot fail with a valid pointer.
            unsafe { libc::getrusage(who, &mut usage) };
            timeval(usage.ru_utime) + timeval(usage.ru_stime)
        })
        .sum()
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

fn fail(what: impl Into<String>, source: io::Error) -> WorkloadError {
    WorkloadError {
        what: what.into(),
        source,
    }
}

fn cstring(s: &str) -> Result<CString, WorkloadError> {
    CString::new(s).map_err(|e| fail(format!("path {s:?}"), io::Error::new(io::ErrorKind::InvalidInput, e)))
}

/// `n` x open(OPEN_PATH) + close, flat out or paced to `rate` pairs per second.
pub fn open_close(n: u64, rate: Option<u64>) -> Result<Measurement, WorkloadError> {
    let path = cstring(OPEN_PATH)?;
    paced(n, rate, || open_and_close(&path))
}

fn open_and_close(path: &CString) -> Result<(), WorkloadError> {
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call; open does not keep the pointer.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(fail(format!("open {OPEN_PATH}"), io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just returned by open and is owned by nobody else.
    if unsafe { libc::close(fd) } != 0 {
        return Err(fail(format!("close fd {fd}"), io::Error::last_os_error()));
    }
    Ok(())
}

/// `n` x close(-1), paced like `open_close`. Each call fails at once with EBADF: the cheapest syscall a monitor that
/// watches close still has to report, so a storm of them measures the monitor's per-event floor, not path lookups.
pub fn close_ebadf(n: u64, rate: Option<u64>) -> Result<Measurement, WorkloadError> {
    paced(n, rate, || {
        // SAFETY: closing an fd number that is never valid touches no resource of this process.
        let r = unsafe { libc::close(-1) };
        let err = io::Error::last_os_error();
        if r == -1 && err.raw_os_error() == Some(libc::EBADF) {
            Ok(())
        } else {
            Err(fail("close(-1) did not fail with EBADF", err))
        }
    })
}

/// Runs `op` `n` times; with `rate`, sleeps between batches so that call `i` starts no earlier than `i / rate`
/// seconds after the start.
fn paced(
    n: u64,
    rate: Option<u64>,
    mut op: impl FnMut() -> Result<(), WorkloadError>,
) -> Result<Measurement, WorkloadError> {
    let batch = rate.map_or(n, batch_size);
    let meter = Meter::start();
    let start = meter.start;
    let mut done = 0u64;
    while done < n {
        let end = (done + batch).min(n);
        for _ in done..end {
            op()?;
        }
        done = end;
        if let Some(rate) = rate {
            let target = start + pace_offset(done, rate);
            let now = Instant::now();
            if target > now {
                thread::sleep(target - now);
            }
        }
    }
    Ok(meter.finish())
}

/// Calls per pacing batch: about one millisecond's worth, so the sleeps stay coarse enough to be cheap and fine
/// enough that the rate is even over any window the monitor's ring buffer could notice.
fn batch_size(rate: u64) -> u64 {
    (rate / 1000).max(1)
}

/// When pair number `done` is due, counted from the start.
fn pace_offset(done: u64, rate: u64) -> Duration {
    let nanos = u128::from(done) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// `n` x fork, exec EXEC_PATH in the child, wait for it in the parent. Every child must exit with status 0.
pub fn fork_exec(n: u64) -> Result<Measurement, WorkloadError> {
    // Everything the child touches is built before forking: between fork and exec only async-signal-safe calls.
    let path = cstring(EXEC_PATH)?;
    let argv = [path.as_ptr(), std::ptr::null()];
    let meter = Meter::start();
    for _ in 0..n {
        // SAFETY: the child calls only execv and _exit, both async-signal-safe, so it needs no lock another thread
        // of the parent might have held at the fork; everything they read was built above.
        let pid = unsafe { libc::fork() };
        match pid {
            -1 => return Err(fail("fork", io::Error::last_os_error())),
            0 => {
                // SAFETY: `path` and `argv` are valid, NUL-terminated and outlive the call (exec replaces the image
                // or returns); `_exit` skips the parent's atexit handlers and buffers, as a failed child must.
                unsafe {
                    libc::execv(path.as_ptr(), argv.as_ptr());
                    libc::_exit(127);
                }
            }
            child => wait_success(child)?,
        }
    }
    Ok(meter.finish())
}

fn wait_success(pid: libc::pid_t) -> Result<(), WorkloadError> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(fail(format!("waitpid {pid}"), err));
        }
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(fail(
            format!("{EXEC_PATH} (pid {pid})"),
            io::Error::other(format!("ended with wait status {status:#x}")),
        ))
    }
}

/// `n` request/response round trips over one loopback TCP connection. A server thread reads each MESSAGE_LEN-byte
/// request and sends back the same bytes; the client checks every reply, so a broken exchange is an error.
/// std's TcpStream uses send/recv (the sendto/recvfrom syscalls), as most network servers do.
pub fn tcp_rr(n: u64) -> Result<Measurement, WorkloadError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| fail("bind 127.0.0.1:0", e))?;
    let addr = listener.local_addr().map_err(|e| fail("listener address", e))?;
    let server = thread::spawn(move || echo_server(listener));
    let client = run_client(addr, n);
    let served = server
        .join()
        .map_err(|_| fail("server thread", io::Error::other("panicked")))?;
    let elapsed = client?;
    let served = served?;
    if served != n {
        return Err(fail(
            "server",
            io::Error::other(format!("answered {served} requests, expected {n}")),
        ));
    }
    Ok(elapsed)
}

/// Accepts one connection and echoes whole messages until the client closes; returns how many it answered.
fn echo_server(listener: TcpListener) -> Result<u64, WorkloadError> {
    let (mut conn, _) = listener.accept().map_err(|e| fail("accept", e))?;
    conn.set_nodelay(true).map_err(|e| fail("server TCP_NODELAY", e))?;
    let mut buf = [0u8; MESSAGE_LEN];
    let mut served = 0;
    loop {
        match conn.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(served),
            Err(e) => return Err(fail("server read", e)),
        }
        conn.write_all(&buf).map_err(|e| fail("server write", e))?;
        served += 1;
    }
}

fn run_client(addr: std::net::SocketAddr, n: u64) -> Result<Measurement, WorkloadError> {
    let mut conn = TcpStream::connect(addr).map_err(|e| fail(format!("connect {addr}"), e))?;
    conn.set_nodelay(true).map_err(|e| fail("client TCP_NODELAY", e))?;
    let mut request = [0u8; MESSAGE_LEN];
    let mut reply = [0u8; MESSAGE_LEN];
    // The server thread is part of this process, so its CPU time is in the measurement too.
    let meter = Meter::start();
    for i in 0..n {
        request[..8].copy_from_slice(&i.to_le_bytes());
        conn.write_all(&request).map_err(|e| fail("client write", e))?;
        conn.read_exact(&mut reply).map_err(|e| fail("client read", e))?;
        if reply != request {
            return Err(fail(
                "client",
                io::Error::other(format!("reply {i} differs from its request")),
            ));
        }
    }
    let measured = meter.finish();
    // Closing our side ends the server's loop with EOF.
    drop(conn);
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_spreads_pairs_evenly_over_time() {
        assert_eq!(pace_offset(0, 1000), Duration::ZERO);
        assert_eq!(pace_offset(500, 1000), Duration::from_millis(500));
        assert_eq!(pace_offset(3_000_000, 1_000_000), Duration::from_secs(3));
        assert_eq!(batch_size(250_000), 250);
        assert_eq!(batch_size(10), 1);
    }

    #[test]
    fn each_workload_completes_its_loop() {
        open_close(100, None).expect("open-close");
        open_close(20, Some(10_000)).expect("paced open-close");
        close_ebadf(100, Some(100_000)).expect("close-ebadf");
        fork_exec(3).expect("fork-exec");
        tcp_rr(100).expect("tcp-rr");
    }
}
