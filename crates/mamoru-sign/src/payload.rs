//! The simple-signing payload cosign signs: which image (by manifest digest) and which repository it was signed for.

use crate::error::SignError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `type` cosign writes and expects.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// `{"critical":{...},"optional":...}` — field order and `null` optional match cosign's output byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    /// Free-form annotations (`cosign sign -a key=value`); `null` when none, as cosign writes it.
    #[serde(default)]
    pub optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: ImageId,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageId {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// The payload for an image of `docker_reference` (repository, no tag) with manifest `digest`.
    pub fn new(docker_reference: &str, digest: &str, annotations: BTreeMap<String, serde_json::Value>) -> Self {
        SimpleSigning {
            critical: Critical {
                identity: Identity {
                    docker_reference: docker_reference.to_string(),
                },
                image: ImageId {
                    docker_manifest_digest: digest.to_string(),
                },
                kind: COSIGN_SIGNATURE_TYPE.to_string(),
            },
            optional: (!annotations.is_empty()).then_some(annotations),
        }
    }

    /// The exact bytes that get signed and stored as the signature layer.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SignError> {
        serde_json::to_vec(self).map_err(|e| SignError::Payload(format!("cannot encode: {e}")))
    }

    /// Parses a payload, refusing any `type` other than cosign's image signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, SignError> {
        let payload: SimpleSigning = serde_json::from_slice(bytes)
            .map_err(|e| SignError::Payload(format!("not a simple-signing document: {e}")))?;
        if payload.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(SignError::Payload(format!(
                "type is {:?}, expected {COSIGN_SIGNATURE_TYPE:?}",
                payload.critical.kind
            )));
        }
        Ok(payload)
    }

    pub fn digest(&self) -> &str {
        &self.critical.image.docker_manifest_digest
    }

    pub fn docker_reference(&self) -> &str {
        &self.critical.identity.docker_reference
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_match_cosign_layout() {
        let p = SimpleSigning::new("localhost:5000/app", "sha256:abc", BTreeMap::new());
        let text = String::from_utf8(p.to_bytes().unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"critical":{"identity":{"docker-reference":"localhost:5000/app"},"image":{"docker-manifest-digest":"sha256:abc"},"type":"cosign container image signature"},"optional":null}"#
        );
        assert_eq!(SimpleSigning::parse(text.as_bytes()).unwrap(), p);
    }

    #[test]
    fn annotations_go_to_optional() {
        let mut a = BTreeMap::new();
        a.insert("team".to_string(), serde_json::Value::from("blue"));
        let p = SimpleSigning::new("r/a", "sha256:abc", a);
        let text = String::from_utf8(p.to_bytes().unwrap()).unwrap();
        assert!(text.ends_with(r#""optional":{"team":"blue"}}"#), "{text}");
    }

    #[test]
    fn wrong_type_and_garbage_are_refused() {
        let other = br#"{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:a"},"type":"atomic container signature"},"optional":null}"#;
        assert!(SimpleSigning::parse(other).is_err());
        assert!(SimpleSigning::parse(b"not json").is_err());
        assert!(SimpleSigning::parse(br#"{"critical":{}}"#).is_err());
    }
}
