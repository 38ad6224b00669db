//! Signature artifacts in the registry: building, appending to and checking the `sha256-<hex>.sig` manifest.

use crate::error::SignError;
use crate::keys::{PrivateKey, PublicKey};
use crate::payload::SimpleSigning;
use crate::registry::Repository;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use mamoru_oci::{Reference, RegistryAuth, DOCKER_HUB};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Media type of a cosign signature layer (its content is the simple-signing payload).
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 DER signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// go-containerregistry's zero time, which cosign's signature images carry.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Registry access shared by signing and verification.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    pub auth: RegistryAuth,
    /// Plain HTTP even for non-loopback registries.
    pub insecure: bool,
    /// Goes to the payload's `optional` section (`cosign sign -a key=value`).
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    pub auth: RegistryAuth,
    pub insecure: bool,
    /// Accept signatures whose `docker-reference` names another repository (e.g. after `cosign copy`).
    pub ignore_reference: bool,
}

/// What [`sign_image`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedImage {
    pub image_digest: String,
    /// `registry/repo:sha256-<hex>.sig`.
    pub signature_reference: String,
    pub signature_manifest_digest: String,
    /// Signature layers in the manifest after this signing (including earlier signatures).
    pub signature_count: usize,
    /// False if an identical signature was already there.
    pub added: bool,
}

/// One signature that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSignature {
    pub image_digest: String,
    pub docker_reference: String,
    pub layer_digest: String,
    pub payload: SimpleSigning,
}

/// The verdict on one signature layer.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerVerdict {
    Valid(VerifiedSignature),
    Invalid {
        layer: usize,
        layer_digest: String,
        why: String,
    },
}

/// Every layer's verdict for an image.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub reference: String,
    pub image_digest: String,
    pub signature_reference: String,
    pub layers: Vec<LayerVerdict>,
}

impl VerifyReport {
    pub fn valid(&self) -> impl Iterator<Item = &VerifiedSignature> {
        self.layers.iter().filter_map(|l| match l {
            LayerVerdict::Valid(v) => Some(v),
            LayerVerdict::Invalid { .. } => None,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigManifest {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: SigDescriptor,
    #[serde(default)]
    layers: Vec<SigDescriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigDescriptor {
    media_type: String,
    size: u64,
    digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

/// The tag cosign stores an image's signatures under: `sha256-<hex>.sig`.
pub fn signature_tag(image_digest: &str) -> Result<String, SignError> {
    let (alg, hex) = mamoru_oci::parse_digest(image_digest)?;
    Ok(format!("{alg}-{hex}.sig"))
}

/// The repository identity cosign writes into `docker-reference` (go-containerregistry's `Context().Name()`):
/// registry and repository, no tag or digest, Docker Hub as `index.docker.io`.
pub fn docker_reference(reference: &Reference) -> String {
    let registry = if reference.registry == DOCKER_HUB {
        "index.docker.io"
    } else {
        &reference.registry
    };
    format!("{registry}/{}", reference.repository)
}

/// Same repository, treating Docker Hub's aliases as one registry and ignoring any tag or digest.
fn same_repository(signed: &str, image: &Reference) -> bool {
    let Ok(signed) = Reference::parse(signed) else {
        return false;
    };
    let hub = |r: &str| matches!(r, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    let same_registry = signed.registry == image.registry || (hub(&signed.registry) && hub(&image.registry));
    same_registry && signed.repository == image.repository
}

/// The image's manifest digest: the one in the reference, or the hash of the manifest its tag names.
fn resolve_digest(repo: &Repository, reference: &Reference, text: &str) -> Result<String, SignError> {
    if let Some(d) = &reference.digest {
        mamoru_oci::parse_digest(d)?;
        return Ok(d.clone());
    }
    let tag = reference.manifest_reference();
    match repo.get_manifest(tag)? {
        Some((_, digest)) => Ok(digest),
        None => Err(SignError::Registry {
            registry: reference.registry.clone(),
            why: format!("{text}: no manifest for tag {tag:?}"),
        }),
    }
}

fn parse_reference(text: &str) -> Result<Reference, SignError> {
    Ok(Reference::parse(text)?)
}

/// Signs `reference` (tag or digest) with `key` and pushes the signature next to it, keeping earlier signatures.
pub fn sign_image(reference: &str, key: &PrivateKey, options: &SignOptions) -> Result<SignedImage, SignError> {
    let image = parse_reference(reference)?;
    let repo = Repository::new(&image, &options.auth, options.insecure)?;
    let image_digest = resolve_digest(&repo, &image, reference)?;
    let annotations = options
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
        .collect();
    let payload = SimpleSigning::new(&docker_reference(&image), &image_digest, annotations).to_bytes()?;
    let signature = B64.encode(key.sign(&payload));
    let tag = signature_tag(&image_digest)?;

    let mut layers = existing_signature_layers(&repo, &tag)?;
    let payload_digest = repo.put_blob(&payload)?;
    let duplicate = layers
        .iter()
        .any(|l| l.digest == payload_digest && signature_of(l) == Some(signature.as_str()));
    if !duplicate {
        layers.push(SigDescriptor {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_string(),
            size: payload.len() as u64,
            digest: payload_digest,
            annotations: Some(BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature)])),
        });
    }
    let manifest_digest = push_signature_manifest(&repo, &tag, layers.clone())?;
    tracing::info!(image = %reference, digest = %image_digest, tag = %tag, "signature stored");
    Ok(SignedImage {
        image_digest,
        signature_reference: format!("{}/{}:{tag}", image.registry, image.repository),
        signature_manifest_digest: manifest_digest,
        signature_count: layers.len(),
        added: !duplicate,
    })
}

fn signature_of(layer: &SigDescriptor) -> Option<&str> {
    layer
        .annotations
        .as_ref()?
        .get(SIGNATURE_ANNOTATION)
        .map(String::as_str)
}

fn existing_signature_layers(repo: &Repository, tag: &str) -> Result<Vec<SigDescriptor>, SignError> {
    match repo.get_manifest(tag)? {
        None => Ok(Vec::new()),
        Some((raw, _)) => {
            let manifest: SigManifest = serde_json::from_slice(&raw)
                .map_err(|e| SignError::Payload(format!("existing signature manifest {tag}: {e}")))?;
            Ok(manifest.layers)
        }
    }
}

/// Writes the config (layers are stored uncompressed, so diff IDs are the layer digests) and the manifest.
fn push_signature_manifest(repo: &Repository, tag: &str, layers: Vec<SigDescriptor>) -> Result<String, SignError> {
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let history: Vec<serde_json::Value> = layers
        .iter()
        .map(|_| serde_json::json!({ "created": ZERO_TIME }))
        .collect();
    let config = serde_json::json!({
        "architecture": "",
        "created": ZERO_TIME,
        "history": history,
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "config": {}
    });
    let config = serde_json::to_vec(&config).map_err(|e| SignError::Payload(e.to_string()))?;
    let config_digest = repo.put_blob(&config)?;
    let manifest = SigManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: SigDescriptor {
            media_type: OCI_CONFIG.to_string(),
            size: config.len() as u64,
            digest: config_digest,
            annotations: None,
        },
        layers,
        annotations: None,
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| SignError::Payload(e.to_string()))?;
    repo.put_manifest(tag, OCI_MANIFEST, &bytes)
}

/// Checks every signature layer of `reference` against `key`; succeeds with the first valid signature, fails with
/// every layer's reason when none verifies. This is the hook for `mamoru scan --require-signature`.
pub fn verify_image(reference: &str, key: &PublicKey, options: &VerifyOptions) -> Result<VerifiedSignature, SignError> {
    let report = verify_image_report(reference, key, options)?;
    if let Some(first) = report.valid().next() {
        return Ok(first.clone());
    }
    let failures = report
        .layers
        .iter()
        .filter_map(|l| match l {
            LayerVerdict::Invalid {
                layer,
                layer_digest,
                why,
            } => Some(format!("  layer {layer} ({layer_digest}): {why}")),
            LayerVerdict::Valid(_) => None,
        })
        .collect();
    Err(SignError::NoValidSignature {
        reference: reference.to_string(),
        checked: report.layers.len(),
        failures,
    })
}

/// Like [`verify_image`] but returns each layer's verdict; errors only when there is nothing to check.
pub fn verify_image_report(
    reference: &str,
    key: &PublicKey,
    options: &VerifyOptions,
) -> Result<VerifyReport, SignError> {
    let image = parse_reference(reference)?;
    let repo = Repository::new(&image, &options.auth, options.insecure)?;
    let image_digest = resolve_digest(&repo, &image, reference)?;
    let tag = signature_tag(&image_digest)?;
    let Some((raw, _)) = repo.get_manifest(&tag)? else {
        return Err(SignError::NoSignatures {
            reference: reference.to_string(),
            tag,
        });
    };
    let manifest: SigManifest =
        serde_json::from_slice(&raw).map_err(|e| SignError::Payload(format!("signature manifest {tag}: {e}")))?;
    let layers: Vec<LayerVerdict> = manifest
        .layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
        .map(
            |(i, layer)| match check_layer(&repo, layer, &image, &image_digest, key, options) {
                Ok(v) => LayerVerdict::Valid(v),
                Err(e) => LayerVerdict::Invalid {
                    layer: i,
                    layer_digest: layer.digest.clone(),
                    why: e.to_string(),
                },
            },
        )
        .collect();
    if layers.is_empty() {
        return Err(SignError::NoSignatures {
            reference: reference.to_string(),
            tag,
        });
    }
    Ok(VerifyReport {
        reference: reference.to_string(),
        image_digest,
        signature_reference: format!("{}/{}:{tag}", image.registry, image.repository),
        layers,
    })
}

fn check_layer(
    repo: &Repository,
    layer: &SigDescriptor,
    image: &Reference,
    image_digest: &str,
    key: &PublicKey,
    options: &VerifyOptions,
) -> Result<VerifiedSignature, SignError> {
    let encoded =
        signature_of(layer).ok_or_else(|| SignError::Signature(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
    let signature = B64
        .decode(encoded.trim())
        .map_err(|e| SignError::Signature(format!("annotation is not base64: {e}")))?;
    // The blob is fetched by the digest the manifest names and re-hashed, so the payload is the one listed.
    let payload_bytes = repo.get_blob(&layer.digest)?;
    key.verify(&payload_bytes, &signature)?;
    let payload = SimpleSigning::parse(&payload_bytes)?;
    if payload.digest() != image_digest {
        return Err(SignError::Payload(format!(
            "signed digest {} is not the image's digest {image_digest}",
            payload.digest()
        )));
    }
    if !options.ignore_reference && !same_repository(payload.docker_reference(), image) {
        return Err(SignError::Payload(format!(
            "signed for {:?}, not for {}",
            payload.docker_reference(),
            docker_reference(image)
        )));
    }
    Ok(VerifiedSignature {
        image_digest: image_digest.to_string(),
        docker_reference: payload.docker_reference().to_string(),
        layer_digest: layer.digest.clone(),
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cosign signature of an image (key-based, no bundle), from sigstore-rs's signature layer tests
    /// (src/cosign/signature_layers.rs, `build_correct_signature_layer_without_bundle`): the public key, the base64
    /// DER signature from the `dev.cosignproject.cosign/signature` annotation, and the payload fields. Rebuilding the
    /// payload with [`SimpleSigning`] and verifying proves both the byte layout and the signature scheme match
    /// cosign's.
    #[test]
    fn verifies_a_cosign_signature_vector() {
        const COSIGN_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----";
        const OTHER_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETJP9cqpUQsn2ggmJniWGjHdlsHzD
JsB89BPhZYch0U0hKANx5TY+ncrm0s8bfJxxHoenAEFhwhuXeb4PqIrtoQ==
-----END PUBLIC KEY-----";
        const SIGNATURE: &str =
            "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";
        let payload = SimpleSigning::new(
            "registry-testing.svc.lan/busybox",
            "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b",
            BTreeMap::new(),
        )
        .to_bytes()
        .unwrap();
        let signature = B64.decode(SIGNATURE).unwrap();
        let key = PublicKey::from_pem(COSIGN_PUB, "cosign.pub").unwrap();
        key.verify(&payload, &signature).unwrap();
        let other = PublicKey::from_pem(OTHER_PUB, "other.pub").unwrap();
        assert!(other.verify(&payload, &signature).is_err());
        let other_digest = SimpleSigning::new(
            "registry-testing.svc.lan/busybox",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            BTreeMap::new(),
        )
        .to_bytes()
        .unwrap();
        assert!(key.verify(&other_digest, &signature).is_err());
    }

    #[test]
    fn tag_and_identity_follow_cosign() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(signature_tag(&d).unwrap(), format!("sha256-{}.sig", "ab".repeat(32)));
        assert!(signature_tag("sha256:../x").is_err());
        let r = Reference::parse("localhost:5000/team/app:v1").unwrap();
        assert_eq!(docker_reference(&r), "localhost:5000/team/app");
        let hub = Reference::parse("alpine").unwrap();
        assert_eq!(docker_reference(&hub), "index.docker.io/library/alpine");
        assert!(same_repository("index.docker.io/library/alpine", &hub));
        assert!(same_repository("docker.io/library/alpine:3", &hub));
        assert!(!same_repository("index.docker.io/evil/alpine", &hub));
        assert!(same_repository("localhost:5000/team/app", &r));
        assert!(!same_repository("localhost:5001/team/app", &r));
    }
}
