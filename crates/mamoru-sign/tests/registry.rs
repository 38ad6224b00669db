//! End to end against a real registry: Debian's `docker-registry` (distribution) started on a free port with its
//! own storage; an image pushed through the registry API, signed, verified, and attacked.

use mamoru_sign::{
    sign_image, signature_tag, verify_image, verify_image_report, LayerVerdict, PrivateKey, Repository, SignError,
    SignOptions, VerifyOptions, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

struct Registry {
    child: Child,
    host: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Registry {
    assert!(
        std::path::Path::new(REGISTRY_BIN).exists(),
        "{REGISTRY_BIN} is missing: install Debian's docker-registry package (scripts/setup-deps)"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let host = format!("127.0.0.1:{port}");
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
        dir.path().join("data").display()
    );
    let config_path = dir.path().join("config.yml");
    std::fs::write(&config_path, config).unwrap();
    let child = Command::new(REGISTRY_BIN)
        .arg("serve")
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let registry = Registry { child, host, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = format!("http://{}/v2/", registry.host);
    loop {
        if reqwest::blocking::get(&url).is_ok_and(|r| r.status().is_success()) {
            return registry;
        }
        assert!(Instant::now() < deadline, "docker-registry did not answer on {url}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Pushes a one-layer OCI image under `tag`; returns its manifest digest.
fn push_image(repo: &Repository, tag: &str, content: &[u8]) -> String {
    let layer = repo.put_blob(content).unwrap();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer]}
    }))
    .unwrap();
    let config_digest = repo.put_blob(&config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": content.len(), "digest": layer}]
    }))
    .unwrap();
    repo.put_manifest(tag, "application/vnd.oci.image.manifest.v1+json", &manifest)
        .unwrap()
}

fn repo_for(reference: &str) -> Repository {
    Repository::new(
        &mamoru_oci::Reference::parse(reference).unwrap(),
        &Default::default(),
        false,
    )
    .unwrap()
}

fn signature_manifest(repo: &Repository, image_digest: &str) -> serde_json::Value {
    let (raw, _) = repo
        .get_manifest(&signature_tag(image_digest).unwrap())
        .unwrap()
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

fn put_signature_manifest(repo: &Repository, image_digest: &str, manifest: &serde_json::Value) {
    let bytes = serde_json::to_vec(manifest).unwrap();
    repo.put_manifest(
        &signature_tag(image_digest).unwrap(),
        "application/vnd.oci.image.manifest.v1+json",
        &bytes,
    )
    .unwrap();
}

fn invalid_reasons(err: &SignError) -> String {
    match err {
        SignError::NoValidSignature { failures, .. } => failures.join("\n"),
        other => panic!("expected NoValidSignature, got {other}"),
    }
}

#[test]
fn sign_verify_append_and_attacks() {
    let registry = start_registry();
    let reference = format!("{}/team/app:v1", registry.host);
    let repo = repo_for(&reference);
    let image_digest = push_image(&repo, "v1", b"layer bytes of a tiny image");
    let signer = PrivateKey::generate();
    let second = PrivateKey::generate();
    let stranger = PrivateKey::generate();
    let sign_opts = SignOptions::default();
    let verify_opts = VerifyOptions::default();

    let err = verify_image(&reference, &signer.public_key(), &verify_opts).unwrap_err();
    assert!(matches!(err, SignError::NoSignatures { .. }), "{err}");

    let signed = sign_image(&reference, &signer, &sign_opts).unwrap();
    assert_eq!(signed.image_digest, image_digest);
    assert_eq!(signed.signature_count, 1);
    assert!(signed.added);

    // The stored artifact has cosign's shape.
    let manifest = signature_manifest(&repo, &image_digest);
    let layer = &manifest["layers"][0];
    assert_eq!(layer["mediaType"], SIMPLE_SIGNING_MEDIA_TYPE);
    assert!(layer["annotations"][SIGNATURE_ANNOTATION].as_str().is_some());
    let payload = repo.get_blob(layer["digest"].as_str().unwrap()).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        image_digest.as_str()
    );
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        format!("{}/team/app", registry.host)
    );

    let ok = verify_image(&reference, &signer.public_key(), &verify_opts).unwrap();
    assert_eq!(ok.image_digest, image_digest);
    let by_digest = format!("{}/team/app@{image_digest}", registry.host);
    verify_image(&by_digest, &signer.public_key(), &verify_opts).unwrap();

    // Signing the same image again with the same key adds nothing; another key appends.
    let again = sign_image(&reference, &signer, &sign_opts).unwrap();
    // RFC 6979 signatures are deterministic, so the second signature is byte-identical and deduplicated.
    assert!(!again.added, "{again:?}");
    assert_eq!(again.signature_count, 1);
    let appended = sign_image(&reference, &second, &sign_opts).unwrap();
    assert!(appended.added);
    assert_eq!(appended.signature_count, again.signature_count + 1);
    verify_image(&reference, &signer.public_key(), &verify_opts).unwrap();
    verify_image(&reference, &second.public_key(), &verify_opts).unwrap();
    let report = verify_image_report(&reference, &second.public_key(), &verify_opts).unwrap();
    assert_eq!(report.valid().count(), 1);
    assert_eq!(report.layers.len(), appended.signature_count);

    // A key that never signed.
    let err = verify_image(&reference, &stranger.public_key(), &verify_opts).unwrap_err();
    assert!(invalid_reasons(&err).contains("does not verify"), "{err}");

    // Tamper: point every layer at a payload naming the same image but changed, keeping the signatures.
    let mut manifest = signature_manifest(&repo, &image_digest);
    let tampered = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/team/app"}},"image":{{"docker-manifest-digest":"{image_digest}"}},"type":"cosign container image signature"}},"optional":{{"tampered":"yes"}}}}"#,
        registry.host
    );
    let tampered_digest = repo.put_blob(tampered.as_bytes()).unwrap();
    for layer in manifest["layers"].as_array_mut().unwrap() {
        layer["digest"] = tampered_digest.clone().into();
        layer["size"] = tampered.len().into();
    }
    put_signature_manifest(&repo, &image_digest, &manifest);
    let err = verify_image(&reference, &signer.public_key(), &verify_opts).unwrap_err();
    assert!(invalid_reasons(&err).contains("does not verify"), "{err}");
    let err = verify_image(&reference, &second.public_key(), &verify_opts).unwrap_err();
    assert!(invalid_reasons(&err).contains("does not verify"), "{err}");
}

#[test]
fn validly_signed_payload_for_another_digest_or_repository_is_refused() {
    let registry = start_registry();
    let reference = format!("{}/team/app:v1", registry.host);
    let repo = repo_for(&reference);
    let image_digest = push_image(&repo, "v1", b"image one");
    let other_digest = push_image(&repo, "v2", b"image two");
    let key = PrivateKey::generate();

    // Sign v2, then copy its signature under v1's signature tag: the signed digest is v2's.
    sign_image(&format!("{}/team/app:v2", registry.host), &key, &SignOptions::default()).unwrap();
    let moved = signature_manifest(&repo, &other_digest);
    put_signature_manifest(&repo, &image_digest, &moved);
    let err = verify_image(&reference, &key.public_key(), &VerifyOptions::default()).unwrap_err();
    assert!(invalid_reasons(&err).contains("is not the image's digest"), "{err}");

    // The same image under another repository: the payload names team/app, so other/app is refused
    // unless the caller opts out of the identity check.
    let other_ref = format!("{}/other/app:v1", registry.host);
    let other_repo = repo_for(&other_ref);
    assert_eq!(push_image(&other_repo, "v1", b"image one"), image_digest);
    sign_image(&reference, &key, &SignOptions::default()).unwrap();
    let manifest = signature_manifest(&repo, &image_digest);
    // Layers of the v1 signature manifest now include the valid team/app signature; copy the blobs across.
    for layer in manifest["layers"].as_array().unwrap() {
        let blob = repo.get_blob(layer["digest"].as_str().unwrap()).unwrap();
        other_repo.put_blob(&blob).unwrap();
    }
    let config = repo.get_blob(manifest["config"]["digest"].as_str().unwrap()).unwrap();
    other_repo.put_blob(&config).unwrap();
    put_signature_manifest(&other_repo, &image_digest, &manifest);
    let err = verify_image(&other_ref, &key.public_key(), &VerifyOptions::default()).unwrap_err();
    assert!(invalid_reasons(&err).contains("signed for"), "{err}");
    let lenient = VerifyOptions {
        ignore_reference: true,
        ..Default::default()
    };
    let ok = verify_image(&other_ref, &key.public_key(), &lenient).unwrap();
    assert_eq!(ok.docker_reference, format!("{}/team/app", registry.host));

    let report = verify_image_report(&reference, &key.public_key(), &VerifyOptions::default()).unwrap();
    assert!(report.layers.iter().any(|l| matches!(l, LayerVerdict::Invalid { .. })));
    assert!(report.valid().count() >= 1);
}
