//! The event-path cost of container metadata (issue 4: "the enrichment cost per event").
//!
//! The same stream of events — a round robin over threads of 1,000 containers and as many host threads — is fed
//! once straight into the state and a minimal evaluator that reads the event's container metadata (as a rule
//! reading `container.name` does), and once through the [`Gate`] with an [`Enricher`] whose lookups have all been
//! answered (the steady state of a node: every container resolved, no lookup in flight). The difference per event
//! is what the metadata path adds on the event thread: applying finished lookups, the exited-container sweep check,
//! the table lookup of the event's container, the readiness decision. Lookups themselves run on the worker thread,
//! off this path; a third case measures a stream where every 1,000th event is from a container seen for the first
//! time (a lookup submitted and, once answered, applied).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mamoru_container::{
    Described, Enricher, EventClock, Gate, LookupRequest, MetadataConfig, Resolver, StagedPipeline,
};
use mamoru_event::{event_table, EventBuilder, RawEvent, ThreadRecord};
use mamoru_state::State;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONTAINERS: i64 = 1_000;
const EVENTS: usize = 100_000;

/// Applies events to the state and "evaluates" them by reading their container's name.
struct Reader {
    state: State,
    names_seen: u64,
}

impl StagedPipeline for Reader {
    type Alert = ();
    fn state(&self) -> &State {
        &self.state
    }
    fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }
    fn apply_event(&mut self, raw: &RawEvent<'_>) {
        self.state.process_event(raw);
    }
    fn evaluate_event(&mut self, raw: &RawEvent<'_>, _emit: &mut dyn FnMut(())) {
        let Some(t) = self.state.thread(raw.tid as i64) else {
            return;
        };
        if let Some(name) = self.state.container(&t.container_id).and_then(|c| c.name.as_ref()) {
            self.names_seen += name.len() as u64;
        }
    }
}

fn container_tid(i: i64) -> i64 {
    10_000 + i
}
fn host_tid(i: i64) -> i64 {
    100_000 + i
}

/// 1,000 container threads (containerd cgroup v2 layout, one container each) and 1,000 host threads.
fn seeded_state(containers: i64) -> State {
    let mut st = State::default();
    for i in 0..containers {
        // Ids differ in their first 12 digits: the short id the state keys containers by.
        let id = format!("{:012x}{}", 0x00c0_ffee_0000_u64 + i as u64, "ab".repeat(26));
        st.add_thread(ThreadRecord {
            tid: container_tid(i),
            pid: container_tid(i),
            ptid: 1,
            comm: b"nginx".to_vec(),
            exe: b"/usr/sbin/nginx".to_vec(),
            cgroups: vec![(
                b"cpu".to_vec(),
                format!("/system.slice/containerd.service/k8s.io/{id}").into_bytes(),
            )],
            ..Default::default()
        });
        st.add_thread(ThreadRecord {
            tid: host_tid(i),
            pid: host_tid(i),
            ptid: 1,
            comm: b"sshd".to_vec(),
            exe: b"/usr/sbin/sshd".to_vec(),
            cgroups: vec![(b"cpu".to_vec(), b"/system.slice/ssh.service".to_vec())],
            ..Default::default()
        });
    }
    st
}

/// `close(3)` enter events alternating container and host threads: an event that leaves the state as it is, so
/// every pass sees the same tables.
fn events(containers: i64) -> Vec<Vec<u8>> {
    let code = event_table()
        .iter()
        .find(|e| e.enum_name == "PPME_SYSCALL_CLOSE_E")
        .map(|e| e.code)
        .expect("close enter in the table");
    (0..EVENTS)
        .map(|n| {
            let i = (n as i64 / 2) % containers;
            let tid = if n % 2 == 0 { container_tid(i) } else { host_tid(i) };
            EventBuilder::new(code, n as u64, tid as u64).i64(3).finish()
        })
        .collect()
}

/// Answers at once, as a runtime that knows every container.
fn instant_resolver() -> Resolver {
    Arc::new(|req: LookupRequest| {
        Box::pin(async move {
            Ok(Some(Described {
                full_id: req.full_id.clone(),
                runtime: "containerd",
                name: Some(format!("web-{}", &req.full_id[..8])),
                image: Some("registry.local/web:1.0".into()),
                ..Default::default()
            }))
        })
    })
}

fn config() -> MetadataConfig {
    MetadataConfig {
        host_root: "/nonexistent".into(),
        max_wait: Duration::from_secs(5),
        ..Default::default()
    }
}

/// A gate whose enricher resolved every container of `p` (lookups answered and applied).
fn resolved_gate(p: &mut Reader, stream: &[Vec<u8>]) -> Gate {
    let cfg = config();
    let enricher = Enricher::with_resolver(&cfg, instant_resolver()).expect("worker thread");
    let mut gate = Gate::new(enricher, cfg.max_wait, cfg.max_queued_bytes);
    for bytes in stream {
        let raw = RawEvent::parse(bytes, 0).expect("event");
        gate.on_event(p, &raw, Instant::now(), &mut |_| {});
        while gate.is_holding() {
            gate.wait(p, Duration::from_millis(50), &mut |_| {});
        }
    }
    assert_eq!(
        gate.enricher().stats().resolved,
        CONTAINERS as u64,
        "every container resolved before measuring"
    );
    gate
}

fn bench(c: &mut Criterion) {
    let stream = events(CONTAINERS);
    let mut group = c.benchmark_group("enrichment");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(20);

    group.bench_function("without_metadata", |b| {
        let mut p = Reader {
            state: seeded_state(CONTAINERS),
            names_seen: 0,
        };
        b.iter(|| {
            for bytes in &stream {
                let raw = RawEvent::parse(bytes, 0).expect("event");
                p.apply_event(&raw);
                p.evaluate_event(&raw, &mut |_| {});
            }
            black_box(p.names_seen)
        })
    });

    group.bench_function("with_metadata_all_resolved", |b| {
        let mut p = Reader {
            state: seeded_state(CONTAINERS),
            names_seen: 0,
        };
        let mut gate = resolved_gate(&mut p, &stream);
        // The live loop's clock (crates/mamoru-cli/src/containers.rs): read once every EventClock::EVERY events.
        let mut clock = EventClock::new();
        b.iter(|| {
            for bytes in &stream {
                let raw = RawEvent::parse(bytes, 0).expect("event");
                gate.on_event(&mut p, &raw, clock.for_event(), &mut |_| {});
            }
            black_box(p.names_seen)
        });
        assert!(!gate.is_holding(), "nothing held in the steady state");
    });

    // Churn: each pass starts with a fresh enricher, so every container is first seen once (1 in 100 events):
    // the lookup is submitted, the event held until the answer is applied, the queued events released.
    group.bench_function("with_metadata_first_sight", |b| {
        b.iter_batched(
            || {
                let cfg = config();
                let enricher = Enricher::with_resolver(&cfg, instant_resolver()).expect("worker thread");
                let gate = Gate::new(enricher, cfg.max_wait, cfg.max_queued_bytes);
                let p = Reader {
                    state: seeded_state(CONTAINERS),
                    names_seen: 0,
                };
                (gate, p)
            },
            |(mut gate, mut p)| {
                let mut clock = EventClock::new();
                for bytes in &stream {
                    let raw = RawEvent::parse(bytes, 0).expect("event");
                    gate.on_event(&mut p, &raw, clock.for_event(), &mut |_| {});
                    while gate.is_holding() {
                        gate.wait(&mut p, Duration::from_millis(50), &mut |_| {});
                        clock.now();
                    }
                }
                black_box(p.names_seen)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
