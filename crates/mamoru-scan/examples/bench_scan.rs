//! Scanner benchmark, side by side in one run:
//! 1. malware stage: mamoru's YARA analyzer (yara-x, rules compiled once, one scanner per thread) vs Debian's
//!    `yara` command (rules precompiled with `yarac`, `-p THREADS`), same rules, same unpacked tree, best of 3;
//! 2. whole image scan (all analyzers) of a ~100 MB OCI image built from this machine's /usr files, warm.
//!
//! `cargo run --release -p mamoru-scan --features yara --example bench_scan -- RULES.yar [MB]`

use mamoru_scan::cli::{build_scanner, CommonArgs};
use mamoru_scan::lookalike::LookAlikeConfig;
use mamoru_scan::malware::yara::YaraAnalyzer;
use mamoru_scan::mamoru_oci::{Image, OpenOptions};
use mamoru_scan::{ScanOptions, Scanner};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Regular files under the roots, in a stable order, until `budget` bytes.
fn collect_files(roots: &[&str], budget: u64) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut stack: Vec<PathBuf> = roots.iter().rev().map(PathBuf::from).collect();
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries.into_iter().rev() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                let Ok(md) = e.metadata() else { continue };
                if md.len() == 0 || md.len() > 16 << 20 {
                    continue;
                }
                total += md.len();
                out.push((e.path(), md.len()));
                if total >= budget {
                    return out;
                }
            }
        }
    }
    out
}

fn tar_header(path: &str, size: u64, mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    let (prefix, name) = if path.len() > 100 {
        let split = path[..155.min(path.len())].rfind('/').unwrap_or(0);
        (&path[..split], &path[split + 1..])
    } else {
        ("", path)
    };
    h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    h[345..345 + prefix.len().min(155)].copy_from_slice(&prefix.as_bytes()[..prefix.len().min(155)]);
    h[100..108].copy_from_slice(format!("{:07o}\0", mode & 0o7777).as_bytes());
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Writes the files as an OCI layout with `layers` gzip layers and unpacks the same tree under `tree`.
fn build(files: &[(PathBuf, u64)], layout: &Path, tree: &Path, layers: usize) -> Res<u64> {
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let per = files.len().div_ceil(layers);
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    let mut total = 0;
    for chunk in files.chunks(per) {
        let mut raw = Vec::new();
        for (p, _) in chunk {
            let data = std::fs::read(p)?;
            let rel = p.to_string_lossy().trim_start_matches('/').to_string();
            raw.extend_from_slice(&tar_header(&rel, data.len() as u64, 0o755));
            raw.extend_from_slice(&data);
            raw.resize(raw.len() + (512 - data.len() % 512) % 512, 0);
            let dest = tree.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&dest, &data)?;
            total += data.len() as u64;
        }
        raw.resize(raw.len() + 1024, 0);
        diff_ids.push(sha(&raw));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw)?;
        let blob = gz.finish()?;
        let d = sha(&blob);
        std::fs::write(blobs.join(d.trim_start_matches("sha256:")), &blob)?;
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": blob.len()}));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "1000", "Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))?;
    let cd = sha(&config);
    std::fs::write(blobs.join(cd.trim_start_matches("sha256:")), &config)?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": descs,
    }))?;
    let md = sha(&manifest);
    std::fs::write(blobs.join(md.trim_start_matches("sha256:")), &manifest)?;
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": manifest.len(), "annotations": {"io.containerd.image.name": "example.com/bench/usr:1"}}]});
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index)?)?;
    std::fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    Ok(total)
}

fn best_of<F: FnMut() -> Res<()>>(n: usize, mut f: F) -> Res<f64> {
    let mut best = f64::MAX;
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let rules = PathBuf::from(args.get(1).ok_or("usage: bench_scan RULES.yar [MB]")?);
    let mb: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let work = tempfile::tempdir()?;
    let (layout, tree) = (work.path().join("layout"), work.path().join("tree"));
    let files = collect_files(&["/usr/lib", "/usr/bin", "/usr/share"], mb << 20);
    let bytes = build(&files, &layout, &tree, 4)?;
    let mbytes = bytes as f64 / (1 << 20) as f64;
    println!(
        "corpus: {} files, {mbytes:.1} MiB from /usr, {threads} threads",
        files.len()
    );

    let t = Instant::now();
    let yara = Arc::new(YaraAnalyzer::compile(std::slice::from_ref(&rules))?);
    println!(
        "yara-x compile: {} rules in {:.2} s (once)",
        yara.rule_count(),
        t.elapsed().as_secs_f64()
    );
    let mut scanner = Scanner::new(ScanOptions {
        threads,
        ..ScanOptions::default()
    });
    scanner.add_file_analyzer(yara);
    let mut mamoru_matches = 0;
    let mamoru = best_of(3, || {
        mamoru_matches = scanner.scan_dir(&tree)?.findings.len();
        Ok(())
    })?;

    let compiled = work.path().join("rules.yarc");
    let status = Command::new("yarac").arg("-w").arg(&rules).arg(&compiled).status()?;
    if !status.success() {
        return Err("yarac failed (is Debian's yara installed? scripts/setup-deps)".into());
    }
    let mut yara_matches = 0;
    let yara_cli = best_of(3, || {
        let out = Command::new("yara")
            .args(["-w", "-C", "-r", "-p", &threads.to_string()])
            .arg(&compiled)
            .arg(&tree)
            .output()?;
        if !out.status.success() {
            return Err(format!("yara failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        yara_matches = out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
        Ok(())
    })?;
    println!(
        "malware stage: mamoru {:.1} MB/s ({mamoru:.2} s, {mamoru_matches} matches) | yara 4 CLI {:.1} MB/s ({yara_cli:.2} s, {yara_matches} matches) | ratio {:.2}x",
        mbytes / mamoru,
        mbytes / yara_cli,
        yara_cli / mamoru
    );

    let common = CommonArgs {
        format: "json".to_string(),
        fail_on: None,
        output: None,
        yara_rules: vec![rules.clone()],
        ioc_hashes: Vec::new(),
        secret_rules: Vec::new(),
        show_secrets: false,
        skip: Vec::new(),
        threads,
        db: None,
        vex: Vec::new(),
    };
    let look = LookAlikeConfig::from_official_list(mamoru_scan::cli::BUNDLED_OFFICIAL_IMAGES);
    let full = build_scanner(&common, Some(look))?;
    let target = layout.to_string_lossy().into_owned();
    let mut findings = 0;
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let image = Image::open(&target, &OpenOptions::default())?;
        findings = full.scan_image(&image)?.report.findings.len();
        runs.push(t.elapsed().as_secs_f64());
    }
    let compressed: u64 = std::fs::read_dir(layout.join("blobs/sha256"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "whole image scan ({mbytes:.1} MiB uncompressed, {:.1} MiB gzip, 4 layers, all analyzers): cold {:.2} s, warm {:.2} s / {:.2} s, {findings} findings",
        compressed as f64 / (1 << 20) as f64,
        runs[0],
        runs[1],
        runs[2]
    );
    Ok(())
}
