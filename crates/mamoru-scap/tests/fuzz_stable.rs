//! A stable-Rust stand-in for the `read_scap` cargo-fuzz target: mutates the sample captures at random and runs the
//! fuzz harness on each mutant. Ignored by default; run it with
//! `MAMORU_FUZZ_SECS=300 cargo test -p mamoru-scap --release --test fuzz_stable -- --ignored --nocapture`
//! (`MAMORU_FUZZ_SEED` picks the random sequence; a panicking input is saved and its path reported).

mod common;

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mamoru_scap::fuzzing::read_everything;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn inflate(raw: Vec<u8>) -> Vec<u8> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

/// Applies one to four random edits: bit flips, interesting 32-bit values (lengths!), truncation, chunk
/// duplication, random insertion.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(d.len().max(1));
        match rng.below(6) {
            0 => {
                if let Some(b) = d.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                const INTERESTING: [u32; 8] = [0, 1, 0xff, 0xffff, 0x7fff_ffff, 0xffff_ffff, 12, 26];
                let v = INTERESTING[rng.below(INTERESTING.len())].wrapping_add(rng.below(3) as u32);
                if at + 4 <= d.len() {
                    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
            2 => d.truncate(at),
            3 => {
                let len = rng.below(256).min(d.len() - at.min(d.len()));
                let chunk = d[at..at + len].to_vec();
                let to = rng.below(d.len());
                d.splice(to..to, chunk);
            }
            4 => {
                let n = rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(at..at, bytes);
            }
            _ => {
                if let Some(b) = d.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
        }
    }
    d
}

#[test]
#[ignore = "long-running; run explicitly (see the file header)"]
fn mutated_samples_never_panic() {
    let secs: u64 = std::env::var("MAMORU_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("MAMORU_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5ca9_f00d);
    // Keep mutants small enough that every iteration exercises the whole file quickly.
    let seeds: Vec<Vec<u8>> = common::samples()
        .into_iter()
        .map(|p| {
            let mut d = inflate(std::fs::read(p).unwrap());
            d.truncate(64 * 1024);
            d
        })
        .collect();
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let base = &seeds[rng.below(seeds.len())];
        let mut input = mutate(&mut rng, base);
        if rng.below(16) == 0 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&input).unwrap();
            input = gz.finish().unwrap();
        }
        if catch_unwind(AssertUnwindSafe(|| read_everything(&input))).is_err() {
            let path = std::env::temp_dir().join(format!("mamoru-scap-crash-{seed}-{runs}.scap"));
            std::fs::write(&path, &input).unwrap();
            panic!("read_everything panicked on input saved to {}", path.display());
        }
        runs += 1;
    }
    eprintln!("fuzz_stable: {runs} mutants in {secs} s (seed {seed}), no panic");
    assert!(runs > 0);
}
