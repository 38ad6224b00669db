//! The on-disk spool: an append-only log of alert records shared by every durable sink, with one delivery cursor
//! per sink.
//!
//! Each record is `[len u32][crc32 u32][seq u64][payload]` (little endian; the CRC covers seq and payload), written
//! with one `write` call, so once [`Spool::append`] returns the record survives a SIGKILL of the agent (it is in the
//! page cache); `fsync` happens in batches ([`Spool::sync`], driven by a timer). Records live in segment files named
//! after their first sequence number; a segment is deleted once every cursor is past it. On open, a torn or corrupt
//! tail (a crash in the middle of a write, or a power loss between syncs) is detected by length and checksum, counted
//! and cut off: it is never fatal. The spool is bounded in bytes: an append that does not fit after reclaiming
//! consumed segments is refused with [`SpoolError::Full`], which the caller counts.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use thiserror::Error;

const HEADER: usize = 16;
/// A record larger than this is corruption, not an alert.
const MAX_RECORD: u32 = 16 << 20;

#[derive(Debug, Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("spool full ({used} of {max} bytes used)")]
    Full { used: u64, max: u64 },
    #[error("record of {0} bytes is larger than the spool limit")]
    TooLarge(usize),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Spool limits.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    pub max_bytes: u64,
    pub segment_bytes: u64,
}

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolRecord {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// What opening the spool found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Records waiting for at least one sink.
    pub pending: u64,
    /// Torn or corrupt records cut off (counted, not fatal).
    pub torn_records: u64,
    pub torn_bytes: u64,
}

#[derive(Debug, Clone)]
struct Segment {
    first_seq: u64,
    path: PathBuf,
    /// Bytes of whole, valid records.
    len: u64,
    /// Sequence number after the segment's last record.
    end_seq: u64,
}

struct Inner {
    dir: PathBuf,
    opts: SpoolOptions,
    segments: Vec<Segment>,
    active: Option<Arc<File>>,
    next_seq: u64,
    cursors: BTreeMap<String, u64>,
    cursor_files: BTreeMap<String, Arc<File>>,
    dirty: bool,
    torn_records: u64,
    torn_bytes: u64,
}

/// The spool, shared by the event path (appends) and the sink workers (reads, cursor moves).
#[derive(Clone)]
pub struct Spool {
    inner: Arc<Mutex<Inner>>,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, recovering from a torn tail, and registers the given sinks' cursors.
    pub fn open(dir: &Path, opts: SpoolOptions, sinks: &[&str]) -> Result<(Spool, Recovery), SpoolError> {
        fs::create_dir_all(dir.join("cursors")).map_err(io_err(dir))?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let path = entry.map_err(io_err(dir))?.path();
            let first_seq = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".seg"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(first_seq) = first_seq {
                segments.push(Segment {
                    first_seq,
                    path,
                    len: 0,
                    end_seq: first_seq,
                });
            }
        }
        segments.sort_by_key(|s| s.first_seq);
        let mut torn_records = 0;
        let mut torn_bytes = 0;
        for seg in &mut segments {
            let scan = scan_segment(&seg.path, seg.first_seq)?;
            seg.len = scan.valid_len;
            seg.end_seq = scan.end_seq;
            if scan.file_len > scan.valid_len {
                torn_records += 1;
                torn_bytes += scan.file_len - scan.valid_len;
                tracing::warn!(
                    "spool segment {}: torn or corrupt tail of {} bytes after {} valid bytes cut off",
                    seg.path.display(),
                    scan.file_len - scan.valid_len,
                    scan.valid_len
                );
                let f = OpenOptions::new()
                    .write(true)
                    .open(&seg.path)
                    .map_err(io_err(&seg.path))?;
                f.set_len(scan.valid_len).map_err(io_err(&seg.path))?;
                f.sync_all().map_err(io_err(&seg.path))?;
            }
        }
        let mut cursors = BTreeMap::new();
        let mut max_cursor = 1;
        for name in sinks {
            let path = cursor_path(dir, name);
            let seq = match fs::read(&path) {
                Ok(b) if b.len() == 8 => u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
                Ok(_) => {
                    tracing::warn!(
                        "spool cursor {} is damaged; delivering from the oldest record",
                        path.display()
                    );
                    0
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(io_err(&path)(e)),
            };
            max_cursor = max_cursor.max(seq);
            cursors.insert((*name).to_string(), seq);
        }
        let next_seq = segments.last().map(|s| s.end_seq).unwrap_or(max_cursor).max(1);
        // A sink with no cursor yet (new sink) starts at the oldest record still kept.
        let oldest = segments.first().map(|s| s.first_seq).unwrap_or(next_seq);
        for c in cursors.values_mut() {
            if *c == 0 || *c < oldest {
                *c = oldest;
            }
            *c = (*c).min(next_seq);
        }
        let min_cursor = cursors.values().copied().min().unwrap_or(next_seq);
        let inner = Inner {
            dir: dir.to_path_buf(),
            opts,
            segments,
            active: None,
            next_seq,
            cursors,
            cursor_files: BTreeMap::new(),
            dirty: false,
            torn_records,
            torn_bytes,
        };
        let spool = Spool {
            inner: Arc::new(Mutex::new(inner)),
        };
        let recovery = Recovery {
            pending: next_seq - min_cursor,
            torn_records,
            torn_bytes,
        };
        Ok((spool, recovery))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every mutation is completed before unlock).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one record (one `write` call) and returns its sequence number.
    pub fn append(&self, payload: &[u8]) -> Result<u64, SpoolError> {
        let mut g = self.lock();
        let rec_len = (HEADER + payload.len()) as u64;
        if rec_len > g.opts.max_bytes || payload.len() as u64 > MAX_RECORD as u64 {
            return Err(SpoolError::TooLarge(payload.len()));
        }
        if g.used_bytes() + rec_len > g.opts.max_bytes {
            g.reclaim()?;
            let used = g.used_bytes();
            if used + rec_len > g.opts.max_bytes {
                return Err(SpoolError::Full {
                    used,
                    max: g.opts.max_bytes,
                });
            }
        }
        let need_new = match g.segments.last() {
            None => true,
            Some(s) => s.len + rec_len > g.opts.segment_bytes && s.len > 0,
        };
        if need_new || g.active.is_none() {
            g.open_active(need_new)?;
        }
        let seq = g.next_seq;
        let mut buf = Vec::with_capacity(rec_len as usize);
        buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&seq.to_le_bytes());
        crc.update(payload);
        buf.extend_from_slice(&crc.finalize().to_le_bytes());
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.extend_from_slice(payload);
        let path = g.segments.last().map(|s| s.path.clone()).unwrap_or_default();
        let file = g.active.clone().ok_or_else(|| SpoolError::Io {
            path: path.clone(),
            source: io::Error::other("no active segment"),
        })?;
        if let Err(e) = (&*file).write_all(&buf) {
            // A partial write would leave a torn record: cut it off so the next append starts clean.
            let valid = g.segments.last().map(|s| s.len).unwrap_or(0);
            if let Some(f) = g.active.as_ref() {
                let _ = f.set_len(valid);
            }
            g.active = None;
            return Err(io_err(&path)(e));
        }
        if let Some(s) = g.segments.last_mut() {
            s.len += rec_len;
            s.end_seq = seq + 1;
        }
        g.next_seq += 1;
        g.dirty = true;
        Ok(seq)
    }

    /// Flushes appended records and cursors to stable storage (the batched fsync). The fsync runs outside the lock:
    /// appends go on meanwhile.
    pub fn sync(&self) -> Result<(), SpoolError> {
        let files: Vec<(PathBuf, Arc<File>)> = {
            let mut g = self.lock();
            if !g.dirty {
                return Ok(());
            }
            g.dirty = false;
            let mut v: Vec<(PathBuf, Arc<File>)> = g
                .cursor_files
                .iter()
                .map(|(sink, f)| (cursor_path(&g.dir, sink), f.clone()))
                .collect();
            if let (Some(f), Some(seg)) = (&g.active, g.segments.last()) {
                v.push((seg.path.clone(), f.clone()));
            }
            v
        };
        for (path, f) in files {
            if let Err(e) = f.sync_data() {
                self.lock().dirty = true;
                return Err(io_err(&path)(e));
            }
        }
        Ok(())
    }

    /// Reads up to `max` records from `from_seq` on (fewer when the spool holds fewer). Scans from the start of
    /// the segment holding `from_seq`; sink workers use [`Spool::reader`], which remembers its position.
    pub fn read(&self, from_seq: u64, max: usize) -> Result<Vec<SpoolRecord>, SpoolError> {
        let mut r = self.reader_at(from_seq);
        r.next_batch(max, usize::MAX)
    }

    /// A reader positioned at `sink`'s cursor.
    pub fn reader(&self, sink: &str) -> SpoolReader {
        self.reader_at(self.cursor(sink))
    }

    fn reader_at(&self, seq: u64) -> SpoolReader {
        SpoolReader {
            spool: self.clone(),
            next_seq: seq,
            pos: None,
        }
    }

    /// The sink's next sequence number to deliver.
    pub fn cursor(&self, sink: &str) -> u64 {
        let g = self.lock();
        g.cursors.get(sink).copied().unwrap_or(g.next_seq)
    }

    /// Records `sink` delivered everything before `next_seq`; persists the cursor and reclaims segments every sink
    /// is done with. The cursor file is written outside the lock, so appends never wait on it. A cursor that lags
    /// after a crash only means redelivery (at-least-once), never loss.
    pub fn commit(&self, sink: &str, next_seq: u64) -> Result<(), SpoolError> {
        let (path, file) = {
            let mut g = self.lock();
            g.cursors.insert(sink.to_string(), next_seq);
            g.dirty = true;
            g.reclaim()?;
            let path = cursor_path(&g.dir, sink);
            let file = match g.cursor_files.get(sink) {
                Some(f) => f.clone(),
                None => {
                    let f = OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&path)
                        .map_err(io_err(&path))?;
                    let f = Arc::new(f);
                    g.cursor_files.insert(sink.to_string(), f.clone());
                    f
                }
            };
            (path, file)
        };
        // One aligned 8-byte write at offset 0: never torn.
        use std::os::unix::fs::FileExt;
        file.write_all_at(&next_seq.to_le_bytes(), 0).map_err(io_err(&path))
    }

    /// Records waiting for `sink`.
    pub fn pending(&self, sink: &str) -> u64 {
        let g = self.lock();
        let c = g.cursors.get(sink).copied().unwrap_or(g.next_seq);
        g.next_seq.saturating_sub(c)
    }

    /// Bytes held on disk.
    pub fn used_bytes(&self) -> u64 {
        self.lock().used_bytes()
    }

    /// Sequence number the next append gets.
    pub fn next_seq(&self) -> u64 {
        self.lock().next_seq
    }

    /// Torn records found when the spool was opened.
    pub fn torn(&self) -> (u64, u64) {
        let g = self.lock();
        (g.torn_records, g.torn_bytes)
    }
}

impl Inner {
    fn used_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    fn open_active(&mut self, new_segment: bool) -> Result<(), SpoolError> {
        if new_segment || self.segments.is_empty() {
            if let Some(f) = &self.active {
                let path = self.segments.last().map(|s| s.path.clone()).unwrap_or_default();
                f.sync_data().map_err(io_err(&path))?;
            }
            let path = self.dir.join(format!("{:020}.seg", self.next_seq));
            self.segments.push(Segment {
                first_seq: self.next_seq,
                path,
                len: 0,
                end_seq: self.next_seq,
            });
        }
        let seg = self.segments.last().cloned().ok_or_else(|| SpoolError::Io {
            path: self.dir.clone(),
            source: io::Error::other("no segment"),
        })?;
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&seg.path)
            .map_err(io_err(&seg.path))?;
        self.active = Some(Arc::new(f));
        Ok(())
    }

    /// Deletes segments every cursor has passed (never the active one).
    fn reclaim(&mut self) -> Result<(), SpoolError> {
        let min_cursor = self.cursors.values().copied().min().unwrap_or(self.next_seq);
        while self.segments.len() > 1 && self.segments[0].end_seq <= min_cursor {
            let seg = self.segments.remove(0);
            fs::remove_file(&seg.path).map_err(io_err(&seg.path))?;
        }
        // The active segment too, once fully consumed: the next append starts a fresh one.
        if self.segments.len() == 1 && self.segments[0].end_seq <= min_cursor && self.segments[0].len > 0 {
            let seg = self.segments.remove(0);
            self.active = None;
            fs::remove_file(&seg.path).map_err(io_err(&seg.path))?;
        }
        Ok(())
    }
}

fn cursor_path(dir: &Path, sink: &str) -> PathBuf {
    let safe: String = sink
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join("cursors").join(safe)
}

struct Scan {
    valid_len: u64,
    file_len: u64,
    end_seq: u64,
}

/// Walks a segment, validating every record; stops at the first torn or corrupt one.
fn scan_segment(path: &Path, first_seq: u64) -> Result<Scan, SpoolError> {
    let data = fs::read(path).map_err(io_err(path))?;
    let mut off = 0usize;
    let mut end_seq = first_seq;
    while let Some((seq, len)) = parse_record(&data[off..]) {
        if seq != end_seq {
            break;
        }
        off += len;
        end_seq = seq + 1;
    }
    Ok(Scan {
        valid_len: off as u64,
        file_len: data.len() as u64,
        end_seq,
    })
}

/// Checks one record at the start of `buf`: `(seq, total length)` when whole and intact.
fn parse_record(buf: &[u8]) -> Option<(u64, usize)> {
    if buf.len() < HEADER {
        return None;
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().ok()?);
    if len > MAX_RECORD || buf.len() < HEADER + len as usize {
        return None;
    }
    let crc = u32::from_le_bytes(buf[4..8].try_into().ok()?);
    let seq = u64::from_le_bytes(buf[8..16].try_into().ok()?);
    let mut h = crc32fast::Hasher::new();
    h.update(&buf[8..HEADER + len as usize]);
    (h.finalize() == crc).then_some((seq, HEADER + len as usize))
}

/// Where a reader is: the segment (by first sequence number), the open file and the byte offset of `next_seq`.
struct ReadPos {
    first_seq: u64,
    file: File,
    offset: u64,
}

/// A sequential reader of the spool for one sink, from its cursor on. Reads only whole records the writer has
/// finished (it never sees a record being written).
pub struct SpoolReader {
    spool: Spool,
    next_seq: u64,
    pos: Option<ReadPos>,
}

impl SpoolReader {
    /// Sequence number of the next record this reader returns.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Up to `max_records` records (and about `max_bytes`), in order; empty when the reader is caught up.
    pub fn next_batch(&mut self, max_records: usize, max_bytes: usize) -> Result<Vec<SpoolRecord>, SpoolError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while out.len() < max_records && bytes < max_bytes {
            // The segment holding next_seq and how far its valid records go.
            let seg = {
                let g = self.spool.lock();
                g.segments.iter().find(|s| s.end_seq > self.next_seq).cloned()
            };
            let Some(seg) = seg else { break };
            if self.pos.as_ref().is_none_or(|p| p.first_seq != seg.first_seq) {
                let file = match File::open(&seg.path) {
                    Ok(f) => f,
                    // Reclaimed meanwhile: every cursor was past it; look again.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(&seg.path)(e)),
                };
                self.pos = Some(ReadPos {
                    first_seq: seg.first_seq,
                    file,
                    offset: 0,
                });
            }
            let Some(pos) = self.pos.as_mut() else { break };
            let avail = seg.len.saturating_sub(pos.offset);
            if avail == 0 {
                break;
            }
            let want = avail.min((max_bytes - bytes).clamp(64 << 10, 4 << 20) as u64);
            let mut data = Vec::with_capacity(want as usize);
            pos.file.seek(SeekFrom::Start(pos.offset)).map_err(io_err(&seg.path))?;
            (&mut pos.file)
                .take(want)
                .read_to_end(&mut data)
                .map_err(io_err(&seg.path))?;
            let mut off = 0usize;
            let mut progressed = false;
            while out.len() < max_records {
                let Some((seq, len)) = parse_record(&data[off..]) else {
                    break;
                };
                if seq >= self.next_seq {
                    out.push(SpoolRecord {
                        seq,
                        payload: data[off + HEADER..off + len].to_vec(),
                    });
                    bytes += len;
                    self.next_seq = seq + 1;
                }
                off += len;
                progressed = true;
            }
            pos.offset += off as u64;
            if !progressed {
                // A record longer than the read window: read it whole next round.
                if want < avail && data.len() >= 4 {
                    let need = HEADER as u64 + u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as u64;
                    let mut whole = Vec::with_capacity(need as usize);
                    pos.file.seek(SeekFrom::Start(pos.offset)).map_err(io_err(&seg.path))?;
                    (&mut pos.file)
                        .take(need)
                        .read_to_end(&mut whole)
                        .map_err(io_err(&seg.path))?;
                    if let Some((seq, len)) = parse_record(&whole) {
                        out.push(SpoolRecord {
                            seq,
                            payload: whole[HEADER..len].to_vec(),
                        });
                        bytes += len;
                        self.next_seq = seq + 1;
                        pos.offset += len as u64;
                        continue;
                    }
                }
                return Err(SpoolError::Io {
                    path: seg.path.clone(),
                    source: io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("corrupt record at offset {}", pos.offset),
                    ),
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> SpoolOptions {
        SpoolOptions {
            max_bytes: 1 << 20,
            segment_bytes: 256,
        }
    }

    #[test]
    fn appends_reads_and_commits_in_order_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let (s, rec) = Spool::open(dir.path(), opts(), &["a", "b"]).unwrap();
        assert_eq!(rec, Recovery::default());
        for i in 0..20 {
            s.append(format!("alert {i:02} padding padding").as_bytes()).unwrap();
        }
        let got = s.read(s.cursor("a"), 100).unwrap();
        assert_eq!(got.len(), 20);
        assert_eq!(got[3].payload, b"alert 03 padding padding");
        assert!(got.windows(2).all(|w| w[1].seq == w[0].seq + 1));
        s.commit("a", got[10].seq).unwrap();
        assert_eq!(s.pending("a"), 10);
        assert_eq!(s.pending("b"), 20);
        // Segments are only reclaimed once both sinks are past them.
        let before = fs::read_dir(dir.path()).unwrap().count();
        s.commit("b", got[19].seq + 1).unwrap();
        let after = fs::read_dir(dir.path()).unwrap().count();
        assert!(after < before, "{after} < {before}");
        assert_eq!(
            s.read(s.cursor("a"), 100).unwrap()[0].payload,
            b"alert 10 padding padding"
        );
    }

    #[test]
    fn reopening_resumes_cursors_and_sequence() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (s, _) = Spool::open(dir.path(), opts(), &["a"]).unwrap();
            for i in 0..5 {
                s.append(format!("{i}").as_bytes()).unwrap();
            }
            s.commit("a", 3).unwrap();
        }
        let (s, rec) = Spool::open(dir.path(), opts(), &["a"]).unwrap();
        assert_eq!(rec.pending, 3);
        let got = s.read(s.cursor("a"), 10).unwrap();
        assert_eq!(
            got.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(),
            vec![b"2".to_vec(), b"3".to_vec(), b"4".to_vec()]
        );
        assert_eq!(s.append(b"5").unwrap(), 6);
    }

    #[test]
    fn torn_tail_is_cut_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (s, _) = Spool::open(
                dir.path(),
                SpoolOptions {
                    max_bytes: 1 << 20,
                    segment_bytes: 1 << 20,
                },
                &["a"],
            )
            .unwrap();
            for i in 0..4 {
                s.append(format!("record {i}").as_bytes()).unwrap();
            }
        }
        let seg = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "seg"))
            .unwrap();
        let len = fs::metadata(&seg).unwrap().len();
        // A write cut short by SIGKILL: the last record loses its last 3 bytes.
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let (s, rec) = Spool::open(dir.path(), opts(), &["a"]).unwrap();
        assert_eq!(rec.torn_records, 1);
        assert_eq!(rec.pending, 3);
        assert_eq!(s.append(b"after").unwrap(), 4);
        let got = s.read(1, 10).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[3].payload, b"after");
    }

    #[test]
    fn corrupt_record_is_detected_by_checksum() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (s, _) = Spool::open(dir.path(), opts(), &["a"]).unwrap();
            s.append(b"good").unwrap();
            s.append(b"flipped").unwrap();
        }
        let seg = dir.path().join(format!("{:020}.seg", 1));
        let mut data = fs::read(&seg).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        fs::write(&seg, data).unwrap();
        let (s, rec) = Spool::open(dir.path(), opts(), &["a"]).unwrap();
        assert_eq!(rec.torn_records, 1);
        assert_eq!(s.read(1, 10).unwrap().len(), 1);
    }

    #[test]
    fn full_spool_refuses_and_recovers_after_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = Spool::open(
            dir.path(),
            SpoolOptions {
                max_bytes: 200,
                segment_bytes: 64,
            },
            &["a"],
        )
        .unwrap();
        let mut accepted = 0;
        let mut refused = 0;
        for _ in 0..10 {
            match s.append(&[b'x'; 30]) {
                Ok(_) => accepted += 1,
                Err(SpoolError::Full { .. }) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(accepted >= 4 && refused > 0, "{accepted} {refused}");
        s.commit("a", s.next_seq()).unwrap();
        s.append(&[b'x'; 30]).unwrap();
    }
}
