//! The function fuzz targets run (`fuzz/fuzz_targets/read_scap.rs` and the stable mutation runner in
//! `tests/fuzz_stable.rs`): read arbitrary bytes as a capture in both modes and push every record read through
//! the writer and back. It must return normally for every input.

use std::io::Cursor;

use crate::{Compat, ReaderOptions, ScapReader, ScapWriter, WriterOptions};

/// Reads `data` as a capture with and without conversion, writes what was read with both compatibility settings,
/// and reads the written captures back. Errors are expected; panics are bugs.
pub fn read_everything(data: &[u8]) {
    for convert_old in [true, false] {
        let opts = ReaderOptions {
            convert_old,
            // Keep allocations small whatever lengths the input claims.
            max_block_len: 1 << 20,
        };
        let Ok(mut reader) = ScapReader::with_options(Cursor::new(data), opts) else {
            continue;
        };
        let writers = [Compat::Sysdig029, Compat::Current]
            .map(|compat| ScapWriter::new(Vec::new(), WriterOptions { gzip: false, compat }).ok());
        let mut writers = writers;
        while let Ok(Some(rec)) = reader.next_record() {
            for w in writers.iter_mut().flatten() {
                // A record that cannot be written is an error, not a panic; either is fine here.
                let _ = w.write_record(&rec);
            }
        }
        for w in writers.into_iter().flatten() {
            if let Ok(bytes) = w.finish() {
                if let Ok(mut back) = ScapReader::with_options(Cursor::new(bytes), opts) {
                    while let Ok(Some(_)) = back.next_record() {}
                }
            }
        }
    }
}
