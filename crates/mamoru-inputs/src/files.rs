//! Sources made of files in name order: a local directory, or an S3 bucket listed with a start-after cursor
//! (CloudTrail keys sort by delivery time under one account and region). The cursor is the last file finished
//! plus, for the file in progress, how many of its records were committed, so a restart neither repeats nor
//! skips a record. Files are streamed in bounded chunks; each file's decompressed size is bounded (gzip bombs).

use crate::batch::{deliver, BatchSender};
use crate::cursor::CursorStore;
use crate::error::{InputError, Result};
use crate::frame::{newest_ts, stream_records};
use crate::metrics::SourceMetrics;
use mamoru_records::{Limits, RecordSource};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// Progress through a sorted list of files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCursor {
    /// The last file whose records were all committed.
    pub done: Option<String>,
    /// The file in progress and how many of its records were committed.
    pub current: Option<String>,
    pub records: u64,
}

/// Files addressed by keys that sort in processing order.
pub(crate) trait FileStore: Send + Sync {
    /// Keys after `after`, sorted, at most one page; true when more remain.
    fn list_after(&self, after: Option<&str>) -> impl std::future::Future<Output = Result<(Vec<String>, bool)>> + Send;
    /// The file's bytes (possibly gzip) as a reader.
    fn open(&self, key: &str) -> impl std::future::Future<Output = Result<Box<dyn Read + Send>>> + Send;
    /// How the file is named in logs and origins.
    fn display(&self, key: &str) -> String;
}

pub(crate) struct FileSource<S> {
    pub store: S,
    pub source: RecordSource,
    pub limits: Limits,
    pub cursors: CursorStore,
    pub cursor_name: String,
    pub metrics: SourceMetrics,
    pub batch_records: usize,
    pub poll: Duration,
}

impl<S: FileStore> FileSource<S> {
    pub async fn run(self, sink: BatchSender, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut cursor: FileCursor = self.cursors.load(&self.cursor_name)?.unwrap_or_default();
        loop {
            let more = match self.store.list_after(cursor.done.as_deref()).await {
                Ok((keys, more)) => {
                    for key in keys {
                        if *shutdown.borrow() {
                            return Ok(());
                        }
                        if !self.file(&key, &mut cursor, &sink, &shutdown).await? {
                            break;
                        }
                    }
                    more
                }
                Err(e) => {
                    self.metrics.error("list");
                    tracing::warn!(source = %self.source, error = %e, "listing failed; retrying at the next poll");
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    /// Processes one file from the cursor's position; false when it must be retried later (open failed).
    async fn file(
        &self,
        key: &str,
        cursor: &mut FileCursor,
        sink: &BatchSender,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<bool> {
        let skip = if cursor.current.as_deref() == Some(key) {
            cursor.records
        } else {
            0
        };
        let input = match self.store.open(key).await {
            Ok(r) => r,
            Err(e) => {
                self.metrics.error("open");
                tracing::warn!(source = %self.source, file = %self.store.display(key), error = %e,
                    "cannot read the file; retrying at the next poll");
                return Ok(false);
            }
        };
        let mut chunks = stream_records(
            self.store.display(key),
            input,
            self.source,
            self.limits,
            skip,
            self.batch_records,
            self.metrics.clone(),
        );
        while let Some(chunk) = chunks.recv().await {
            let (n, newest) = (chunk.records.len(), newest_ts(&chunk.records));
            deliver(sink, self.source, chunk.records).await?;
            self.metrics.committed(n, newest);
            if chunk.next_index > cursor.records || cursor.current.as_deref() != Some(key) {
                cursor.current = Some(key.to_string());
                cursor.records = chunk.next_index;
                self.cursors.save_async(&self.cursor_name, cursor.clone()).await?;
            }
            if *shutdown.borrow() {
                return Ok(false);
            }
        }
        *cursor = FileCursor {
            done: Some(key.to_string()),
            current: None,
            records: 0,
        };
        self.cursors.save_async(&self.cursor_name, cursor.clone()).await?;
        Ok(true)
    }
}

/// A local directory (recursive); keys are paths relative to it. Hidden files (writers' temporaries) are skipped.
pub(crate) struct DirStore {
    pub root: PathBuf,
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    Ok(())
}

impl FileStore for DirStore {
    async fn list_after(&self, after: Option<&str>) -> Result<(Vec<String>, bool)> {
        let root = self.root.clone();
        let after = after.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            walk(&root, &root, &mut keys).map_err(|e| InputError::io(&root, e))?;
            keys.retain(|k| after.as_deref().is_none_or(|a| k.as_str() > a));
            keys.sort();
            Ok((keys, false))
        })
        .await
        .map_err(|e| InputError::Config(format!("directory lister panicked: {e}")))?
    }

    async fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let path = self.root.join(key);
        let f = std::fs::File::open(&path).map_err(|e| InputError::io(&path, e))?;
        Ok(Box::new(f))
    }

    fn display(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }
}

/// Limits for whole files of records: the decompressed size bound doubles as the document bound (a CloudTrail
/// file is one `{"Records":[...]}` document).
pub(crate) fn file_limits(max_file_bytes: u64) -> Limits {
    Limits {
        max_input_bytes: max_file_bytes,
        max_document_bytes: usize::try_from(max_file_bytes).unwrap_or(usize::MAX),
        ..Limits::default()
    }
}
