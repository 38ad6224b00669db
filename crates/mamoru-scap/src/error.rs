//! Errors of the capture reader, writer and converter.

use mamoru_event::EventError;
use thiserror::Error;

/// Why a capture could not be read or written.
///
/// Reader offsets are byte offsets into the *uncompressed* block stream (for a gzip file, the offset the same byte has
/// after `gunzip`), so `dd skip=OFFSET` on the inflated file lands on the problem.
#[derive(Debug, Error)]
pub enum ScapError {
    #[error("I/O error at byte offset {offset}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("not a scap capture: {reason} (byte offset {offset})")]
    NotScap { offset: u64, reason: String },
    #[error("capture section at byte offset {offset} has format version {major}.{minor}; this reader supports 1.x")]
    UnsupportedVersion { offset: u64, major: u16, minor: u16 },
    #[error("capture truncated at byte offset {offset}: {what} needs {need} bytes but the input ends after {have}")]
    Truncated {
        offset: u64,
        what: &'static str,
        need: u64,
        have: u64,
    },
    #[error("block of type {block_type:#x} at byte offset {offset} declares length {len}, {reason}")]
    BadBlockLength {
        offset: u64,
        block_type: u32,
        len: u64,
        reason: String,
    },
    #[error("corrupt {what} block (type {block_type:#x}) at byte offset {offset}: {reason}")]
    Corrupt {
        offset: u64,
        block_type: u32,
        what: &'static str,
        reason: String,
    },
    #[error("bad event in block at byte offset {offset}: {source}")]
    Event {
        offset: u64,
        #[source]
        source: EventError,
    },
    #[error("cannot convert event of type {etype} at byte offset {offset}: {reason}")]
    Conversion { offset: u64, etype: u16, reason: String },
    #[error("cannot write {what}: {reason}")]
    Write { what: &'static str, reason: String },
}

impl ScapError {
    /// The byte offset the error refers to, when it concerns a position in the input.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ScapError::Io { offset, .. }
            | ScapError::NotScap { offset, .. }
            | ScapError::UnsupportedVersion { offset, .. }
            | ScapError::Truncated { offset, .. }
            | ScapError::BadBlockLength { offset, .. }
            | ScapError::Corrupt { offset, .. }
            | ScapError::Event { offset, .. }
            | ScapError::Conversion { offset, .. } => Some(*offset),
            ScapError::Write { .. } => None,
        }
    }
}

/// A parse failure inside one block body, relative to the start of that body; the reader turns it into a
/// [`ScapError::Corrupt`] with an absolute offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BodyError {
    /// Offset within the block body where the problem was found.
    pub at: usize,
    pub reason: String,
}

impl BodyError {
    pub(crate) fn new(at: usize, reason: impl Into<String>) -> Self {
        BodyError {
            at,
            reason: reason.into(),
        }
    }
}
