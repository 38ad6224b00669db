//! [`ScapReader`]: a lending iterator over the records of a capture.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use mamoru_event::{FdRecord, InterfaceRecord, RawEvent, ThreadRecord, HEADER_LEN_V1, PPM_EVENT_MAX};

use crate::block::{self, BlockKind, EventBlock, BLOCK_OVERHEAD};
use crate::converter::{Converted, Converter, ConverterStats};
use crate::error::{BodyError, ScapError};
use crate::input::Input;
use crate::state::fdlist::parse_fdlist;
use crate::state::iflist::parse_iflist;
use crate::state::machine::{parse_machine_info, SHB_BODY_LEN};
use crate::state::proclist::parse_proclist;
use crate::state::userlist::parse_userlist;
use crate::state::{MachineInfo, SectionHeader, UserList};
use crate::v1;
use crate::wire::{le_u16, le_u32};

/// Default upper bound on one block's length: larger declared lengths are treated as corruption.
pub const DEFAULT_MAX_BLOCK_LEN: usize = 64 * 1024 * 1024;

/// How a [`ScapReader`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Blocks declaring a larger length are an error (protects against corrupt lengths).
    pub max_block_len: usize,
    /// Bring old event versions to the newest and drop enter events (see [`crate::converter`]). Default `true`.
    pub convert_old: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_block_len: DEFAULT_MAX_BLOCK_LEN,
            convert_old: true,
        }
    }
}

/// One item of a capture, in file order.
// Events are the hot path and are borrowed, not boxed: boxing would allocate per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Record<'a> {
    /// Start of a capture section (every capture has at least one).
    Section(SectionHeader),
    MachineInfo(MachineInfo),
    Interfaces(Vec<InterfaceRecord>),
    Users(UserList),
    /// One process list block. `fds` of each thread is empty: descriptors come in [`Record::Fds`].
    Threads(Vec<ThreadRecord>),
    /// The descriptors open in thread `tid` when capturing started.
    Fds {
        tid: i64,
        fds: Vec<FdRecord>,
    },
    /// An event, in the V2 layout, borrowed from the reader's buffer until the next call.
    Event {
        cpu: u16,
        /// Present for event blocks that carry flags (`EVF*` blocks).
        flags: Option<u32>,
        event: RawEvent<'a>,
    },
}

/// Counters of what the reader saw and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    pub blocks: u64,
    /// Events delivered.
    pub events: u64,
    /// Blocks of unknown type, skipped.
    pub unknown_blocks: u64,
    /// Events of types beyond this build's event table, skipped.
    pub unknown_event_types: u64,
    /// What the converter did (all zero with `convert_old: false`).
    pub converter: ConverterStats,
}

/// Where the event to deliver lives.
enum EventSrc {
    /// In the block buffer, starting at this offset.
    Block(usize),
    /// In the V1 upgrade buffer.
    Upgraded,
    /// In the converter's output.
    Converted,
}

/// Reads a scap capture (plain or gzip) record by record.
///
/// ```no_run
/// use mamoru_scap::{Record, ScapReader};
/// let mut r = ScapReader::open("capture.scap")?;
/// while let Some(rec) = r.next_record()? {
///     if let Record::Event { event, .. } = rec {
///         println!("{} {}", event.ts, event.name());
///     }
/// }
/// # Ok::<(), mamoru_scap::ScapError>(())
/// ```
pub struct ScapReader<R: Read> {
    input: Input<R>,
    opts: ReaderOptions,
    /// Offset of the next unread byte in the (uncompressed) stream.
    pos: u64,
    /// Body of the current block (everything after the 8-byte header, trailer included).
    block: Vec<u8>,
    upgraded: Vec<u8>,
    converter: Option<Converter>,
    stats: ReaderStats,
    seen_section: bool,
    finished: bool,
    warned_block_types: HashSet<u32>,
}

impl ScapReader<File> {
    /// Opens a capture file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ScapError> {
        Self::open_with(path, ReaderOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, opts: ReaderOptions) -> Result<Self, ScapError> {
        let file = File::open(path.as_ref()).map_err(|source| ScapError::Io { offset: 0, source })?;
        ScapReader::with_options(file, opts)
    }
}

impl<R: Read> ScapReader<R> {
    /// Reads a capture from any byte source; gzip is detected and inflated.
    pub fn new(inner: R) -> Result<Self, ScapError> {
        Self::with_options(inner, ReaderOptions::default())
    }

    pub fn with_options(inner: R, opts: ReaderOptions) -> Result<Self, ScapError> {
        let input = Input::detect(inner).map_err(|source| ScapError::Io { offset: 0, source })?;
        Ok(ScapReader {
            input,
            opts,
            pos: 0,
            block: Vec::new(),
            upgraded: Vec::new(),
            converter: opts.convert_old.then(Converter::new),
            stats: ReaderStats::default(),
            seen_section: false,
            finished: false,
            warned_block_types: HashSet::new(),
        })
    }

    /// Whether the input was gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.input.is_gzip()
    }

    pub fn stats(&self) -> ReaderStats {
        let mut s = self.stats;
        if let Some(c) = &self.converter {
            s.converter = c.stats();
        }
        s
    }

    /// Offset in the uncompressed stream of the next block to be read.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The next record; `Ok(None)` at the end of the capture. After an error the reader stays at its end.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, ScapError> {
        if self.finished {
            return Ok(None);
        }
        match self.advance() {
            Ok(Step::Done) => {
                self.finished = true;
                Ok(None)
            }
            Ok(Step::Owned(rec)) => Ok(Some(rec.into_record())),
            Ok(Step::Event { src, cpu, flags }) => {
                let bytes: &[u8] = match src {
                    EventSrc::Block(at) => &self.block[at..],
                    EventSrc::Upgraded => &self.upgraded,
                    EventSrc::Converted => self.converter.as_ref().map_or(&[][..], Converter::rewritten),
                };
                let event = RawEvent::parse(bytes, cpu).map_err(|source| ScapError::Event {
                    offset: self.pos,
                    source,
                })?;
                self.stats.events += 1;
                Ok(Some(Record::Event { cpu, flags, event }))
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    fn advance(&mut self) -> Result<Step, ScapError> {
        loop {
            let Some((btype, offset)) = self.read_block()? else {
                return Ok(Step::Done);
            };
            let body_len = self.block.len() - 4;
            let kind = BlockKind::of(btype);
            let corrupt = |what: &'static str, e: BodyError| ScapError::Corrupt {
                offset: offset + 8 + e.at as u64,
                block_type: btype,
                what,
                reason: e.reason,
            };
            let body = &self.block[..body_len];
            let owned = match kind {
                BlockKind::Section => {
                    let sh = parse_section(offset, body)?;
                    self.seen_section = true;
                    if let Some(c) = &mut self.converter {
                        c.reset();
                    }
                    OwnedRecord::Section(sh)
                }
                BlockKind::MachineInfo => {
                    OwnedRecord::MachineInfo(parse_machine_info(body).map_err(|e| corrupt("machine info", e))?)
                }
                BlockKind::ProcList(v) => {
                    OwnedRecord::Threads(parse_proclist(body, v).map_err(|e| corrupt("process list", e))?)
                }
                BlockKind::FdList(v2) => {
                    let (tid, fds) = parse_fdlist(body, v2).map_err(|e| corrupt("fd list", e))?;
                    OwnedRecord::Fds { tid, fds }
                }
                BlockKind::InterfaceList(v2) => {
                    OwnedRecord::Interfaces(parse_iflist(body, v2).map_err(|e| corrupt("interface list", e))?)
                }
                BlockKind::UserList(v2) => {
                    OwnedRecord::Users(parse_userlist(body, v2).map_err(|e| corrupt("user list", e))?)
                }
                BlockKind::Event(eb) => match self.event_in_block(offset, btype, eb)? {
                    Some(step) => return Ok(step),
                    None => continue,
                },
                BlockKind::Unknown => {
                    self.stats.unknown_blocks += 1;
                    if self.warned_block_types.insert(btype) {
                        tracing::warn!(
                            target: "mamoru_scap::reader",
                            block_type = format_args!("{btype:#x}"),
                            offset,
                            "skipping block of unknown type (further blocks of this type are skipped silently)"
                        );
                    }
                    continue;
                }
            };
            return Ok(Step::Owned(owned));
        }
    }

    /// Reads the next block into `self.block`; returns its type and offset, or `None` at a clean end of input.
    fn read_block(&mut self) -> Result<Option<(u32, u64)>, ScapError> {
        let offset = self.pos;
        let mut hdr = [0u8; 8];
        let n = self
            .input
            .read_full(&mut hdr)
            .map_err(|source| ScapError::Io { offset, source })?;
        if n == 0 {
            if !self.seen_section {
                return Err(ScapError::NotScap {
                    offset,
                    reason: "the input is empty".into(),
                });
            }
            return Ok(None);
        }
        if n < hdr.len() {
            return Err(ScapError::Truncated {
                offset,
                what: "block header",
                need: 8,
                have: n as u64,
            });
        }
        let btype = le_u32(&hdr, 0);
        let len = le_u32(&hdr, 4) as usize;
        if !self.seen_section && btype != block::SHB {
            return Err(ScapError::NotScap {
                offset,
                reason: format!("the first block has type {btype:#x}, not a section header"),
            });
        }
        let bad_len = |reason: String| ScapError::BadBlockLength {
            offset,
            block_type: btype,
            len: len as u64,
            reason,
        };
        if len < BLOCK_OVERHEAD {
            return Err(bad_len(format!("shorter than the {BLOCK_OVERHEAD}-byte minimum")));
        }
        if len > self.opts.max_block_len {
            return Err(bad_len(format!("over the {}-byte limit", self.opts.max_block_len)));
        }
        let body_len = len - 8;
        // Grow with the data actually present, so a corrupt length in a short file costs no large allocation.
        self.block.clear();
        let got = match (&mut self.input).take(body_len as u64).read_to_end(&mut self.block) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => self.block.len(),
            Err(source) => {
                return Err(ScapError::Io {
                    offset: offset + 8,
                    source,
                })
            }
        };
        self.pos += 8 + got as u64;
        if got < body_len {
            return Err(ScapError::Truncated {
                offset,
                what: "block",
                need: len as u64,
                have: 8 + got as u64,
            });
        }
        self.stats.blocks += 1;
        let trailer = le_u32(&self.block, body_len - 4) as usize;
        // Like libscap, only state blocks have their trailer checked; event blocks are read by their header.
        if trailer != len && !matches!(BlockKind::of(btype), BlockKind::Event(_) | BlockKind::Unknown) {
            return Err(bad_len(format!("but its trailer says {trailer}")));
        }
        Ok(Some((btype, offset)))
    }
}

fn parse_section(offset: u64, body: &[u8]) -> Result<SectionHeader, ScapError> {
    if body.len() < SHB_BODY_LEN {
        return Err(ScapError::NotScap {
            offset,
            reason: format!("section header body of {} bytes is too short", body.len()),
        });
    }
    let magic = le_u32(body, 0);
    if magic != block::SHB_MAGIC {
        let reason = if magic.swap_bytes() == block::SHB_MAGIC {
            "big-endian captures are not supported".to_string()
        } else {
            format!("bad byte-order magic {magic:#010x}")
        };
        return Err(ScapError::NotScap {
            offset: offset + 8,
            reason,
        });
    }
    let major = le_u16(body, 4);
    let minor = le_u16(body, 6);
    if major != 1 {
        return Err(ScapError::UnsupportedVersion { offset, major, minor });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&body[8..16]);
    // Anything after the fixed part is pcapng options (e.g. comments); they carry nothing we use.
    Ok(SectionHeader {
        major,
        minor,
        section_length: u64::from_le_bytes(len),
    })
}

impl<R: Read> ScapReader<R> {
    /// Decodes the event of an event block; `None` when it is skipped (unknown type or dropped by the converter).
    fn event_in_block(&mut self, offset: u64, btype: u32, eb: EventBlock) -> Result<Option<Step>, ScapError> {
        let body_len = self.block.len() - 4;
        let head = 2 + if eb.has_flags { 4 } else { 0 };
        let hdr_len = if eb.v2 {
            mamoru_event::HEADER_LEN_V2
        } else {
            HEADER_LEN_V1
        };
        if body_len < head + hdr_len {
            return Err(ScapError::BadBlockLength {
                offset,
                block_type: btype,
                len: (body_len + BLOCK_OVERHEAD) as u64,
                reason: "too short for an event".into(),
            });
        }
        let cpu = le_u16(&self.block, 0);
        let flags = eb.has_flags.then(|| le_u32(&self.block, 2));
        let etype = le_u16(&self.block, head + 20);
        if etype >= PPM_EVENT_MAX {
            // A capture from a newer driver: like libscap, skip what we cannot describe.
            self.stats.unknown_event_types += 1;
            return Ok(None);
        }
        let ev_offset = offset + 8 + head as u64;
        let src = if eb.v2 {
            EventSrc::Block(head)
        } else {
            v1::upgrade(&self.block[head..body_len], &mut self.upgraded).map_err(|e| ScapError::Corrupt {
                offset: ev_offset,
                block_type: btype,
                what: "event",
                reason: e.to_string(),
            })?;
            EventSrc::Upgraded
        };
        let bytes: &[u8] = match src {
            EventSrc::Block(at) => &self.block[at..body_len],
            _ => &self.upgraded,
        };
        let event = RawEvent::parse(bytes, cpu).map_err(|source| ScapError::Event {
            offset: ev_offset,
            source,
        })?;
        let src = match &mut self.converter {
            None => src,
            Some(conv) => match conv.convert(&event).map_err(|e| ScapError::Conversion {
                offset: ev_offset,
                etype,
                reason: e.reason,
            })? {
                Converted::Unchanged => src,
                Converted::Rewritten => EventSrc::Converted,
                Converted::Dropped => return Ok(None),
            },
        };
        Ok(Some(Step::Event { src, cpu, flags }))
    }
}

enum Step {
    Done,
    Owned(OwnedRecord),
    Event {
        src: EventSrc,
        cpu: u16,
        flags: Option<u32>,
    },
}

/// The records that do not borrow from the reader.
enum OwnedRecord {
    Section(SectionHeader),
    MachineInfo(MachineInfo),
    Interfaces(Vec<InterfaceRecord>),
    Users(UserList),
    Threads(Vec<ThreadRecord>),
    Fds { tid: i64, fds: Vec<FdRecord> },
}

impl OwnedRecord {
    fn into_record<'a>(self) -> Record<'a> {
        match self {
            OwnedRecord::Section(s) => Record::Section(s),
            OwnedRecord::MachineInfo(m) => Record::MachineInfo(m),
            OwnedRecord::Interfaces(i) => Record::Interfaces(i),
            OwnedRecord::Users(u) => Record::Users(u),
            OwnedRecord::Threads(t) => Record::Threads(t),
            OwnedRecord::Fds { tid, fds } => Record::Fds { tid, fds },
        }
    }
}
