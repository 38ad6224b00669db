//! Streaming tar reader for image layers, with guards against hostile archives.
//!
//! The reader is our own (not the `tar` crate) so that every allocation is capped: PAX records and GNU long names
//! are held in memory only up to [`Limits::max_header_record_bytes`], file content is only ever streamed to the
//! visitor, and nothing is written to disk. Hostile constructs are reported as [`GuardIssue`]s, not errors.

use crate::decompress::{BombError, Compression, LayerStream};
use crate::limits::Limits;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

const BLOCK: usize = 512;

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: deletes NAME of lower layers (the entry's `path` is the deleted path).
    Whiteout,
    /// `.wh..wh..opq`: hides everything lower layers put in this directory (`path` is the directory).
    OpaqueDir,
    Other,
}

/// Metadata of one entry, its path normalized (relative to the image root, no `.`/`..`, no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EntryMeta {
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Symlink or hard-link target, as written in the archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

impl EntryMeta {
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// A hostile or suspicious construct in a layer archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    PathTraversal,
    AbsolutePath,
    SymlinkEscape,
    WriteThroughSymlink,
    HardLinkEscape,
    DanglingHardLink,
    DeviceFile,
    DecompressionBomb,
    GiantEntry,
    TooManyEntries,
    OversizedHeader,
    CorruptArchive,
}

impl GuardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardKind::PathTraversal => "path-traversal",
            GuardKind::AbsolutePath => "absolute-path",
            GuardKind::SymlinkEscape => "symlink-escape",
            GuardKind::WriteThroughSymlink => "write-through-symlink",
            GuardKind::HardLinkEscape => "hardlink-escape",
            GuardKind::DanglingHardLink => "dangling-hardlink",
            GuardKind::DeviceFile => "device-file",
            GuardKind::DecompressionBomb => "decompression-bomb",
            GuardKind::GiantEntry => "giant-entry",
            GuardKind::TooManyEntries => "too-many-entries",
            GuardKind::OversizedHeader => "oversized-header",
            GuardKind::CorruptArchive => "corrupt-archive",
        }
    }
}

/// One guard report: what, where (the raw archive path, lossily decoded), and details.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuardIssue {
    pub kind: GuardKind,
    pub path: Option<String>,
    pub detail: String,
}

/// Receives the entries of a layer in archive order.
pub trait LayerVisitor {
    /// One entry. `content` yields at most `Limits::max_scan_bytes` of a regular file (empty for other kinds);
    /// unread content is skipped by the walker.
    fn entry(&mut self, meta: &EntryMeta, content: &mut dyn Read) -> io::Result<()>;
    /// A guard issue; the walk continues unless the issue says the layer was abandoned.
    fn guard(&mut self, issue: GuardIssue);
}

/// Totals of one layer walk.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LayerSummary {
    pub entries: u64,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub compression: Option<Compression>,
    /// The walk stopped early (bomb, corruption, entry cap); what was read before is still reported.
    pub truncated: bool,
}

/// Walks one layer blob (compressed or not). Guards go to the visitor; an `Err` is returned only for I/O errors
/// of the source or a visitor error, never for hostile content.
pub fn walk_layer(blob: impl Read, limits: &Limits, visitor: &mut dyn LayerVisitor) -> io::Result<LayerSummary> {
    let mut stream = LayerStream::new(blob, limits)?;
    let mut summary = LayerSummary {
        compression: Some(stream.compression()),
        ..LayerSummary::default()
    };
    let mut state = WalkState::default();
    let mut result = walk_entries(&mut stream, limits, visitor, &mut state, &mut summary);
    if result.is_ok() {
        // Read to the end past the end-of-archive blocks: the blob's digest is checked when its stream ends, and a
        // blob altered after the marker (or anywhere, when the walk stopped early) must still fail that check. The
        // decompression limits bound what this reads.
        result = io::copy(&mut stream, &mut io::sink()).map(|_| ()).map_err(Stop::Io);
    }
    summary.uncompressed_bytes = stream.produced();
    summary.compressed_bytes = stream.consumed();
    match result {
        Ok(()) => Ok(summary),
        Err(Stop::Guard(issue)) => {
            visitor.guard(issue);
            summary.truncated = true;
            Ok(summary)
        }
        Err(Stop::Io(e)) => match classify_io(e) {
            Ok(issue) => {
                visitor.guard(issue);
                summary.truncated = true;
                Ok(summary)
            }
            Err(e) => Err(e),
        },
    }
}

/// Separates content problems (bombs, truncation, bad compression) from real I/O or visitor errors.
fn classify_io(e: io::Error) -> Result<GuardIssue, io::Error> {
    if let Some(bomb) = e.get_ref().and_then(|inner| inner.downcast_ref::<BombError>()) {
        return Ok(GuardIssue {
            kind: GuardKind::DecompressionBomb,
            path: None,
            detail: bomb.to_string(),
        });
    }
    if e.get_ref().is_some_and(|inner| inner.is::<VisitorError>()) {
        return Err(e);
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::InvalidData
        | io::ErrorKind::InvalidInput
        | io::ErrorKind::Other => Ok(GuardIssue {
            kind: GuardKind::CorruptArchive,
            path: None,
            detail: format!("layer data is corrupt or truncated: {e}"),
        }),
        _ => Err(e),
    }
}

/// Marks an error raised by the visitor so it is propagated rather than reported as corruption.
#[derive(Debug)]
pub struct VisitorError(pub String);

impl std::fmt::Display for VisitorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VisitorError {}

enum Stop {
    Guard(GuardIssue),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// Per-layer memory of what was seen, for link checks. Bounded by the entry cap.
#[derive(Default)]
struct WalkState {
    seen: HashSet<String>,
    symlinks: HashMap<String, String>,
}

/// Extended header values that apply to the next entry.
#[derive(Default)]
struct Pending {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
}

fn walk_entries(
    stream: &mut dyn Read,
    limits: &Limits,
    visitor: &mut dyn LayerVisitor,
    state: &mut WalkState,
    summary: &mut LayerSummary,
) -> Result<(), Stop> {
    let mut pending = Pending::default();
    let mut header = [0u8; BLOCK];
    loop {
        if !read_block(stream, &mut header)? {
            return Ok(()); // clean end of stream without the two zero blocks: tolerated, like tar(1).
        }
        if header.iter().all(|&b| b == 0) {
            return Ok(());
        }
        verify_checksum(&header)?;
        let typeflag = header[156];
        let mut size = parse_number(&header[124..136]).ok_or_else(|| corrupt("invalid size field"))?;
        match typeflag {
            b'x' | b'g' | b'L' | b'K' => {
                let record = read_record(stream, size, limits)?;
                match typeflag {
                    b'x' => apply_pax(&record, &mut pending)?,
                    b'L' => pending.path = Some(trim_nul(&record).to_vec()),
                    b'K' => pending.link = Some(trim_nul(&record).to_vec()),
                    _ => {} // global PAX headers carry nothing we use
                }
                continue;
            }
            _ => {}
        }
        if let Some(pax_size) = pending.size.take() {
            size = pax_size;
        }
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            return Err(Stop::Guard(GuardIssue {
                kind: GuardKind::TooManyEntries,
                path: None,
                detail: format!("more than {} entries in one layer", limits.max_entries),
            }));
        }
        let raw_path = pending.path.take().unwrap_or_else(|| ustar_path(&header));
        let raw_link = pending
            .link
            .take()
            .unwrap_or_else(|| trim_nul(&header[157..257]).to_vec());
        let meta = build_meta(&header, typeflag, size, &raw_path, &raw_link, state, visitor);
        let has_data = matches!(typeflag, b'0' | 0 | b'7') || !matches!(typeflag, b'1'..=b'6');
        let data_len = if has_data { size } else { 0 };
        if let Some(meta) = meta {
            if meta.kind == EntryKind::File && size > limits.max_entry_bytes {
                visitor.guard(GuardIssue {
                    kind: GuardKind::GiantEntry,
                    path: Some(meta.path.clone()),
                    detail: format!(
                        "{size} bytes (cap {}); only the first {} bytes are scanned",
                        limits.max_entry_bytes, limits.max_scan_bytes
                    ),
                });
            }
            let mut content = (&mut *stream).take(if meta.kind == EntryKind::File { data_len } else { 0 });
            let mut scanned = (&mut content).take(limits.max_scan_bytes);
            visitor
                .entry(&meta, &mut scanned)
                .map_err(|e| Stop::Io(io::Error::other(VisitorError(e.to_string()))))?;
            io::copy(&mut content, &mut io::sink())?;
            let consumed_data = if meta.kind == EntryKind::File { data_len } else { 0 };
            skip(stream, data_len - consumed_data)?;
        } else {
            skip(stream, data_len)?;
        }
        skip(stream, padding(data_len))?;
    }
}

fn corrupt(why: &str) -> Stop {
    Stop::Io(io::Error::new(io::ErrorKind::InvalidData, why.to_string()))
}

/// Reads one block; false at a clean end of stream.
fn read_block(stream: &mut dyn Read, block: &mut [u8; BLOCK]) -> Result<bool, Stop> {
    let mut filled = 0;
    while filled < BLOCK {
        let n = match stream.read(&mut block[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::Io(e)),
        };
        if n == 0 {
            if filled == 0 {
                return Ok(false);
            }
            return Err(corrupt("truncated tar header"));
        }
        filled += n;
    }
    Ok(true)
}

fn skip(stream: &mut dyn Read, n: u64) -> Result<(), Stop> {
    let copied = io::copy(&mut stream.take(n), &mut io::sink())?;
    if copied < n {
        return Err(Stop::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "tar entry data is truncated",
        )));
    }
    Ok(())
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn read_record(stream: &mut dyn Read, size: u64, limits: &Limits) -> Result<Vec<u8>, Stop> {
    if size > limits.max_header_record_bytes {
        return Err(Stop::Guard(GuardIssue {
            kind: GuardKind::OversizedHeader,
            path: None,
            detail: format!(
                "extended header of {size} bytes (cap {})",
                limits.max_header_record_bytes
            ),
        }));
    }
    let mut record = Vec::with_capacity(size as usize);
    let read = stream.take(size).read_to_end(&mut record)?;
    if (read as u64) < size {
        return Err(corrupt("truncated extended header"));
    }
    skip(stream, padding(size))?;
    Ok(record)
}

fn verify_checksum(header: &[u8; BLOCK]) -> Result<(), Stop> {
    let stored = parse_number(&header[148..156]).ok_or_else(|| corrupt("invalid header checksum field"))?;
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in header.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    if stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed) {
        Ok(())
    } else {
        Err(corrupt("tar header checksum mismatch"))
    }
}

/// Octal (NUL/space padded) or GNU base-256 numbers.
fn parse_number(field: &[u8]) -> Option<u64> {
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            if first & 0x40 != 0 {
                return None; // negative base-256 number
            }
            let mut value: u64 = u64::from(first & 0x3f);
            for &b in &field[1..] {
                value = value.checked_mul(256)?.checked_add(u64::from(b))?;
            }
            return Some(value);
        }
    }
    let text = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| b != b' ' && b != 0);
    let mut value: u64 = 0;
    let mut any = false;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    if any || field.iter().all(|&b| b == 0 || b == b' ') {
        Some(value)
    } else {
        None
    }
}

fn trim_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

fn ustar_path(header: &[u8; BLOCK]) -> Vec<u8> {
    let name = trim_nul(&header[0..100]);
    let is_ustar = &header[257..262] == b"ustar";
    let prefix = if is_ustar { trim_nul(&header[345..500]) } else { &[][..] };
    if prefix.is_empty() {
        name.to_vec()
    } else {
        let mut path = prefix.to_vec();
        path.push(b'/');
        path.extend_from_slice(name);
        path
    }
}

/// PAX records: "LEN key=value\n", LEN counting the whole record.
fn apply_pax(mut record: &[u8], pending: &mut Pending) -> Result<(), Stop> {
    while !record.is_empty() {
        let space = record
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| corrupt("PAX record without length"))?;
        let len: usize = std::str::from_utf8(&record[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("invalid PAX record length"))?;
        if len <= space + 1 || len > record.len() {
            return Err(corrupt("PAX record length out of range"));
        }
        let body = &record[space + 1..len];
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        if let Some(eq) = body.iter().position(|&b| b == b'=') {
            let (key, value) = (&body[..eq], &body[eq + 1..]);
            match key {
                b"path" => pending.path = Some(value.to_vec()),
                b"linkpath" => pending.link = Some(value.to_vec()),
                b"size" => {
                    let size = std::str::from_utf8(value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| corrupt("invalid PAX size"))?;
                    pending.size = Some(size);
                }
                _ => {}
            }
        }
        record = &record[len..];
    }
    Ok(())
}

/// Result of normalizing an archive path.
struct Normalized {
    path: String,
    absolute: bool,
    escaped: bool,
}

/// Resolves `.` and `..` lexically, relative to `base` (components), clamping at the root like a chroot would.
fn normalize(raw: &str, base: &[&str]) -> Normalized {
    let absolute = raw.starts_with('/');
    let mut parts: Vec<&str> = if absolute { Vec::new() } else { base.to_vec() };
    let mut escaped = false;
    for comp in raw.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escaped = true;
                }
            }
            other => parts.push(other),
        }
    }
    Normalized {
        path: parts.join("/"),
        absolute,
        escaped,
    }
}

fn build_meta(
    header: &[u8; BLOCK],
    typeflag: u8,
    size: u64,
    raw_path: &[u8],
    raw_link: &[u8],
    state: &mut WalkState,
    visitor: &mut dyn LayerVisitor,
) -> Option<EntryMeta> {
    let raw = String::from_utf8_lossy(raw_path).into_owned();
    let norm = normalize(&raw, &[]);
    if norm.escaped {
        visitor.guard(GuardIssue {
            kind: GuardKind::PathTraversal,
            path: Some(raw.clone()),
            detail: format!("path climbs above the image root; scanned as {:?}", norm.path),
        });
    } else if norm.absolute {
        visitor.guard(GuardIssue {
            kind: GuardKind::AbsolutePath,
            path: Some(raw.clone()),
            detail: "absolute path in a layer archive".to_string(),
        });
    }
    if norm.path.is_empty() {
        return None; // the root directory itself
    }
    check_symlink_parents(&norm.path, &raw, state, visitor);
    let link_target = (!raw_link.is_empty()).then(|| String::from_utf8_lossy(raw_link).into_owned());
    let mode = parse_number(&header[100..108]).unwrap_or(0) as u32;
    let uid = parse_number(&header[108..116]).unwrap_or(0);
    let gid = parse_number(&header[116..124]).unwrap_or(0);
    let (kind, path) = classify(typeflag, &norm.path);
    let meta = EntryMeta {
        path,
        kind,
        size: if kind == EntryKind::File { size } else { 0 },
        mode,
        uid,
        gid,
        link_target,
    };
    check_links(&meta, &raw, state, visitor);
    if matches!(kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
        visitor.guard(GuardIssue {
            kind: GuardKind::DeviceFile,
            path: Some(meta.path.clone()),
            detail: format!(
                "{} device {}:{} in a layer",
                if kind == EntryKind::CharDevice {
                    "character"
                } else {
                    "block"
                },
                parse_number(&header[329..337]).unwrap_or(0),
                parse_number(&header[337..345]).unwrap_or(0)
            ),
        });
    }
    state.seen.insert(meta.path.clone());
    Some(meta)
}

fn classify(typeflag: u8, path: &str) -> (EntryKind, String) {
    let (dir, name) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    if name == ".wh..wh..opq" {
        return (EntryKind::OpaqueDir, dir.to_string());
    }
    if let Some(hidden) = name.strip_prefix(".wh.") {
        let target = if dir.is_empty() {
            hidden.to_string()
        } else {
            format!("{dir}/{hidden}")
        };
        return (EntryKind::Whiteout, target);
    }
    let kind = match typeflag {
        b'0' | 0 | b'7' => EntryKind::File,
        b'1' => EntryKind::HardLink,
        b'2' => EntryKind::Symlink,
        b'3' => EntryKind::CharDevice,
        b'4' => EntryKind::BlockDevice,
        b'5' => EntryKind::Dir,
        b'6' => EntryKind::Fifo,
        _ => EntryKind::Other,
    };
    (kind, path.to_string())
}

/// An entry placed under a symlink of the same layer would be written through it by a naive extractor.
fn check_symlink_parents(path: &str, raw: &str, state: &WalkState, visitor: &mut dyn LayerVisitor) {
    if state.symlinks.is_empty() {
        return;
    }
    let mut end = 0;
    while let Some(i) = path[end..].find('/') {
        let prefix = &path[..end + i];
        if let Some(target) = state.symlinks.get(prefix) {
            visitor.guard(GuardIssue {
                kind: GuardKind::WriteThroughSymlink,
                path: Some(raw.to_string()),
                detail: format!("parent {prefix:?} is a symlink to {target:?} in the same layer"),
            });
            return;
        }
        end += i + 1;
    }
}

fn check_links(meta: &EntryMeta, raw: &str, state: &mut WalkState, visitor: &mut dyn LayerVisitor) {
    let Some(target) = meta.link_target.as_deref() else {
        return;
    };
    match meta.kind {
        EntryKind::Symlink => {
            // Absolute targets resolve inside the container root; relative ones must not climb above it.
            let parent: Vec<&str> = match meta.path.rfind('/') {
                Some(i) => meta.path[..i].split('/').collect(),
                None => Vec::new(),
            };
            if !target.starts_with('/') && normalize(target, &parent).escaped {
                visitor.guard(GuardIssue {
                    kind: GuardKind::SymlinkEscape,
                    path: Some(raw.to_string()),
                    detail: format!("symlink target {target:?} climbs above the image root"),
                });
            }
            state.symlinks.insert(meta.path.clone(), target.to_string());
        }
        EntryKind::HardLink => {
            let norm = normalize(target, &[]);
            if norm.escaped {
                visitor.guard(GuardIssue {
                    kind: GuardKind::HardLinkEscape,
                    path: Some(raw.to_string()),
                    detail: format!("hard link target {target:?} climbs above the image root"),
                });
            } else if !state.seen.contains(&norm.path) {
                visitor.guard(GuardIssue {
                    kind: GuardKind::DanglingHardLink,
                    path: Some(raw.to_string()),
                    detail: format!("hard link to {target:?}, which this layer does not contain before it"),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        entries: Vec<(EntryMeta, Vec<u8>)>,
        guards: Vec<GuardIssue>,
    }

    impl LayerVisitor for Collect {
        fn entry(&mut self, meta: &EntryMeta, content: &mut dyn Read) -> io::Result<()> {
            let mut data = Vec::new();
            content.read_to_end(&mut data)?;
            self.entries.push((meta.clone(), data));
            Ok(())
        }
        fn guard(&mut self, issue: GuardIssue) {
            self.guards.push(issue);
        }
    }

    fn header(path: &str, typeflag: u8, size: u64, link: &str) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..path.len()].copy_from_slice(path.as_bytes());
        h[100..107].copy_from_slice(b"0000755");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        let s = format!("{size:011o}");
        h[124..135].copy_from_slice(s.as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = typeflag;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn archive(entries: &[(&str, u8, &[u8], &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (path, t, data, link) in entries {
            out.extend_from_slice(&header(path, *t, data.len() as u64, link));
            out.extend_from_slice(data);
            out.resize(out.len() + padding(data.len() as u64) as usize, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    fn walk(data: &[u8], limits: &Limits) -> (Collect, LayerSummary) {
        let mut c = Collect::default();
        let s = walk_layer(data, limits, &mut c).unwrap();
        (c, s)
    }

    #[test]
    fn a_blob_altered_past_the_end_of_archive_marker_fails_its_digest() {
        let mut data = archive(&[("etc/hosts", b'0', b"127.0.0.1 localhost\n", "")]);
        data.resize(10 * BLOCK, 0); // tar(1)'s blocking factor: zeros after the two end blocks
        let digest = crate::digest::sha256_digest(&data);
        let last = data.len() - 1;
        data[last] = 0xff;
        let mut c = Collect::default();
        let verified = crate::digest::VerifyingReader::new(&data[..], &digest);
        let s = walk_layer(verified, &Limits::default(), &mut c).unwrap();
        assert_eq!(c.entries.len(), 1, "entries before the marker are kept");
        assert!(s.truncated);
        assert!(
            c.guards
                .iter()
                .any(|g| g.kind == GuardKind::CorruptArchive && g.detail.contains("hashes to")),
            "{:?}",
            c.guards
        );
    }

    #[test]
    fn reads_files_dirs_links_and_whiteouts() {
        let data = archive(&[
            ("./etc/", b'5', b"", ""),
            ("./etc/hosts", b'0', b"127.0.0.1 localhost\n", ""),
            ("bin/sh", b'2', b"", "/bin/busybox"),
            ("tmp/.wh.miner", b'0', b"", ""),
            ("opt/.wh..wh..opq", b'0', b"", ""),
        ]);
        let (c, s) = walk(&data, &Limits::default());
        assert_eq!(s.entries, 5);
        assert!(c.guards.is_empty(), "{:?}", c.guards);
        let kinds: Vec<_> = c.entries.iter().map(|(m, _)| (m.path.as_str(), m.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("etc", EntryKind::Dir),
                ("etc/hosts", EntryKind::File),
                ("bin/sh", EntryKind::Symlink),
                ("tmp/miner", EntryKind::Whiteout),
                ("opt", EntryKind::OpaqueDir),
            ]
        );
        assert_eq!(c.entries[1].1, b"127.0.0.1 localhost\n");
    }

    #[test]
    fn reports_traversal_absolute_and_link_escapes() {
        let data = archive(&[
            ("../../etc/cron.d/evil", b'0', b"x", ""),
            ("/abs/file", b'0', b"y", ""),
            ("app/link", b'2', b"", "../../../../etc"),
            ("app/link/passwd", b'0', b"z", ""),
            ("app/hl", b'1', b"", "../../etc/shadow"),
            ("app/hl2", b'1', b"", "not/here"),
            ("dev/sda", b'4', b"", ""),
        ]);
        let (c, _) = walk(&data, &Limits::default());
        let kinds: Vec<GuardKind> = c.guards.iter().map(|g| g.kind).collect();
        for expected in [
            GuardKind::PathTraversal,
            GuardKind::AbsolutePath,
            GuardKind::SymlinkEscape,
            GuardKind::WriteThroughSymlink,
            GuardKind::HardLinkEscape,
            GuardKind::DanglingHardLink,
            GuardKind::DeviceFile,
        ] {
            assert!(kinds.contains(&expected), "missing {expected:?} in {kinds:?}");
        }
        // Traversal content is still scanned, under the clamped path.
        assert!(c.entries.iter().any(|(m, d)| m.path == "etc/cron.d/evil" && d == b"x"));
    }

    #[test]
    fn giant_entry_is_reported_and_content_cut() {
        let big = vec![b'A'; 5000];
        let data = archive(&[("big", b'0', &big, ""), ("after", b'0', b"ok", "")]);
        let limits = Limits {
            max_entry_bytes: 1000,
            max_scan_bytes: 100,
            ..Limits::default()
        };
        let (c, _) = walk(&data, &limits);
        assert_eq!(c.guards[0].kind, GuardKind::GiantEntry);
        assert_eq!(c.entries[0].1.len(), 100);
        assert_eq!(c.entries[1].1, b"ok");
    }

    #[test]
    fn gnu_long_names_and_pax_paths() {
        let long = "d/".repeat(80) + "file";
        let mut data = Vec::new();
        let mut name = long.clone().into_bytes();
        name.push(0);
        data.extend_from_slice(&header("././@LongLink", b'L', name.len() as u64, ""));
        data.extend_from_slice(&name);
        data.resize(data.len() + padding(name.len() as u64) as usize, 0);
        data.extend_from_slice(&header("short", b'0', 2, ""));
        data.extend_from_slice(b"hi");
        data.resize(data.len() + padding(2) as usize, 0);
        let body = " path=pax/name.txt\n";
        let rec = format!("{}{body}", body.len() + 2);
        data.extend_from_slice(&header("PaxHeader", b'x', rec.len() as u64, ""));
        data.extend_from_slice(rec.as_bytes());
        data.resize(data.len() + padding(rec.len() as u64) as usize, 0);
        data.extend_from_slice(&header("ignored", b'0', 1, ""));
        data.extend_from_slice(b"p");
        data.resize(data.len() + padding(1) as usize + 2 * BLOCK, 0);
        let (c, _) = walk(&data, &Limits::default());
        assert_eq!(c.entries[0].0.path, long);
        assert_eq!(c.entries[1].0.path, "pax/name.txt");
    }

    #[test]
    fn corrupt_and_oversized_headers_are_guards_not_errors() {
        let mut data = archive(&[("a", b'0', b"1", "")]);
        data[0] = b'b'; // breaks the checksum
        let (c, s) = walk(&data, &Limits::default());
        assert!(s.truncated);
        assert_eq!(c.guards[0].kind, GuardKind::CorruptArchive);

        let mut data = Vec::new();
        data.extend_from_slice(&header("././@LongLink", b'L', 10 << 20, ""));
        data.resize(data.len() + 4096, 0);
        let (c, _) = walk(&data, &Limits::default());
        assert_eq!(c.guards[0].kind, GuardKind::OversizedHeader);

        let data = archive(&[("a", b'0', b"12345", "")]);
        let (c, _) = walk(&data[..BLOCK + 3], &Limits::default());
        assert_eq!(c.guards.last().map(|g| g.kind), Some(GuardKind::CorruptArchive));
    }

    #[test]
    fn entry_cap_stops_the_layer() {
        let data = archive(&[("a", b'0', b"", ""), ("b", b'0', b"", ""), ("c", b'0', b"", "")]);
        let limits = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        let (c, s) = walk(&data, &limits);
        assert!(s.truncated);
        assert_eq!(c.entries.len(), 2);
        assert_eq!(c.guards[0].kind, GuardKind::TooManyEntries);
    }

    #[test]
    fn base256_numbers() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 5;
        f[10] = 1;
        assert_eq!(parse_number(&f), Some(261));
        assert_eq!(parse_number(b"0000644 \0"), Some(0o644));
    }
}
