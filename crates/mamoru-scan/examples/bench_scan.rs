//! Scanner benchmark, side by side in one run (issue 7, item 10):
//!
//! 1. Malware stage: mamoru's YARA analyzer (yara-x, rules compiled once, one scanner per worker thread) against
//!    Debian's `yara` command (rules precompiled with `yarac`, `-p THREADS`), same rules, same unpacked tree, same
//!    thread count, warm page cache; runs alternate between the two tools and the median of N is reported, with
//!    wall-clock and CPU time (user+system) for each.
//! 2. Whole image scan: `mamoru scan image LAYOUT` (the real binary, every analyzer on, YARA rules and an imported
//!    OSV database) of a ~100 MB OCI layout on disk, warm, median of N.
//!
//! The corpus is chosen deterministically from this machine's /usr and /etc: files are ordered by the SHA-256 of
//! their path (so no directory or file is picked by hand) and taken into five classes by content until each class's
//! byte budget is spent: ELF executables 30%, ELF shared libraries 30%, text 20%, compressed data 12% and other
//! binary data 8%. The dpkg status database goes in too, so the packages stage has real work. A corpus digest is
//! printed so runs on one machine can be checked to be on identical input.
//!
//! ```text
//! cargo build --release -p mamoru-cli -p mamoru-scan --example bench_scan
//! target/release/examples/bench_scan --rules RULES.yar --mamoru target/release/mamoru [--osv DIR] [--mb 100]
//!     [--threads 2] [--runs 3] [--work DIR]
//! ```

use mamoru_scan::malware::yara::YaraAnalyzer;
use mamoru_scan::{ScanOptions, Scanner};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Largest file taken into the corpus (bigger files are rare in images and would dominate a 100 MB sample).
const MAX_FILE: u64 = 16 << 20;
/// Roots the corpus is drawn from.
const ROOTS: &[&str] = &["/usr", "/etc"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Executable,
    Library,
    Text,
    Compressed,
    Other,
}

impl Class {
    const ALL: [Class; 5] = [
        Class::Executable,
        Class::Library,
        Class::Text,
        Class::Compressed,
        Class::Other,
    ];

    /// Share of the corpus, in percent.
    fn share(self) -> u64 {
        match self {
            Class::Executable | Class::Library => 30,
            Class::Text => 20,
            Class::Compressed => 12,
            Class::Other => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Executable => "executables",
            Class::Library => "libraries",
            Class::Text => "text",
            Class::Compressed => "compressed",
            Class::Other => "other",
        }
    }

    /// The image layer the class is shipped in (base binaries, libraries, then text, then data).
    fn layer(self) -> usize {
        match self {
            Class::Executable => 0,
            Class::Library => 1,
            Class::Text => 2,
            Class::Compressed | Class::Other => 3,
        }
    }
}

/// Classifies a file by its first bytes.
fn classify(head: &[u8]) -> Class {
    const MAGICS: &[&[u8]] = &[
        b"\x1f\x8b",         // gzip
        b"\xfd7zXZ\0",       // xz
        b"BZh",              // bzip2
        b"\x28\xb5\x2f\xfd", // zstd
        b"PK\x03\x04",       // zip, jar, wheel
        b"\x89PNG",          // png
    ];
    if head.starts_with(b"\x7fELF") {
        // e_type at offset 16: 2 = ET_EXEC; 3 = ET_DYN is a PIE executable or a library, told apart by PT_INTERP,
        // approximated here by the presence of the dynamic loader's path in the first bytes.
        let e_type = head.get(16).copied().unwrap_or(0);
        let has_interp = memchr::memmem::find(head, b"/lib64/ld-linux").is_some()
            || memchr::memmem::find(head, b"/lib/ld-linux").is_some();
        return if e_type == 2 || has_interp {
            Class::Executable
        } else {
            Class::Library
        };
    }
    if MAGICS.iter().any(|m| head.starts_with(m)) {
        return Class::Compressed;
    }
    if memchr::memchr(0, head).is_none() {
        return Class::Text;
    }
    Class::Other
}

struct Picked {
    source: PathBuf,
    class: Class,
    size: u64,
}

/// All regular files under the roots (no symlinks), ordered by the SHA-256 of their path.
fn candidates() -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = ROOTS.iter().map(PathBuf::from).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                let Ok(md) = entry.metadata() else { continue };
                if md.len() > 0 && md.len() <= MAX_FILE {
                    out.push((entry.path(), md.len()));
                }
            }
        }
    }
    let mut keyed: Vec<([u8; 32], PathBuf, u64)> = out
        .into_iter()
        .map(|(p, n)| (Sha256::digest(p.as_os_str().as_encoded_bytes()).into(), p, n))
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, p, n)| (p, n)).collect()
}

/// Fills each class's budget from the hash-ordered candidates.
fn pick(total: u64) -> Vec<Picked> {
    let mut left: Vec<u64> = Class::ALL.iter().map(|c| total * c.share() / 100).collect();
    let mut picked = Vec::new();
    let dpkg = Path::new("/var/lib/dpkg/status");
    if let Ok(md) = std::fs::metadata(dpkg) {
        left[2] = left[2].saturating_sub(md.len());
        picked.push(Picked {
            source: dpkg.to_path_buf(),
            class: Class::Text,
            size: md.len(),
        });
    }
    let mut head = vec![0u8; 4096];
    // A class is full once less than this is left; a file may overshoot its class's budget by at most 1 MiB.
    const FULL: u64 = 16 << 10;
    for (path, size) in candidates() {
        if left.iter().all(|&l| l < FULL) {
            break;
        }
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        let Ok(n) = file.read(&mut head) else { continue };
        let class = classify(&head[..n]);
        let slot = Class::ALL.iter().position(|c| *c == class).unwrap_or(4);
        if left[slot] < FULL || size > left[slot] + (1 << 20) {
            continue;
        }
        left[slot] = left[slot].saturating_sub(size);
        picked.push(Picked {
            source: path,
            class,
            size,
        });
    }
    picked
}

/// Path of a picked file inside the image/tree.
fn image_path(p: &Picked) -> String {
    p.source.to_string_lossy().trim_start_matches('/').to_string()
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn tar_header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h
}

struct Corpus {
    files: usize,
    bytes: u64,
    compressed: u64,
    digest: String,
    by_class: Vec<(Class, usize, u64)>,
}

/// Writes the picked files as an OCI layout with four gzip layers and unpacks the same files under `tree`.
fn build(picked: &[Picked], layout: &Path, tree: &Path) -> Res<Corpus> {
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    let mut history = Vec::new();
    let mut corpus_hash = Sha256::new();
    let (mut bytes, mut compressed) = (0u64, 0u64);
    for layer in 0..4 {
        let mut files: Vec<&Picked> = picked.iter().filter(|p| p.class.layer() == layer).collect();
        files.sort_by_key(|p| image_path(p));
        let mut builder = tar::Builder::new(Vec::new());
        let mut dirs = BTreeSet::new();
        for p in files {
            let rel = image_path(p);
            let mut parent = Path::new(&rel).parent();
            let mut missing = Vec::new();
            while let Some(d) = parent.filter(|d| !d.as_os_str().is_empty()) {
                if dirs.insert(d.to_path_buf()) {
                    missing.push(d.to_path_buf());
                }
                parent = d.parent();
            }
            for d in missing.into_iter().rev() {
                let mut h = tar_header(tar::EntryType::Directory, 0, 0o755);
                builder.append_data(&mut h, &d, std::io::empty())?;
            }
            let data = std::fs::read(&p.source)?;
            let mode = if matches!(p.class, Class::Executable) {
                0o755
            } else {
                0o644
            };
            let mut h = tar_header(tar::EntryType::Regular, data.len() as u64, mode);
            builder.append_data(&mut h, &rel, data.as_slice())?;
            let dest = tree.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&dest, &data)?;
            corpus_hash.update(rel.as_bytes());
            corpus_hash.update(Sha256::digest(&data));
            bytes += data.len() as u64;
        }
        let raw = builder.into_inner()?;
        diff_ids.push(sha(&raw));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw)?;
        let blob = gz.finish()?;
        compressed += blob.len() as u64;
        let digest = sha(&blob);
        std::fs::write(blobs.join(digest.trim_start_matches("sha256:")), &blob)?;
        descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": blob.len(),
        }));
        history.push(serde_json::json!({"created_by": format!("COPY layer{layer} / # buildkit")}));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "1000", "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))?;
    let config_digest = sha(&config);
    std::fs::write(blobs.join(config_digest.trim_start_matches("sha256:")), &config)?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": descs,
    }))?;
    let manifest_digest = sha(&manifest);
    std::fs::write(blobs.join(manifest_digest.trim_start_matches("sha256:")), &manifest)?;
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "bench"},
    }]});
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index)?)?;
    std::fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let by_class = Class::ALL
        .iter()
        .map(|c| {
            let of: Vec<&Picked> = picked.iter().filter(|p| p.class == *c).collect();
            (*c, of.len(), of.iter().map(|p| p.size).sum())
        })
        .collect();
    Ok(Corpus {
        files: picked.len(),
        bytes,
        compressed,
        digest: hex::encode(corpus_hash.finalize()),
        by_class,
    })
}

/// CPU time (user+system, seconds) of this process and of its waited-for children.
fn cpu_times() -> (f64, f64) {
    let of = |who| {
        // SAFETY: getrusage only writes the struct we pass; a zeroed rusage is a valid initial value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable rusage for the duration of the call.
        unsafe { libc::getrusage(who, &mut usage) };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        secs(usage.ru_utime) + secs(usage.ru_stime)
    };
    (of(libc::RUSAGE_SELF), of(libc::RUSAGE_CHILDREN))
}

#[derive(Default)]
struct Samples {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

impl Samples {
    fn median(v: &[f64]) -> f64 {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    }
    fn wall(&self) -> f64 {
        Self::median(&self.wall)
    }
    fn cpu(&self) -> f64 {
        Self::median(&self.cpu)
    }
    fn list(&self) -> String {
        self.wall
            .iter()
            .map(|w| format!("{w:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Times `f`, counting CPU of this process (`children` false) or of the child processes it waits for.
fn timed<T>(children: bool, samples: &mut Samples, f: impl FnOnce() -> Res<T>) -> Res<T> {
    let (self0, child0) = cpu_times();
    let t = Instant::now();
    let out = f()?;
    let wall = t.elapsed().as_secs_f64();
    let (self1, child1) = cpu_times();
    samples.wall.push(wall);
    samples.cpu.push(if children { child1 - child0 } else { self1 - self0 });
    Ok(out)
}

fn run_checked(cmd: &mut Command) -> Res<std::process::Output> {
    let out = cmd.output()?;
    if !out.status.success() && out.status.code() != Some(1) {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out)
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Args {
    rules: PathBuf,
    mamoru: Option<PathBuf>,
    osv: Option<PathBuf>,
    mb: u64,
    threads: usize,
    runs: usize,
    work: Option<PathBuf>,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        rules: PathBuf::new(),
        mamoru: None,
        osv: None,
        mb: 100,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        runs: 3,
        work: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--rules" => args.rules = value()?.into(),
            "--mamoru" => args.mamoru = Some(value()?.into()),
            "--osv" => args.osv = Some(value()?.into()),
            "--mb" => args.mb = value()?.parse()?,
            "--threads" => args.threads = value()?.parse()?,
            "--runs" => args.runs = value()?.parse()?,
            "--work" => args.work = Some(value()?.into()),
            other => return Err(format!("unknown argument {other:?} (see the example's doc comment)").into()),
        }
    }
    if args.rules.as_os_str().is_empty() {
        return Err("usage: bench_scan --rules RULES.yar [--mamoru BIN] [--osv DIR] [--mb N] [--threads N] [--runs N] [--work DIR]".into());
    }
    args.runs = args.runs.max(1);
    Ok(args)
}

fn main() -> Res<()> {
    let args = parse_args()?;
    let temp = tempfile::tempdir()?;
    let work = args.work.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let (layout, tree) = (work.join("layout"), work.join("tree"));
    for dir in [&layout, &tree] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    let picked = pick(args.mb << 20);
    let corpus = build(&picked, &layout, &tree)?;
    let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
    let mbytes = corpus.bytes as f64 / 1e6;
    println!(
        "corpus: {} files, {:.1} MiB ({mbytes:.1} MB) from {}, digest {}",
        corpus.files,
        mib(corpus.bytes),
        ROOTS.join(" "),
        &corpus.digest[..16]
    );
    for (class, n, b) in &corpus.by_class {
        println!("  {:<12} {n:>6} files {:>7.1} MiB", class.name(), mib(*b));
    }
    println!(
        "image: OCI layout, 4 gzip layers, {:.1} MiB compressed; threads {}; load {}",
        mib(corpus.compressed),
        args.threads,
        uptime()
    );

    malware_stage(&args, &work, &tree, mbytes)?;
    whole_image(&args, &work, &layout, mbytes)?;
    println!("load after: {}", uptime());
    Ok(())
}

/// One side of the malware-stage comparison: runs a scan of the tree, returns the (rule, path) matches.
struct Contender<'a> {
    name: &'static str,
    /// Whether its CPU time is that of child processes (the `yara` command) or of this process.
    child: bool,
    run: Box<dyn Fn() -> Res<BTreeSet<String>> + 'a>,
    samples: Samples,
    hits: BTreeSet<String>,
}

fn contender<'a>(name: &'static str, child: bool, run: Box<dyn Fn() -> Res<BTreeSet<String>> + 'a>) -> Contender<'a> {
    Contender {
        name,
        child,
        run,
        samples: Samples::default(),
        hits: BTreeSet::new(),
    }
}

fn mamoru_yara(analyzer: YaraAnalyzer, threads: usize) -> Scanner {
    let mut scanner = Scanner::new(ScanOptions {
        threads,
        ..ScanOptions::default()
    });
    scanner.add_file_analyzer(Arc::new(analyzer));
    scanner
}

fn mamoru_hits(scanner: &Scanner, tree: &Path) -> Res<BTreeSet<String>> {
    let report = scanner.scan_dir(tree)?;
    Ok(report
        .findings
        .iter()
        .filter_map(|f| {
            Some(format!(
                "{} {}",
                f.rule.trim_start_matches("yara:"),
                f.location.path.as_deref()?
            ))
        })
        .collect())
}

fn yara_hits(cmd: &mut Command, tree: &Path) -> Res<BTreeSet<String>> {
    let out = run_checked(cmd)?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (rule, path) = l.split_once(' ')?;
            let rel = Path::new(path).strip_prefix(tree).ok()?;
            Some(format!("{rule} {}", rel.display()))
        })
        .collect())
}

/// mamoru's YARA stage (yara-x; default fast scan, and tracking every match) and the `yara` command (default, and
/// `-f`) on the same tree with the same rules and threads; runs rotate between them, the warm-up run is discarded.
fn malware_stage(args: &Args, work: &Path, tree: &Path, mbytes: f64) -> Res<()> {
    let t = Instant::now();
    let fast = YaraAnalyzer::compile(std::slice::from_ref(&args.rules))?;
    println!(
        "yara-x: {} rules compiled in {:.2} s (once, not in the timings below)",
        fast.rule_count(),
        t.elapsed().as_secs_f64()
    );
    let full = YaraAnalyzer::compile(std::slice::from_ref(&args.rules))?.with_fast_scan(false);
    let (fast, full) = (mamoru_yara(fast, args.threads), mamoru_yara(full, args.threads));

    let compiled = work.join("rules.yarc");
    let status = Command::new("yarac")
        .arg("-w")
        .arg(&args.rules)
        .arg(&compiled)
        .status()?;
    if !status.success() {
        return Err("yarac failed (is Debian's yara installed? scripts/setup-deps)".into());
    }
    let threads = args.threads.to_string();
    let yara_cmd = |extra: &[&str]| {
        let mut c = Command::new("yara");
        c.args(["-w", "-C", "-r", "-p", &threads])
            .args(extra)
            .arg(&compiled)
            .arg(tree);
        c
    };
    println!("yara command: {:?}", yara_cmd(&[]));
    let mut sides = vec![
        contender("mamoru yara-x (default)", false, Box::new(|| mamoru_hits(&fast, tree))),
        contender("yara 4 CLI", true, Box::new(|| yara_hits(&mut yara_cmd(&[]), tree))),
        contender(
            "mamoru yara-x all matches",
            false,
            Box::new(|| mamoru_hits(&full, tree)),
        ),
        contender(
            "yara 4 CLI -f",
            true,
            Box::new(|| yara_hits(&mut yara_cmd(&["-f"]), tree)),
        ),
    ];
    for run in 0..=args.runs {
        let n = sides.len();
        for i in 0..n {
            // Rotate the order each run so no side always follows the same neighbour.
            let side = &mut sides[(i + run) % n];
            let mut s = Samples::default();
            let hits = timed(side.child, &mut s, || (side.run)())?;
            if run > 0 {
                // Run 0 is the warm-up: it fills the page cache and faults in both tools' code.
                side.samples.wall.extend(s.wall);
                side.samples.cpu.extend(s.cpu);
                side.hits = hits;
            }
        }
    }
    println!("malware stage, median of {} warm runs, load {}", args.runs, uptime());
    for side in &sides {
        println!(
            "  {:<26} {:>7.1} MB/s  wall {:.3} s [{}]  cpu {:.3} s ({:.1} MB per cpu-s)  {} matches",
            side.name,
            mbytes / side.samples.wall(),
            side.samples.wall(),
            side.samples.list(),
            side.samples.cpu(),
            mbytes / side.samples.cpu(),
            side.hits.len()
        );
    }
    let ratio = |a: &Contender<'_>, b: &Contender<'_>| {
        format!(
            "{:.2}x wall, {:.2}x cpu",
            b.samples.wall() / a.samples.wall(),
            b.samples.cpu() / a.samples.cpu()
        )
    };
    println!(
        "  ratio mamoru (default) / yara (default): {}",
        ratio(&sides[0], &sides[1])
    );
    println!(
        "  ratio mamoru all matches / yara (default): {}",
        ratio(&sides[2], &sides[1])
    );
    println!("  ratio mamoru (default) / yara -f: {}", ratio(&sides[0], &sides[3]));
    for side in &sides[1..] {
        if side.hits != sides[0].hits {
            let only_ours: Vec<_> = sides[0].hits.difference(&side.hits).collect();
            let only_theirs: Vec<_> = side.hits.difference(&sides[0].hits).collect();
            println!(
                "  match sets differ from {}: only mamoru {only_ours:?}; only {} {only_theirs:?}",
                side.name, side.name
            );
        }
    }
    Ok(())
}

/// `mamoru scan ...` parsed and run in this process: the same code the binary's `scan` subcommand calls.
#[derive(clap::Parser)]
struct InProcessScan {
    #[command(subcommand)]
    command: mamoru_scan::cli::ScanCommand,
}

/// `mamoru scan image` of the layout on disk, every analyzer on, warm: through the binary given with `--mamoru`,
/// else in this process through the same entry point (`mamoru_scan::cli::run`; no process start-up counted).
fn whole_image(args: &Args, work: &Path, layout: &Path, mbytes: f64) -> Res<()> {
    let db = work.join("db");
    if let Some(osv) = &args.osv {
        if !db.exists() {
            let mut database = mamoru_sbom_db(&db)?;
            let stats = database.import(osv)?;
            database.save(&db)?;
            println!("osv db: {} records imported from {}", stats.imported, osv.display());
        }
    }
    let report = work.join("report.json");
    let mut scan_args: Vec<String> = ["scan", "image"].iter().map(|s| s.to_string()).collect();
    scan_args.push(layout.display().to_string());
    scan_args.extend(["--yara-rules".to_string(), args.rules.display().to_string()]);
    scan_args.extend(["--threads".to_string(), args.threads.to_string()]);
    scan_args.extend(["--format", "json", "-o"].iter().map(|s| s.to_string()));
    scan_args.push(report.display().to_string());
    if args.osv.is_some() {
        scan_args.extend(["--db".to_string(), db.display().to_string()]);
    }
    let how = match &args.mamoru {
        Some(bin) => format!("{} {}", bin.display(), scan_args.join(" ")),
        None => format!("in process: mamoru {}", scan_args.join(" ")),
    };
    println!("scan command: {how}");
    let scan_once = || -> Res<()> {
        match &args.mamoru {
            Some(bin) => {
                run_checked(Command::new(bin).args(&scan_args))?;
            }
            None => {
                let parsed = <InProcessScan as clap::Parser>::try_parse_from(
                    std::iter::once("mamoru-scan".to_string()).chain(scan_args[1..].iter().cloned()),
                )?;
                mamoru_scan::cli::run(parsed.command)?;
            }
        }
        Ok(())
    };
    let mut samples = Samples::default();
    for run in 0..=args.runs {
        let mut s = Samples::default();
        timed(args.mamoru.is_some(), &mut s, scan_once)?;
        if run > 0 {
            samples.wall.extend(s.wall);
            samples.cpu.extend(s.cpu);
        }
    }
    let findings = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("findings")?.as_array().map(Vec::len))
        .unwrap_or(0);
    println!(
        "whole image scan ({mbytes:.1} MB uncompressed), median of {} warm runs, load {}",
        args.runs,
        uptime()
    );
    println!(
        "  mamoru scan image: wall {:.3} s [{}]  cpu {:.3} s  ({:.1} MB/s)  {findings} findings",
        samples.wall(),
        samples.list(),
        samples.cpu(),
        mbytes / samples.wall()
    );
    Ok(())
}

fn mamoru_sbom_db(dir: &Path) -> Res<mamoru_sbom::Database> {
    Ok(mamoru_sbom::Database::open(dir)?)
}
