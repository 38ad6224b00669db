//! Tailing a JSON-lines log (kube-apiserver's `--audit-log-path`), rotation-safe: the file is polled; when the path
//! names a new inode (rename rotation) the old file is read to its end before switching, and a file that shrank
//! below the cursor (copytruncate) is read again from its start. The cursor (inode, byte offset of the first
//! unread line) is persisted after each committed batch, so a restart resumes at the next line.

use crate::batch::{deliver, BatchSender};
use crate::config::TailConfig;
use crate::cursor::CursorStore;
use crate::error::{InputError, Result};
use crate::frame::{frame_bytes, newest_ts};
use crate::metrics::SourceMetrics;
use mamoru_records::{Limits, RecordSource};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;
use tokio::sync::watch;

/// Where a tail stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailCursor {
    pub inode: u64,
    pub offset: u64,
}

/// Bytes read per step.
const READ_STEP: usize = 1 << 20;

struct Open {
    file: File,
    inode: u64,
    /// Offset of the first byte not yet committed (start of `pending`).
    offset: u64,
    /// Bytes read after `offset`: complete lines are framed, a partial last line waits for its end.
    pending: Vec<u8>,
    /// Skipping the rest of an over-long line.
    discarding: bool,
}

pub(crate) struct Tail {
    pub cfg: TailConfig,
    pub source: RecordSource,
    pub cursor_name: String,
    pub store: CursorStore,
    pub metrics: SourceMetrics,
}

fn inode_of(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.ino(), m.len()))
}

impl Tail {
    fn limits(&self) -> Limits {
        Limits {
            max_record_bytes: self.cfg.max_line_bytes,
            max_document_bytes: self.cfg.max_line_bytes,
            ..Limits::default()
        }
    }

    fn open_at(&self, offset: u64) -> Result<Option<Open>> {
        let path = &self.cfg.path;
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(InputError::io(path, e)),
        };
        let meta = file.metadata().map_err(|e| InputError::io(path, e))?;
        let offset = if offset > meta.len() { 0 } else { offset };
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| InputError::io(path, e))?;
        Ok(Some(Open {
            file,
            inode: meta.ino(),
            offset,
            pending: Vec::new(),
            discarding: false,
        }))
    }

    /// The file to read first: the cursor's position when the path still names the cursor's inode.
    fn initial(&self) -> Result<Option<Open>> {
        let cursor: Option<TailCursor> = self.store.load(&self.cursor_name)?;
        let current = inode_of(&self.cfg.path);
        match (cursor, current) {
            (Some(c), Some((ino, len))) if c.inode == ino && c.offset <= len => self.open_at(c.offset),
            (Some(c), Some(_)) => {
                tracing::warn!(path = %self.cfg.path.display(), old_inode = c.inode,
                    "the file was rotated or truncated while stopped; reading the current file from its start");
                self.open_at(0)
            }
            (None, Some((_, len))) if self.cfg.start_at_end => self.open_at(len),
            _ => self.open_at(0),
        }
    }

    pub async fn run(self, sink: BatchSender, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let poll = Duration::from_millis(self.cfg.poll_interval_ms.max(10));
        let mut open = self.initial()?;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let progressed = match open.as_mut() {
                Some(o) => self.step(o, &sink, false).await?,
                None => false,
            };
            if progressed {
                continue;
            }
            // At the end of the file: has it been rotated or truncated?
            match (&mut open, inode_of(&self.cfg.path)) {
                (Some(o), Some((ino, _))) if ino != o.inode => {
                    // Rotated: finish the old file (a last line without newline included), then switch.
                    while self.step(o, &sink, false).await? {}
                    self.step(o, &sink, true).await?;
                    tracing::info!(path = %self.cfg.path.display(), "log rotated; following the new file");
                    open = self.open_at(0)?;
                    continue;
                }
                (Some(o), Some((_, len))) if len < o.offset + o.pending.len() as u64 => {
                    tracing::info!(path = %self.cfg.path.display(), "log truncated; reading from its start");
                    open = self.open_at(0)?;
                    self.save(open.as_ref()).await?;
                    continue;
                }
                (None, Some(_)) => {
                    open = self.open_at(0)?;
                    continue;
                }
                _ => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn save(&self, open: Option<&Open>) -> Result<()> {
        if let Some(o) = open {
            let c = TailCursor {
                inode: o.inode,
                offset: o.offset,
            };
            self.store.save_async(&self.cursor_name, c).await?;
        }
        Ok(())
    }

    /// Reads what was appended, frames the complete lines (all of them when `final_read`), delivers them, and
    /// persists the cursor. True when bytes were read.
    async fn step(&self, o: &mut Open, sink: &BatchSender, final_read: bool) -> Result<bool> {
        let mut buf = vec![0u8; READ_STEP];
        let n = o.file.read(&mut buf).map_err(|e| InputError::io(&self.cfg.path, e))?;
        buf.truncate(n);
        let nothing_left = o.pending.is_empty() || !final_read;
        if n == 0 && nothing_left {
            return Ok(false);
        }
        let lines_end = if final_read {
            o.pending.len() + n
        } else {
            match memchr_last_newline(&buf) {
                Some(i) => o.pending.len() + i + 1,
                None => {
                    self.hold(o, &buf);
                    return Ok(true);
                }
            }
        };
        o.pending.extend_from_slice(&buf);
        let rest = o.pending.split_off(lines_end);
        let lines = std::mem::replace(&mut o.pending, rest);
        let consumed = lines.len() as u64;
        let lines = if std::mem::take(&mut o.discarding) {
            // The head of this block is the tail of an over-long line already reported.
            match lines.iter().position(|&b| b == b'\n') {
                Some(i) => lines[i + 1..].to_vec(),
                None => Vec::new(),
            }
        } else {
            lines
        };
        let base = o.offset;
        let name = self.cfg.path.display().to_string();
        let (source, limits, metrics) = (self.source, self.limits(), self.metrics.clone());
        let records = tokio::task::spawn_blocking(move || frame_bytes(&name, lines, source, limits, &metrics, base))
            .await
            .map_err(|e| InputError::Config(format!("framer panicked: {e}")))?;
        // One batch per step (at most READ_STEP bytes plus a line): the cursor then moves exactly past it.
        let (count, newest) = (records.len(), newest_ts(&records));
        deliver(sink, self.source, records).await?;
        self.metrics.committed(count, newest);
        o.offset += consumed;
        self.save(Some(o)).await?;
        Ok(true)
    }

    /// Keeps a partial line, dropping (once, counted) a line longer than the limit.
    fn hold(&self, o: &mut Open, buf: &[u8]) {
        if o.discarding {
            o.offset += buf.len() as u64;
            return;
        }
        o.pending.extend_from_slice(buf);
        if o.pending.len() > self.cfg.max_line_bytes {
            self.metrics.error("too_large");
            tracing::warn!(path = %self.cfg.path.display(), offset = o.offset,
                limit = self.cfg.max_line_bytes, "line exceeds the limit; skipped");
            o.offset += o.pending.len() as u64;
            o.pending.clear();
            o.discarding = true;
        }
    }
}

fn memchr_last_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().rposition(|&b| b == b'\n')
}
