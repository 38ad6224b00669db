//! A stable-Rust runner for the fuzz targets in `fuzz/` (cargo-fuzz needs nightly): mutates seed inputs with a
//! deterministic generator and runs both targets for a time budget.
//!
//! ```text
//! MAMORU_FUZZ_SECS=120 cargo test -p mamoru-rules --test fuzz_smoke -- --ignored --nocapture
//! ```
//! A panic (an invariant broken, or a crash) fails the test and prints the offending input.

mod targets {
    include!("../fuzz/common.rs");
}

use std::time::{Duration, Instant};

const FALCO_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/falco-rules/falco_rules.yaml"
);
const K8S_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/plugin-rules/k8s_audit_rules.yaml"
);

/// Fragments spliced into inputs: the tokens of both languages.
const DICTIONARY: &[&str] = &[
    "(",
    ")",
    " and ",
    " or ",
    "not ",
    "not(",
    "\"",
    "'",
    "\\",
    ",",
    "=",
    "==",
    "!=",
    "<=",
    ">",
    " in ",
    " in (",
    " pmatch ",
    " intersects ",
    " contains ",
    " startswith ",
    " glob ",
    " exists",
    " anyof ",
    " oneof (",
    "val(",
    "tolower(",
    "len(",
    "join(",
    "concat(",
    "getopt(",
    "[",
    "]",
    "[0]",
    "proc.name",
    "evt.arg.flags",
    "fd.name",
    "0x1F",
    "-1.5e+3",
    "my_macro",
    "my_list",
    "\n",
    "\t",
    " ",
    "- ",
    ": ",
    "\n- macro: m\n  condition: ",
    "\n- list: my_list\n  items: [",
    "\n- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: ",
    "  override:\n    condition: append\n",
    "  append: true\n",
    "  exceptions:\n  - name: e\n    fields: [proc.name]\n    values: [[x]]\n",
    "---\n",
    "&a ",
    "*a",
    "{",
    "}",
    "? ",
    "|\n  ",
    ">\n  ",
    "~",
    "é",
    "\u{0}",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
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

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                out.splice(at..at, word.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(64)).min(out.len());
                let chunk = out[start..end].to_vec();
                out.splice(at..at, chunk);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + rng.below(256)).min(other.len());
                    out.splice(at..at, other[start..end].iter().copied());
                }
            }
            5 => {
                let byte = rng.next() as u8;
                out.insert(at, byte);
            }
            _ => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())];
                let times = 1 + rng.below(50);
                out.splice(at..at, word.repeat(times).bytes());
            }
        }
    }
    out.truncate(1 << 16);
    // The targets skip invalid UTF-8; keep mutants textual so the time goes into the loader and the parser.
    String::from_utf8_lossy(&out).into_owned().into_bytes()
}

fn seeds_for_rules() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for path in [FALCO_RULES, K8S_RULES] {
        if let Ok(text) = std::fs::read_to_string(path) {
            // Item-sized pieces keep each run fast.
            for chunk in text.split("\n- ").take(400) {
                seeds.push(format!("- {chunk}\n").into_bytes());
            }
        }
    }
    seeds.push(b"- list: l\n  items: [a, b]\n- macro: m\n  condition: proc.name in (l)\n- rule: r\n  desc: d\n  condition: m and not evt.type = open\n  output: o\n  priority: INFO\n  exceptions:\n  - name: e\n    fields: [proc.name, fd.name]\n    comps: [=, in]\n    values: [[a, [b, c]]]\n".to_vec());
    seeds
}

fn seeds_for_conditions() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "evt.type in (open, openat) and not proc.name in (\"a b\", 'c') or fd.name glob '/tmp/*'",
        "not (a or not b) and c.d exists and tolower(x.y) startswith anyof (p, q)",
        "x.y = val(z.w) and len(p.q) >= 0x1F and a.b[\"k]\"] = \"\\n\\t\"",
        "getopt(proc.args, \"ab:\")[b] = x and concat((proc.name, 'x'), 1) = y",
        "proc.aname[2] in (sh, bash) and evt.arg.flags contains O_RDONLY and fd.num>=0",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    if let Ok(text) = std::fs::read_to_string(FALCO_RULES) {
        for line in text.lines().filter_map(|l| l.trim().strip_prefix("condition:")) {
            seeds.push(line.trim().as_bytes().to_vec());
        }
    }
    seeds
}

fn run(name: &str, seeds: &[Vec<u8>], budget: Duration, target: fn(&[u8])) -> u64 {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let start = Instant::now();
    let mut runs = 0u64;
    let mut pool: Vec<Vec<u8>> = seeds.to_vec();
    while start.elapsed() < budget {
        let base = pool[rng.below(pool.len())].clone();
        let input = mutate(&mut rng, seeds, &base);
        let result = std::panic::catch_unwind(|| target(&input));
        if result.is_err() {
            panic!("{name}: target failed on input {:?}", String::from_utf8_lossy(&input));
        }
        runs += 1;
        // Keep some mutants so mutations stack up over time.
        if rng.below(8) == 0 {
            if pool.len() < 4096 {
                pool.push(input);
            } else {
                let i = rng.below(pool.len());
                pool[i] = input;
            }
        }
    }
    runs
}

fn budget() -> Duration {
    let secs = std::env::var("MAMORU_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    Duration::from_secs(secs)
}

#[test]
#[ignore = "long-running; run with --ignored (MAMORU_FUZZ_SECS sets the time per target)"]
fn fuzz_parse_condition() {
    let runs = run(
        "parse_condition",
        &seeds_for_conditions(),
        budget(),
        targets::parse_condition,
    );
    println!("parse_condition: {runs} inputs");
    assert!(runs > 0);
}

#[test]
#[ignore = "long-running; run with --ignored (MAMORU_FUZZ_SECS sets the time per target)"]
fn fuzz_load_rules() {
    let runs = run("load_rules", &seeds_for_rules(), budget(), targets::load_rules);
    println!("load_rules: {runs} inputs");
    assert!(runs > 0);
}

#[test]
fn targets_accept_their_seeds() {
    for s in seeds_for_conditions() {
        targets::parse_condition(&s);
    }
    for s in seeds_for_rules().iter().take(50) {
        targets::load_rules(s);
    }
}
