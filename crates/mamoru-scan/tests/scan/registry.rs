//! Pull from a real registry: Debian's docker-registry, started by the test on a free port with its own storage,
//! the test image pushed over the distribution API, then scanned by reference (by tag and by digest).

use crate::common;

use common::*;
use mamoru_scan::cli::{build_scanner, CommonArgs};
use mamoru_scan::lookalike::LookAlikeConfig;
use mamoru_scan::mamoru_oci::{Image, OpenOptions};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn start_registry() -> Registry {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        ),
    )
    .expect("config");
    let child = Command::new("/usr/bin/docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("/usr/bin/docker-registry missing: run scripts/setup-deps (docker-registry)");
    let registry = Registry { child, port, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = reqwest::blocking::Client::new();
    loop {
        if client
            .get(format!("http://127.0.0.1:{port}/v2/"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return registry;
        }
        assert!(Instant::now() < deadline, "registry did not start on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn push_blob(client: &reqwest::blocking::Client, base: &str, repo: &str, data: &[u8]) {
    let start = client
        .post(format!("{base}/v2/{repo}/blobs/uploads/"))
        .send()
        .expect("start upload");
    assert_eq!(start.status().as_u16(), 202, "start upload");
    let location = start.headers()["location"].to_str().expect("location").to_string();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("{base}{location}")
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let put = client
        .put(format!("{url}{sep}digest={}", digest(data)))
        .header("content-type", "application/octet-stream")
        .body(data.to_vec())
        .send()
        .expect("put blob");
    assert_eq!(put.status().as_u16(), 201, "put blob");
}

fn push(image: &BuiltImage, base: &str, repo: &str, tag: &str) {
    let client = reqwest::blocking::Client::new();
    for l in &image.layers {
        push_blob(&client, base, repo, &l.blob);
    }
    push_blob(&client, base, repo, &image.config);
    let put = client
        .put(format!("{base}/v2/{repo}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(image.manifest.clone())
        .send()
        .expect("put manifest");
    assert_eq!(put.status().as_u16(), 201, "put manifest");
}

#[test]
fn pull_and_scan_from_a_local_registry() {
    let registry = start_registry();
    let base = format!("http://127.0.0.1:{}", registry.port);
    let image = poisoned_image();
    push(&image, &base, "c43602f9cc95/openjdk", "8");
    let args = CommonArgs {
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
    };
    let official = LookAlikeConfig::from_official_list(mamoru_scan::cli::BUNDLED_OFFICIAL_IMAGES);
    for reference in [
        format!("127.0.0.1:{}/c43602f9cc95/openjdk:8", registry.port),
        format!(
            "127.0.0.1:{}/c43602f9cc95/openjdk@{}",
            registry.port,
            digest(&image.manifest)
        ),
    ] {
        let pulled = Image::open(&reference, &OpenOptions::default()).expect("pull");
        assert_eq!(
            pulled.manifest_digest.as_deref(),
            Some(digest(&image.manifest).as_str())
        );
        let scanner = build_scanner(&args, Some(official.clone())).expect("scanner");
        let report = scanner.scan_image(&pulled).expect("scan").report;
        let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        for want in [
            "miner:xmrig-config",
            "miner:binary-strings",
            "secret:github-pat",
            "config:dangerous-port",
        ] {
            assert!(rules.contains(&want), "{want} missing from {rules:?}");
        }
        let cfg = report
            .findings
            .iter()
            .find(|f| f.rule == "miner:xmrig-config")
            .expect("config");
        assert_eq!((cfg.location.layer, cfg.in_final_image), (Some(1), Some(false)));
        // The registry host is not trusted, so the official name under it is a look-alike.
        assert!(rules.contains(&"look-alike:official-name"), "{rules:?}");
    }
    let missing = Image::open(
        &format!("127.0.0.1:{}/c43602f9cc95/openjdk:nope", registry.port),
        &OpenOptions::default(),
    );
    assert!(missing.is_err());
}
