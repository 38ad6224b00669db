//! Errors of signing and verification.

use mamoru_oci::OciError;

/// Why a key could not be read, an image could not be signed, or a signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {why}")]
    Key { what: String, why: String },
    #[error("wrong password for {0} (or the key file is corrupt)")]
    WrongPassword(String),
    #[error("{0}")]
    Oci(#[from] OciError),
    #[error("registry {registry}: {why}")]
    Registry { registry: String, why: String },
    #[error("{reference}: no signatures found (no {tag} in the registry)")]
    NoSignatures { reference: String, tag: String },
    #[error("{reference}: no valid signature among {checked} checked:\n{}", .failures.join("\n"))]
    NoValidSignature {
        reference: String,
        checked: usize,
        failures: Vec<String>,
    },
    #[error("signature: {0}")]
    Signature(String),
    #[error("payload: {0}")]
    Payload(String),
}

impl SignError {
    pub(crate) fn key(what: impl Into<String>, why: impl std::fmt::Display) -> Self {
        SignError::Key {
            what: what.into(),
            why: why.to_string(),
        }
    }
}
