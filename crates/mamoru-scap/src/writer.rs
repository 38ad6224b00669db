//! [`ScapWriter`]: writes captures that mamoru and Debian's sysdig 0.29.3 both read.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use mamoru_event::{FdRecord, GroupRecord, InterfaceRecord, RawEvent, ThreadRecord, UserRecord};

use crate::block::{self, padded, BLOCK_OVERHEAD};
use crate::compat::{Compat, Downgrader};
use crate::error::ScapError;
use crate::reader::Record;
use crate::state::fdlist::encode_fdlist;
use crate::state::iflist::encode_iflist;
use crate::state::machine::encode_machine_info;
use crate::state::proclist::encode_proclist;
use crate::state::userlist::encode_userlist;
use crate::state::MachineInfo;

/// Section header version written: 1.2, the current libscap format version.
const MAJOR: u16 = 1;
const MINOR: u16 = 2;

/// How a [`ScapWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterOptions {
    /// Compress the whole stream with gzip (as `sysdig -z` does).
    pub gzip: bool,
    /// Which readers the file must satisfy; see [`Compat`].
    pub compat: Compat,
}

enum Sink<W: Write> {
    Plain(W),
    // Boxed: the encoder state is ~225 bytes; one allocation per capture file.
    Gzip(Box<GzEncoder<W>>),
}

impl<W: Write> Sink<W> {
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(b),
            Sink::Gzip(w) => w.write_all(b),
        }
    }
}

/// Writes a capture: a section header first, then state blocks and events in the order they are given.
///
/// Event blocks use the V2 layout (`EV_V2`, `EVF_V2`, and their `_LARGE` variants for large-payload event types);
/// state blocks use process list v9, fd list v2, interface list v2 and user list v2, which is what libscap writes
/// today and what sysdig 0.29.3 reads. With [`Compat::Sysdig029`] (the default) events are additionally adjusted so
/// that sysdig 0.29.3 decodes them like the original; see [`Compat`].
pub struct ScapWriter<W: Write> {
    sink: Sink<W>,
    opts: WriterOptions,
    buf: Vec<u8>,
    downgrader: Downgrader,
    events: u64,
    /// Thread ids written in process lists (sysdig 0.29 rejects fd lists of other threads).
    threads: std::collections::HashSet<i64>,
}

impl<W: Write> ScapWriter<W> {
    /// Starts a capture on `out` and writes its section header.
    pub fn new(out: W, opts: WriterOptions) -> Result<Self, ScapError> {
        let sink = if opts.gzip {
            Sink::Gzip(Box::new(GzEncoder::new(out, Compression::default())))
        } else {
            Sink::Plain(out)
        };
        let mut w = ScapWriter {
            sink,
            opts,
            buf: Vec::new(),
            downgrader: Downgrader::new(opts.compat),
            events: 0,
            threads: std::collections::HashSet::new(),
        };
        w.write_block(block::SHB, "section header", |b| {
            b.extend_from_slice(&block::SHB_MAGIC.to_le_bytes());
            b.extend_from_slice(&MAJOR.to_le_bytes());
            b.extend_from_slice(&MINOR.to_le_bytes());
            b.extend_from_slice(&u64::MAX.to_le_bytes());
        })?;
        Ok(w)
    }

    pub fn options(&self) -> WriterOptions {
        self.opts
    }

    /// Events written so far (after compatibility adjustments, which may add or drop events).
    pub fn events_written(&self) -> u64 {
        self.events
    }

    pub fn write_machine_info(&mut self, mi: &MachineInfo) -> Result<(), ScapError> {
        self.write_block(block::MI, "machine info", |b| encode_machine_info(mi, b))
    }

    pub fn write_interfaces(&mut self, ifs: &[InterfaceRecord]) -> Result<(), ScapError> {
        self.write_block(block::IL_V2, "interface list", |b| encode_iflist(ifs, b))
    }

    pub fn write_users(&mut self, users: &[UserRecord], groups: &[GroupRecord]) -> Result<(), ScapError> {
        self.write_block(block::UL_V2, "user list", |b| encode_userlist(users, groups, b))
    }

    /// Writes a process list block, then an fd list block for every thread that has descriptors.
    pub fn write_threads(&mut self, threads: &[ThreadRecord]) -> Result<(), ScapError> {
        if threads.is_empty() {
            return Ok(());
        }
        self.write_block(block::PL_V9, "process list", |b| encode_proclist(threads, b))?;
        self.threads.extend(threads.iter().map(|t| t.tid));
        for t in threads.iter().filter(|t| !t.fds.is_empty()) {
            self.write_fds(t.tid, &t.fds)?;
        }
        Ok(())
    }

    /// Writes the descriptors of thread `tid`. With [`Compat::Sysdig029`] the thread must have been written with
    /// [`Self::write_threads`] before: sysdig 0.29 refuses a capture with an fd list of an unknown thread.
    pub fn write_fds(&mut self, tid: i64, fds: &[FdRecord]) -> Result<(), ScapError> {
        if self.opts.compat == Compat::Sysdig029 && !self.threads.contains(&tid) {
            return Err(ScapError::Write {
                what: "fd list",
                reason: format!(
                    "thread {tid} is in no process list written before (sysdig 0.29 would reject the file)"
                ),
            });
        }
        let max_fd_type = self.opts.compat.max_fd_type();
        self.write_block(block::FDL_V2, "fd list", |b| encode_fdlist(tid, fds, max_fd_type, b))
    }

    /// Writes an event given in the V2 layout (as the sensor and [`crate::ScapReader`] produce it).
    pub fn write_event(&mut self, cpu: u16, event: &RawEvent<'_>) -> Result<(), ScapError> {
        self.write_event_with_flags(cpu, None, event)
    }

    /// Writes an event with block flags (`EVF*` blocks) when `flags` is given.
    pub fn write_event_with_flags(
        &mut self,
        cpu: u16,
        flags: Option<u32>,
        event: &RawEvent<'_>,
    ) -> Result<(), ScapError> {
        let mut dg = std::mem::take(&mut self.downgrader);
        let result = dg.adjust(event, |ev| self.write_event_block(cpu, flags, ev));
        self.downgrader = dg;
        result
    }

    /// Writes whatever a reader produced.
    pub fn write_record(&mut self, rec: &Record<'_>) -> Result<(), ScapError> {
        match rec {
            // The writer's own section header is already out; a new section in the input continues in this one.
            Record::Section(_) => Ok(()),
            Record::MachineInfo(mi) => self.write_machine_info(mi),
            Record::Interfaces(ifs) => self.write_interfaces(ifs),
            Record::Users(u) => self.write_users(&u.users, &u.groups),
            Record::Threads(t) => self.write_threads(t),
            Record::Fds { tid, fds } => self.write_fds(*tid, fds),
            Record::Event { cpu, flags, event } => self.write_event_with_flags(*cpu, *flags, event),
        }
    }

    /// Flushes (and finishes the gzip stream) and returns the underlying writer.
    pub fn finish(self) -> Result<W, ScapError> {
        let io = |e: std::io::Error| ScapError::Write {
            what: "end of capture",
            reason: e.to_string(),
        };
        match self.sink {
            Sink::Plain(mut w) => {
                w.flush().map_err(io)?;
                Ok(w)
            }
            Sink::Gzip(g) => {
                let mut w = g.finish().map_err(io)?;
                w.flush().map_err(io)?;
                Ok(w)
            }
        }
    }

    fn write_event_block(&mut self, cpu: u16, flags: Option<u32>, ev: &[u8]) -> Result<(), ScapError> {
        let large = mamoru_event::event_info(crate::wire::le_u16(ev, 20)).is_some_and(|i| i.large_payload());
        let btype = match (flags.is_some(), large) {
            (false, false) => block::EV_V2,
            (false, true) => block::EV_V2_LARGE,
            (true, false) => block::EVF_V2,
            (true, true) => block::EVF_V2_LARGE,
        };
        self.events += 1;
        self.write_block(btype, "event", |b| {
            b.extend_from_slice(&cpu.to_le_bytes());
            if let Some(f) = flags {
                b.extend_from_slice(&f.to_le_bytes());
            }
            b.extend_from_slice(ev);
        })
    }

    /// Frames a block: header, body (built by `fill`), padding to 4 bytes, trailing length.
    fn write_block(
        &mut self,
        btype: u32,
        what: &'static str,
        fill: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), ScapError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.extend_from_slice(&btype.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        fill(&mut buf);
        let total = padded(buf.len()) + 4;
        if total > u32::MAX as usize {
            self.buf = buf;
            return Err(ScapError::Write {
                what,
                reason: format!("block of {total} bytes exceeds the format's 4 GiB limit"),
            });
        }
        buf.resize(total - 4, 0);
        buf.extend_from_slice(&(total as u32).to_le_bytes());
        buf[4..8].copy_from_slice(&(total as u32).to_le_bytes());
        debug_assert!(total >= BLOCK_OVERHEAD);
        let res = self.sink.write_all(&buf).map_err(|e| ScapError::Write {
            what,
            reason: e.to_string(),
        });
        self.buf = buf;
        res
    }
}
