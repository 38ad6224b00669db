//! The gate and the enricher with a scripted resolver: events of a container whose lookup is in flight wait for it
//! (or for `max_wait`), order is kept, the table is bounded and evictions are counted.

use mamoru_container::{Described, Enricher, Gate, LookupRequest, MetadataConfig, Resolver, StagedPipeline};
use mamoru_event::{event_table, EventBuilder, RawEvent, ThreadRecord};
use mamoru_state::State;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A pipeline whose only "rule" fires on every event and records the container name it sees.
struct Recorder {
    state: State,
}

#[derive(Debug, PartialEq)]
struct Seen {
    ts: u64,
    container: String,
    name: Option<String>,
}

impl StagedPipeline for Recorder {
    type Alert = Seen;
    fn state(&self) -> &State {
        &self.state
    }
    fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }
    fn apply_event(&mut self, raw: &RawEvent<'_>) {
        self.state.process_event(raw);
    }
    fn evaluate_event(&mut self, raw: &RawEvent<'_>, emit: &mut dyn FnMut(Seen)) {
        let t = self.state.thread(raw.tid as i64).expect("seeded thread");
        let info = self.state.container(&t.container_id);
        emit(Seen {
            ts: raw.ts,
            container: String::from_utf8_lossy(&t.container_id).into_owned(),
            name: info
                .and_then(|i| i.name.clone())
                .map(|n| String::from_utf8_lossy(&n).into_owned()),
        });
    }
}

fn state_with(threads: &[(i64, &str)]) -> State {
    let mut st = State::default();
    for (tid, cgroup) in threads {
        st.add_thread(ThreadRecord {
            tid: *tid,
            pid: *tid,
            ptid: 1,
            comm: b"sh".to_vec(),
            exe: b"/bin/sh".to_vec(),
            cgroups: vec![(b"cpu".to_vec(), cgroup.as_bytes().to_vec())],
            ..Default::default()
        });
    }
    st
}

/// `close(3)` enter by `tid`: an event that changes nothing in the state.
fn event(ts: u64, tid: u64) -> Vec<u8> {
    let code = event_table()
        .iter()
        .find(|e| e.enum_name == "PPME_SYSCALL_CLOSE_E")
        .map(|e| e.code)
        .expect("close enter in the table");
    EventBuilder::new(code, ts, tid).i64(3).finish()
}

/// A resolver that answers one lookup per permit the test adds, naming each container `name-<id>`.
fn scripted(asked: Arc<Mutex<Vec<LookupRequest>>>, permits: Arc<Semaphore>) -> Resolver {
    Arc::new(move |req: LookupRequest| {
        let (asked, permits) = (asked.clone(), permits.clone());
        Box::pin(async move {
            asked.lock().expect("lock").push(req.clone());
            permits.acquire().await.expect("open").forget();
            Ok(Some(Described {
                full_id: req.full_id.clone(),
                runtime: "containerd",
                name: Some(format!("name-{}", req.full_id)),
                image: Some("probe/bb:bb".into()),
                ..Default::default()
            }))
        })
    })
}

fn cfg(max_wait: Duration) -> MetadataConfig {
    MetadataConfig {
        max_wait,
        host_root: "/nonexistent".into(),
        ..Default::default()
    }
}

fn feed(gate: &mut Gate, p: &mut Recorder, bytes: &[u8], now: Instant, out: &mut Vec<Seen>) {
    let raw = RawEvent::parse(bytes, 0).expect("event");
    gate.on_event(p, &raw, now, &mut |s| out.push(s));
}

/// Polls until nothing is held (the scripted resolver answers as soon as it has a permit).
fn settle(gate: &mut Gate, p: &mut Recorder, out: &mut Vec<Seen>) {
    for _ in 0..500 {
        if !gate.is_holding() {
            return;
        }
        gate.wait(p, Duration::from_millis(20), &mut |s| out.push(s));
    }
    panic!("the held event was never released");
}

#[test]
fn held_events_are_evaluated_with_metadata_and_in_order() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let permits = Arc::new(Semaphore::new(0));
    let c = cfg(Duration::from_secs(3600));
    let enricher = Enricher::with_resolver(&c, scripted(asked.clone(), permits.clone())).expect("worker");
    let mut gate = Gate::new(enricher, c.max_wait, c.max_queued_bytes);
    let mut p = Recorder {
        state: state_with(&[(100, "/default/web1"), (200, "/")]),
    };
    let mut out = Vec::new();
    let now = Instant::now();
    feed(&mut gate, &mut p, &event(1, 100), now, &mut out);
    feed(&mut gate, &mut p, &event(2, 200), now, &mut out);
    feed(&mut gate, &mut p, &event(3, 100), now, &mut out);
    assert!(
        out.is_empty(),
        "nothing is evaluated before the lookup answers: {out:?}"
    );
    assert!(gate.is_holding());
    permits.add_permits(1);
    settle(&mut gate, &mut p, &mut out);
    let names: Vec<(u64, &str, Option<&str>)> = out
        .iter()
        .map(|s| (s.ts, s.container.as_str(), s.name.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            (1, "web1", Some("name-web1")),
            (2, "host", Some("host")),
            (3, "web1", Some("name-web1"))
        ]
    );
    let req = asked.lock().expect("lock")[0].clone();
    assert_eq!(
        (req.full_id.as_str(), req.namespace.as_deref(), req.pid),
        ("web1", Some("default"), 100)
    );
    let s = gate.stats();
    assert_eq!((s.held, s.queued, s.timeouts), (1, 2, 0));
    assert_eq!(gate.enricher().stats().resolved, 1);
    let info = p.state.container(b"web1").expect("metadata applied");
    assert_eq!(info.image_repository.as_deref(), Some(&b"probe/bb"[..]));
    assert_eq!(info.image_tag.as_deref(), Some(&b"bb"[..]));
}

#[test]
fn a_lookup_slower_than_max_wait_releases_with_what_is_known() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let permits = Arc::new(Semaphore::new(0));
    let c = cfg(Duration::from_millis(250));
    let enricher = Enricher::with_resolver(&c, scripted(asked, permits.clone())).expect("worker");
    let mut gate = Gate::new(enricher, c.max_wait, c.max_queued_bytes);
    let mut p = Recorder {
        state: state_with(&[(100, "/k8s.io/slow"), (200, "/")]),
    };
    let mut out = Vec::new();
    let start = Instant::now();
    feed(&mut gate, &mut p, &event(1, 100), start, &mut out);
    feed(&mut gate, &mut p, &event(2, 200), start, &mut out);
    gate.poll(&mut p, start + Duration::from_millis(100), &mut |s| out.push(s));
    assert!(out.is_empty(), "still within max_wait");
    gate.poll(&mut p, start + Duration::from_millis(300), &mut |s| out.push(s));
    assert_eq!(
        out,
        vec![
            Seen {
                ts: 1,
                container: "slow".into(),
                name: None
            },
            Seen {
                ts: 2,
                container: "host".into(),
                name: Some("host".into())
            }
        ]
    );
    assert_eq!(gate.stats().timeouts, 1);
    // The late answer still lands in the state for the container's next events.
    permits.add_permits(1);
    let mut applied = 0;
    for _ in 0..500 {
        if p.state.container(b"slow").is_some() {
            applied += 1;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
        gate.poll(&mut p, Instant::now(), &mut |s| out.push(s));
    }
    assert_eq!(applied, 1, "late metadata applied");
    feed(&mut gate, &mut p, &event(3, 100), Instant::now(), &mut out);
    assert_eq!(out.last().and_then(|s| s.name.as_deref()), Some("name-slow"));
}

#[test]
fn the_queue_behind_a_held_event_is_bounded() {
    let permits = Arc::new(Semaphore::new(0));
    let mut c = cfg(Duration::from_secs(3600));
    c.max_queued_bytes = 64;
    let enricher = Enricher::with_resolver(&c, scripted(Arc::default(), permits.clone())).expect("worker");
    let mut gate = Gate::new(enricher, c.max_wait, c.max_queued_bytes);
    let mut p = Recorder {
        state: state_with(&[(100, "/default/big"), (200, "/")]),
    };
    let mut out = Vec::new();
    let now = Instant::now();
    feed(&mut gate, &mut p, &event(1, 100), now, &mut out);
    for ts in 2..10 {
        feed(&mut gate, &mut p, &event(ts, 200), now, &mut out);
    }
    assert!(gate.stats().overflows >= 1);
    assert!(!out.is_empty() && out[0].ts == 1, "released early, in order: {out:?}");
    let ts: Vec<u64> = out.iter().map(|s| s.ts).collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted);
    permits.add_permits(100);
}

#[test]
fn the_container_table_is_bounded_and_evictions_are_counted() {
    let permits = Arc::new(Semaphore::new(1000));
    let mut c = cfg(Duration::from_secs(3600));
    c.cache_capacity = 4;
    let enricher = Enricher::with_resolver(&c, scripted(Arc::default(), permits)).expect("worker");
    let mut gate = Gate::new(enricher, c.max_wait, c.max_queued_bytes);
    let threads: Vec<(i64, String)> = (0..10).map(|i| (100 + i, format!("/default/c{i}"))).collect();
    let refs: Vec<(i64, &str)> = threads.iter().map(|(t, c)| (*t, c.as_str())).collect();
    let mut p = Recorder {
        state: state_with(&refs),
    };
    let mut out = Vec::new();
    for (i, (tid, _)) in threads.iter().enumerate() {
        feed(
            &mut gate,
            &mut p,
            &event(i as u64 + 1, *tid as u64),
            Instant::now(),
            &mut out,
        );
        settle(&mut gate, &mut p, &mut out);
    }
    gate.poll(&mut p, Instant::now(), &mut |s| out.push(s));
    let stats = gate.enricher().stats();
    assert_eq!(stats.resolved, 10);
    assert!(stats.entries <= 4, "table bounded: {stats:?}");
    assert_eq!(stats.evicted as usize, 10 - stats.entries);
    assert!(p.state.container(b"c0").is_none(), "evicted metadata leaves the state");
    assert!(p.state.container(b"c9").is_some());
    assert!(
        out.iter().all(|s| s.name.is_some()),
        "every alert had its metadata: {out:?}"
    );
}

/// `procexit` of `tid` (status 0, no signal, reaped by init).
fn procexit(ts: u64, tid: u64) -> Vec<u8> {
    let code = event_table()
        .iter()
        .find(|e| e.enum_name == "PPME_PROCEXIT_1_E")
        .map(|e| e.code)
        .expect("procexit in the table");
    EventBuilder::new(code, ts, tid)
        .i64(0)
        .i64(0)
        .u8(0)
        .u8(0)
        .i64(1)
        .finish()
}

#[test]
fn an_exited_container_leaves_the_table_after_the_grace_period() {
    let permits = Arc::new(Semaphore::new(1000));
    let mut c = cfg(Duration::from_secs(3600));
    c.exited_grace = Duration::from_secs(10);
    let enricher = Enricher::with_resolver(&c, scripted(Arc::default(), permits)).expect("worker");
    let mut gate = Gate::new(enricher, c.max_wait, c.max_queued_bytes);
    let mut p = Recorder {
        state: state_with(&[(100, "/default/short"), (200, "/default/long"), (300, "/")]),
    };
    let mut out = Vec::new();
    let t0 = Instant::now();
    feed(&mut gate, &mut p, &event(1, 100), t0, &mut out);
    settle(&mut gate, &mut p, &mut out);
    feed(&mut gate, &mut p, &event(2, 200), t0, &mut out);
    settle(&mut gate, &mut p, &mut out);
    assert!(p.state.container(b"short").is_some() && p.state.container(b"long").is_some());

    // The only process of `short` exits; the next event makes the state drop it.
    feed(&mut gate, &mut p, &procexit(3, 100), t0, &mut out);
    feed(&mut gate, &mut p, &event(4, 300), t0, &mut out);
    assert!(p.state.thread(100).is_none(), "exited thread left the state");
    let at = |secs: u64| t0 + Duration::from_secs(secs);
    gate.poll(&mut p, at(6), &mut |s| out.push(s));
    assert!(p.state.container(b"short").is_some(), "within the grace period");
    gate.poll(&mut p, at(12), &mut |s| out.push(s));
    assert!(p.state.container(b"short").is_some(), "gone for only 6 s");
    gate.poll(&mut p, at(18), &mut |s| out.push(s));
    assert!(p.state.container(b"short").is_none(), "exited container forgotten");
    assert!(p.state.container(b"long").is_some(), "a live container stays");
    let stats = gate.enricher().stats();
    assert_eq!((stats.exited, stats.evicted, stats.entries), (1, 0, 1), "{stats:?}");
}

#[test]
fn container_users_come_from_the_container_root() {
    let dir = tempfile::tempdir().expect("tmp");
    let etc = dir.path().join("proc/42/root/etc");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(
        etc.join("passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .expect("passwd");
    std::fs::write(etc.join("group"), "root:x:0:\napp:x:1000:\n").expect("group");
    let (users, groups) = mamoru_container::worker::container_users(dir.path(), 42, b"web1");
    assert_eq!(users.len(), 2);
    assert_eq!(users[1].name, b"app");
    assert_eq!(users[1].container_id, b"web1");
    assert_eq!(groups.len(), 2);
    let (none, _) = mamoru_container::worker::container_users(dir.path(), 43, b"web1");
    assert!(none.is_empty());
    // An exited process's container is reached through another member of its cgroup.
    let procs = dir.path().join("sys/fs/cgroup/cpu/default/web1");
    std::fs::create_dir_all(&procs).expect("mkdir");
    std::fs::write(procs.join("cgroup.procs"), "42\n").expect("procs");
    let cgroups = vec![
        ("memory".to_string(), "/elsewhere".to_string()),
        ("cpu".to_string(), "/default/web1".to_string()),
    ];
    assert_eq!(mamoru_container::worker::members(dir.path(), &cgroups), vec![42]);
    let unified = dir.path().join("sys/fs/cgroup/unified/default/web2");
    std::fs::create_dir_all(&unified).expect("mkdir");
    std::fs::write(unified.join("cgroup.procs"), "7\n8\n").expect("procs");
    assert_eq!(
        mamoru_container::worker::members(dir.path(), &[(String::new(), "/default/web2".to_string())]),
        vec![7, 8]
    );
}
