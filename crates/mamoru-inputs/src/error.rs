//! Errors of the live inputs.

use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Why a source could not start or had to stop.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: io::Error },
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("HTTP client: {0}")]
    Http(String),
    #[error("cursor {path}: {msg}")]
    Cursor { path: PathBuf, msg: String },
    #[error("the evaluator stopped before committing a batch")]
    SinkClosed,
}

impl InputError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> InputError {
        InputError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = InputError> = std::result::Result<T, E>;
