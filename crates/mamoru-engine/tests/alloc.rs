//! Evaluating events that match no rule allocates nothing once the scratch space is warm.

mod common;

use common::*;
use mamoru_engine::{EngineConfig, RuleMatching, Scratch};
use mamoru_fields::IpNet;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers every operation to the system allocator; only counts calls made on the measuring thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    ALLOCATIONS.with(|n| n.get())
}

fn rules() -> Vec<mamoru_rules::loaded::RuleDef> {
    vec![
        rule(
            "shell",
            "evt.type = execve and proc.name in (bash, sh, zsh) and proc.aname = sshd",
            "o",
        ),
        rule(
            "sensitive",
            "evt.type in (open, openat) and fd.name pmatch (/etc/shadow, /root/.ssh)",
            "o",
        ),
        rule("glob", "evt.type = open and fd.name glob '/var/*/secret*'", "o"),
        rule("regex", "evt.type = open and proc.name regex 'crypto[0-9]+miner'", "o"),
        rule(
            "contains",
            "evt.type = open and (proc.name contains xmr or proc.name contains miner or proc.name contains stratum)",
            "o",
        ),
        rule(
            "lower",
            "evt.type = open and tolower(basename(fd.name)) = 'id_rsa'",
            "o",
        ),
        rule("b64", "evt.type = open and b64(proc.env[PAYLOAD]) contains 'curl'", "o"),
        rule(
            "concat",
            "evt.type = open and concat(proc.name, ':', fd.name) = 'x:y'",
            "o",
        ),
        rule(
            "lists",
            "evt.type = open and (proc.args intersects (-e, --exec) or fd.ips in (1.1.1.1))",
            "o",
        ),
        rule(
            "net",
            "evt.type = connect and fd.net in (192.168.0.0/16) and fd.ip != 10.0.0.1",
            "o",
        ),
        rule("val", "evt.type = open and fd.name = val(proc.exepath)", "o"),
        rule(
            "num",
            "evt.type = open and user.uid = 0 and evt.res < 0 and evt.rate > 100",
            "o",
        ),
        rule("icontains", "evt.type = open and fd.name icontains '/PROC/SELF'", "o"),
        rule(
            "modifier",
            "evt.type = open and fd.name startswith anyof (/boot, /lib/modules)",
            "o",
        ),
        rule("buffer", "evt.type = connect and evt.buffer bcontains 48545450", "o"),
        rule(
            "neg",
            "evt.type = open and not proc.name = cat and not fd.name exists",
            "o",
        ),
    ]
}

fn events() -> Vec<Ev> {
    let mut evs = Vec::new();
    for i in 0..64u32 {
        let name = format!("proc{i}");
        evs.push(Ev {
            proc_name: Some(name.clone()),
            fd_name: Some(format!("/var/lib/data{i}/file")),
            exepath: Some(format!("/usr/bin/{name}")),
            ancestors: vec!["bash".into(), "containerd".into(), "systemd".into()],
            args: vec!["-c".into(), format!("echo {i}")],
            env: vec![("PAYLOAD".into(), "aGVsbG8gd29ybGQ=".into())],
            ips: vec!["8.8.8.8".parse().unwrap()],
            ip: Some("10.0.0.1".parse().unwrap()),
            net: IpNet::parse("10.0.0.1"),
            uid: Some(1000),
            res: Some(0),
            rate: Some(1.0),
            buffer: Some(b"\x16\x03\x01 binary".to_vec()),
            ..Ev::new(["open", "openat", "execve", "connect", "close"][i as usize % 5])
        });
    }
    evs
}

#[test]
fn non_matching_events_allocate_nothing_once_warm() {
    let cfg = EngineConfig {
        rule_matching: RuleMatching::All,
        ..EngineConfig::default()
    };
    let (rs, diags) = compile_with(rules(), &cfg);
    assert!(
        diags
            .iter()
            .all(|d| d.severity == mamoru_rules::loaded::Severity::Warning),
        "{diags:?}"
    );
    assert_eq!(rs.rules().len(), rules().len());
    let evs = events();
    let mut scratch = Scratch::new();
    let mut matches = 0usize;
    // Warm-up: the scratch arena, the slot table and the regex caches reach their working size.
    for ev in &evs {
        rs.evaluate(ev, &mut scratch, |_| matches += 1);
    }
    assert_eq!(matches, 0, "the events are built to match no rule");
    let allocations = allocations_during(|| {
        for _ in 0..200 {
            for ev in &evs {
                rs.evaluate(ev, &mut scratch, |_| matches += 1);
            }
        }
    });
    assert_eq!(matches, 0);
    assert_eq!(allocations, 0, "allocations while evaluating non-matching events");
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let n = allocations_during(|| {
        let v: Vec<u64> = std::hint::black_box(vec![1, 2, 3]);
        drop(v);
    });
    assert!(n >= 1);
}
