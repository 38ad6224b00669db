//! A stable-Rust stand-in for the `walk_layer` cargo-fuzz target: mutates generated tar layers (plain, gzip, zstd;
//! long names, PAX headers, links, whiteouts) and runs the fuzz harness on each. The long run is ignored by
//! default: `MAMORU_FUZZ_SECS=300 cargo test -p mamoru-oci --release --test fuzz_stable -- --ignored --nocapture`.

use mamoru_oci::fuzzing::walk_everything;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

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

fn header(path: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = path.len().min(100);
    h[..n].copy_from_slice(&path[..n]);
    h[100..108].copy_from_slice(b"0000755\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn entry(out: &mut Vec<u8>, path: &[u8], typeflag: u8, data: &[u8], link: &[u8]) {
    out.extend_from_slice(&header(path, typeflag, data.len() as u64, link));
    out.extend_from_slice(data);
    out.resize(out.len() + (512 - data.len() % 512) % 512, 0);
}

fn seeds() -> Vec<Vec<u8>> {
    let mut t = Vec::new();
    entry(&mut t, b"etc/", b'5', b"", b"");
    entry(&mut t, b"etc/passwd", b'0', b"root:x:0:0::/root:/bin/sh\n", b"");
    entry(&mut t, b"bin/sh", b'2', b"", b"/bin/busybox");
    entry(&mut t, b"bin/ash", b'1', b"", b"bin/sh");
    entry(&mut t, b"../x", b'0', b"up", b"");
    entry(&mut t, b"opt/.wh.miner", b'0', b"", b"");
    entry(&mut t, b"srv/.wh..wh..opq", b'0', b"", b"");
    entry(&mut t, b"dev/null", b'3', b"", b"");
    entry(&mut t, b"././@LongLink", b'L', &[b'a'; 300], b"");
    entry(&mut t, b"x", b'0', b"long", b"");
    entry(&mut t, b"PaxHeader", b'x', b"27 path=pax/with/a/name.txt\n", b"");
    entry(&mut t, b"y", b'0', b"pax", b"");
    t.resize(t.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&t).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let zst = ruzstd::encoding::compress_to_vec(&t[..], ruzstd::encoding::CompressionLevel::Fastest);
    vec![t, gz, zst]
}

const TOKENS: &[&[u8]] = &[
    b"\0",
    b"0",
    b"7",
    b"\xff",
    b"/",
    b"..",
    b".wh.",
    b"ustar",
    b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(d.len() + 1);
        match rng.below(5) {
            0 if at < d.len() => d[at] ^= 1 << rng.below(8),
            1 if at < d.len() => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let end = (at + t.len()).min(d.len());
                d[at..end].copy_from_slice(&t[..end - at]);
            }
            2 => d.truncate(at),
            3 if at < d.len() => {
                let end = (at + rng.below(512)).min(d.len());
                let chunk = d[at..end].to_vec();
                d.splice(at..at, chunk);
            }
            _ => {
                let end = (at + rng.below(16)).min(d.len());
                d.drain(at..end);
            }
        }
    }
    d
}

/// Runs mutants for `secs` seconds, or exactly 2000 when `secs` is 0.
fn run(secs: u64, seed: u64) -> u64 {
    let seeds = seeds();
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0u64;
    loop {
        let pick = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[pick]);
        if catch_unwind(AssertUnwindSafe(|| walk_everything(&input))).is_err() {
            let path = std::env::temp_dir().join(format!("mamoru-oci-crash-{runs}.bin"));
            std::fs::write(&path, &input).expect("save crash");
            panic!("walk_everything panicked; input saved to {}", path.display());
        }
        runs += 1;
        if (secs == 0 && runs >= 2000) || (secs > 0 && Instant::now() >= deadline) {
            return runs;
        }
    }
}

#[test]
#[ignore = "long-running fuzz stand-in; run explicitly"]
fn layer_reader_survives_mutated_inputs() {
    let secs = std::env::var("MAMORU_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed = std::env::var("MAMORU_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    eprintln!("{} mutated inputs, no panic", run(secs, seed));
}

/// A fixed short run on every test pass: 2000 mutants from a fixed seed.
#[test]
fn short_fixed_run() {
    assert_eq!(run(0, 0x5eed), 2000);
}

#[test]
fn harness_runs_on_every_seed() {
    for s in seeds() {
        walk_everything(&s);
    }
}

/// Replays one saved input: `MAMORU_FUZZ_INPUT=/path cargo test -p mamoru-oci --test fuzz_stable replay`.
#[test]
fn replay_saved_input() {
    if let Ok(path) = std::env::var("MAMORU_FUZZ_INPUT") {
        walk_everything(&std::fs::read(path).expect("saved input"));
    }
}
