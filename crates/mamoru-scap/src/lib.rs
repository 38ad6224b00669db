//! Capture files in the scap format of sysdig and Falco: a reader, a writer, and the converter that brings old
//! captures to the newest event versions.
//!
//! A capture is a pcapng-like stream of blocks, optionally gzip-compressed as a whole: a section header, state blocks
//! describing the machine, its interfaces, users and groups, threads and their open file descriptors when capturing
//! started, then one block per event. [`ScapReader`] reads any `Read` (gzip is detected) or a path, and yields
//! [`Record`]s through a lending iterator, [`ScapReader::next_record`]: state blocks as owned records
//! ([`mamoru_event::ThreadRecord`], [`mamoru_event::FdRecord`], ...), events as [`mamoru_event::RawEvent`]s borrowed
//! from the reader's buffer (no allocation per event once the buffers have grown). Every block type and layout
//! libscap has written is understood: process lists v1 to v9, fd, interface and user lists v1 and v2, event blocks
//! with the legacy 22-byte event header (parameter count recovered from the event length, as libscap does), V2 and
//! large-payload blocks, with or without flags, and the pre-release block numbers. Unknown block types and event types
//! beyond this build's event table are skipped and counted ([`ReaderStats`]). Block lengths are bounded
//! ([`ReaderOptions::max_block_len`], 64 MiB by default); damage is an error naming its byte offset in the
//! uncompressed stream, and everything read before it has been delivered.
//!
//! **Conversion** (on by default, [`ReaderOptions::convert_old`]) follows libscap's savefile converter and its table
//! (`data/converter-table.txt`): enter events are remembered per thread and dropped; the next exit event of the same
//! syscall on that thread is rewritten to the newest event version with every parameter, those recorded only in the
//! enter event taken from it, the others left empty or at their default as the table says. Old enter-event versions
//! without a successor and unused event types are dropped. Passed through unchanged: events already in their newest
//! version, events with more parameters than this build knows, and non-syscall events (`switch`, `procexit`,
//! `procinfo`, container, plugin, async and user/group events, ...). See [`converter`] for the two places where
//! mamoru is more lenient than libscap.
//!
//! [`ScapWriter`] writes a section header (format 1.2), machine info, interface, user, process (v9) and fd (v2) list
//! blocks and V2 event blocks, optionally gzip-compressed. It takes events in the V2 layout, as the sensor and the
//! reader produce them. With [`Compat::Sysdig029`] (the default) the output is also read correctly by Debian's
//! sysdig 0.29.3, which predates the converter: enter events are re-created and events are written in the shortest
//! or oldest form that conversion turns back into them (see [`Compat`]); mamoru's reader, and current libscap, read
//! back exactly the events that were written.

mod block;
mod compat;
pub mod converter;
mod convtable;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod input;
mod reader;
mod state;
mod v1;
mod wire;
mod writer;

pub use compat::{Compat, SYSDIG_0_29_EVENT_MAX};
pub use converter::{ConvertError, Converted, Converter, ConverterStats};
pub use error::ScapError;
pub use reader::{ReaderOptions, ReaderStats, Record, ScapReader, DEFAULT_MAX_BLOCK_LEN};
pub use state::{MachineInfo, SectionHeader, UserList};
pub use writer::{ScapWriter, WriterOptions};
