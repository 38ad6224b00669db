//! A stable-Rust stand-in for the `read_records` cargo-fuzz target: mutates the fixture files (and gzip-wraps some
//! mutants) and runs the fuzz harness on each. Ignored by default; run it with
//! `MAMORU_FUZZ_SECS=300 cargo test -p mamoru-records --release --test fuzz_stable -- --ignored --nocapture`.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mamoru_records::fuzzing::read_everything;

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\n",
    b"\\u0000",
    b"\\",
    b"null",
    b"1e999",
    b"-0",
    b"\"Records\"",
    b"\"items\"",
    b"\"kind\":\"EventList\"",
    b"\"stageTimestamp\":\"2024-01-01T00:00:00Z\"",
    b"\"eventTime\"",
    b"\x1f\x8b",
    b"\xff\xfe",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(d.len() + 1);
        match rng.below(5) {
            0 if at < d.len() => d[at] ^= 1 << rng.below(8),
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                d.splice(at..at, t.iter().copied());
            }
            2 => d.truncate(at),
            3 if at < d.len() => {
                let end = (at + rng.below(64)).min(d.len());
                let chunk = d[at..end].to_vec();
                d.splice(at..at, chunk);
            }
            _ => {
                let end = (at + rng.below(16)).min(d.len());
                d.drain(at..end);
            }
        }
    }
    if rng.below(8) == 0 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = gz.write_all(&d);
        if let Ok(z) = gz.finish() {
            return z;
        }
    }
    d
}

#[test]
#[ignore = "long-running fuzz stand-in; run explicitly"]
fn records_reader_survives_mutated_inputs() {
    let secs: u64 = std::env::var("MAMORU_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("MAMORU_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    assert!(!seeds.is_empty());
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let pick = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[pick]);
        if let Ok(path) = std::env::var("MAMORU_FUZZ_LAST") {
            // An abort (out of memory, stack overflow) cannot be caught: keep the input that was running.
            let _ = std::fs::write(path, &input);
        }
        if catch_unwind(AssertUnwindSafe(|| read_everything(&input))).is_err() {
            let path = std::env::temp_dir().join(format!("mamoru-records-crash-{runs}.bin"));
            std::fs::write(&path, &input).expect("save crash");
            panic!("read_everything panicked; input saved to {}", path.display());
        }
        runs += 1;
    }
    eprintln!("{runs} mutated inputs, no panic");
}

/// Replays one saved input: `MAMORU_FUZZ_INPUT=/path cargo test -p mamoru-records --test fuzz_stable replay`.
#[test]
fn replay_saved_input() {
    if let Ok(path) = std::env::var("MAMORU_FUZZ_INPUT") {
        read_everything(&std::fs::read(path).expect("saved input"));
    }
}

#[test]
fn fuzz_harness_runs_on_every_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for e in std::fs::read_dir(&dir).expect("fixtures") {
        let data = std::fs::read(e.expect("entry").path()).expect("read");
        read_everything(&data);
    }
}
