//! Seeding from the real `/proc`: this test process must come back with its identity, command line, cwd, an open
//! file and a listening TCP socket it created.

use mamoru_state::{FdKind, State};
use std::io::Write as _;
use std::net::TcpListener;
use std::os::fd::AsRawFd;

#[test]
fn seeds_the_test_process_itself() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(b"x").expect("write");
    let file_fd = file.as_file().as_raw_fd() as i64;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let listener_fd = listener.as_raw_fd() as i64;

    let mut st = State::default();
    let report = st.seed_from_proc(std::path::Path::new("/")).expect("seed");
    assert!(report.processes >= 1 && report.threads >= report.processes);

    let pid = i64::from(std::process::id());
    let me = st.thread(pid).expect("own process");
    assert_eq!(me.pid, pid);
    assert!(me.is_main_thread());
    let argv0 = std::env::args().next().unwrap_or_default();
    assert_eq!(me.exe, argv0.as_bytes());
    let exe_path = std::fs::read_link("/proc/self/exe").expect("exe link");
    assert_eq!(me.exepath, exe_path.as_os_str().as_encoded_bytes());
    assert!(me.exe_ino != 0 && me.exe_ino_mtime != 0);
    assert!(me.cmdline.starts_with(&me.comm));
    let cwd = std::env::current_dir().expect("cwd");
    let mut want = cwd.as_os_str().as_encoded_bytes().to_vec();
    if !want.ends_with(b"/") {
        want.push(b'/');
    }
    assert_eq!(st.cwd(me), want.as_slice());
    assert!(st.nthreads(me) >= 1);
    assert!(me.clone_ts > 0 && me.pidns_init_start_ts > 0);

    let f = st.fd(me, file_fd).expect("temp file fd");
    assert_eq!(f.kind, FdKind::File);
    assert_eq!(f.name, file.path().as_os_str().as_encoded_bytes());
    assert!(f.ino != 0);

    let l = st.fd(me, listener_fd).expect("listener fd");
    match l.kind {
        FdKind::Ipv4Server { port: p, .. } => assert_eq!(p, port),
        ref other => panic!("listener seeded as {other:?}"),
    }
    assert_eq!(l.name, format!("127.0.0.1:{port}").into_bytes());

    // The parent chain reaches a known process.
    assert!(st.parent(me).is_some());
    drop(listener);
}
