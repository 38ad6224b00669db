//! Errors of image reading.

use std::path::PathBuf;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: invalid JSON: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Format(String),
    #[error("blob {digest} not found in {place}")]
    BlobNotFound { digest: String, place: String },
    #[error("blob {digest}: content hashes to {actual}")]
    DigestMismatch { digest: String, actual: String },
    #[error("invalid image reference {reference:?}: {why}")]
    Reference { reference: String, why: String },
    #[error("no manifest for platform {platform} in index (available: {available})")]
    NoPlatform { platform: String, available: String },
    #[error("registry {registry}: {why}")]
    Registry { registry: String, why: String },
    #[error("layer walk stopped by the visitor: {0}")]
    Visitor(String),
}

impl OciError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OciError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        OciError::Json {
            what: what.into(),
            source,
        }
    }
}
