//! Framing input bytes into records with `mamoru_records`, counting and logging every rejected record with the
//! byte offset where it starts, and streaming large inputs in bounded chunks.

use crate::metrics::SourceMetrics;
use mamoru_records::{Limits, Record, RecordError, RecordReader, RecordSource};
use std::io::Read;
use tokio::sync::mpsc;

/// Records of one input, framed in order; `next_index` counts the good records of the input through this chunk.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub records: Vec<Record>,
    pub next_index: u64,
}

/// Logs and counts a record the framer rejected. `base_offset` is added to the error's offset when the framed
/// bytes are a slice of a longer input (a tailed file).
pub(crate) fn reject(metrics: &SourceMetrics, source: RecordSource, e: &RecordError, base_offset: u64) {
    let (reason, at) = match e {
        RecordError::Malformed { at, .. } => ("malformed", Some(at)),
        RecordError::TooLarge { at, .. } => ("too_large", Some(at)),
        RecordError::Unrecognized { at, .. } => ("unrecognized", Some(at)),
        RecordError::InputTooLarge { .. } => ("input_too_large", None),
        RecordError::Read { .. } | RecordError::Open { .. } => ("io", None),
    };
    metrics.error(reason);
    match at {
        Some(at) => tracing::warn!(
            %source,
            file = %at.file,
            offset = at.offset + base_offset,
            error = %e,
            "record rejected"
        ),
        None => tracing::warn!(%source, error = %e, "input rejected"),
    }
}

/// Frames the whole of `bytes` (a webhook body, a spooled delivery, a block of tailed lines).
pub(crate) fn frame_bytes(
    name: &str,
    bytes: Vec<u8>,
    source: RecordSource,
    limits: Limits,
    metrics: &SourceMetrics,
    base_offset: u64,
) -> Vec<Record> {
    let reader = match RecordReader::from_reader(name, std::io::Cursor::new(bytes), source, limits) {
        Ok(r) => r,
        Err(e) => {
            reject(metrics, source, &e, base_offset);
            return Vec::new();
        }
    };
    let mut records = Vec::new();
    for item in reader {
        match item {
            Ok(r) => records.push(r),
            Err(e) => reject(metrics, source, &e, base_offset),
        }
    }
    records
}

/// Streams the records of `input` on a blocking thread in chunks of at most `chunk_size`, skipping the first
/// `skip` good records (already committed before a restart). At most one chunk waits in the channel, so memory
/// stays bounded whatever the input's size.
pub(crate) fn stream_records(
    name: String,
    input: Box<dyn Read + Send>,
    source: RecordSource,
    limits: Limits,
    skip: u64,
    chunk_size: usize,
    metrics: SourceMetrics,
) -> mpsc::Receiver<Chunk> {
    let (tx, rx) = mpsc::channel(1);
    tokio::task::spawn_blocking(move || {
        let reader = match RecordReader::from_reader(&name, input, source, limits) {
            Ok(r) => r,
            Err(e) => return reject(&metrics, source, &e, 0),
        };
        let mut index = 0u64;
        let mut records = Vec::with_capacity(chunk_size.min(4096));
        for item in reader {
            match item {
                Ok(_) if index < skip => index += 1,
                Ok(r) => {
                    index += 1;
                    records.push(r);
                    if records.len() >= chunk_size {
                        let chunk = Chunk {
                            records: std::mem::take(&mut records),
                            next_index: index,
                        };
                        if tx.blocking_send(chunk).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => reject(&metrics, source, &e, 0),
            }
        }
        // The final chunk may be empty: it still tells the consumer how many records the input held.
        let _ = tx.blocking_send(Chunk {
            records,
            next_index: index,
        });
    });
    rx
}

/// Newest event time of `records`.
pub(crate) fn newest_ts(records: &[Record]) -> Option<u64> {
    records.iter().map(|r| r.ts_ns).max()
}
