//! The durable queue behind the webhook and push endpoints: a delivery is written to its own file (fsynced,
//! renamed into place, directory fsynced) before the sender gets its 2xx, and removed only after its records were
//! evaluated. A restart resumes with the files left, in arrival order, so an accepted delivery is never lost;
//! the spool's byte bound turns a burst the evaluator cannot absorb into 503 answers (senders retry) instead of
//! unbounded memory.

use crate::batch::{deliver, BatchSender};
use crate::cursor::write_atomic;
use crate::error::{InputError, Result};
use crate::frame::{frame_bytes, newest_ts};
use crate::metrics::SourceMetrics;
use mamoru_records::{Limits, RecordSource};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::sync::{watch, Notify};

const SUFFIX: &str = ".delivery";

/// Why a delivery was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool full ({used} of {max} bytes)")]
    Full { used: u64, max: u64 },
    #[error(transparent)]
    Io(#[from] InputError),
}

#[derive(Debug, Default)]
struct Pending {
    /// Sequence number -> size of every delivery not yet evaluated.
    files: BTreeMap<u64, u64>,
    next_seq: u64,
    bytes: u64,
}

/// A directory of accepted deliveries.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    pending: Mutex<Pending>,
    notify: Notify,
    metrics: SourceMetrics,
}

impl Spool {
    /// Opens (creating) the spool in `dir`, picking up the deliveries a previous run left.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64, metrics: SourceMetrics) -> Result<Spool> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| InputError::io(&dir, e))?;
        let mut pending = Pending::default();
        for entry in fs::read_dir(&dir).map_err(|e| InputError::io(&dir, e))? {
            let entry = entry.map_err(|e| InputError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(seq) = name.strip_suffix(SUFFIX).and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            let size = entry.metadata().map_err(|e| InputError::io(entry.path(), e))?.len();
            pending.files.insert(seq, size);
            pending.bytes += size;
            pending.next_seq = pending.next_seq.max(seq + 1);
        }
        if !pending.files.is_empty() {
            tracing::info!(dir = %dir.display(), deliveries = pending.files.len(), "resuming spooled deliveries");
        }
        metrics.set_spool_bytes(pending.bytes);
        Ok(Spool {
            dir,
            max_bytes,
            pending: Mutex::new(pending),
            notify: Notify::new(),
            metrics,
        })
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{SUFFIX}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while holding the lock cannot leave `Pending` inconsistent (plain field updates): keep going.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores one delivery durably. Blocking (fsync): call from a blocking context.
    pub fn push(&self, body: &[u8]) -> Result<(), SpoolError> {
        let size = body.len() as u64;
        let seq = {
            let mut p = self.lock();
            if p.bytes + size > self.max_bytes {
                return Err(SpoolError::Full {
                    used: p.bytes,
                    max: self.max_bytes,
                });
            }
            p.bytes += size;
            p.next_seq += 1;
            p.next_seq - 1
        };
        if let Err(e) = write_atomic(&self.path(seq), body) {
            self.lock().bytes -= size;
            return Err(e.into());
        }
        let bytes = {
            let mut p = self.lock();
            p.files.insert(seq, size);
            p.bytes
        };
        self.metrics.set_spool_bytes(bytes);
        self.notify.notify_one();
        Ok(())
    }

    /// [`Spool::push`] from async code.
    pub async fn push_async(self: &std::sync::Arc<Self>, body: bytes_like::Bytes) -> Result<(), SpoolError> {
        let spool = self.clone();
        tokio::task::spawn_blocking(move || spool.push(&body))
            .await
            .map_err(|e| SpoolError::Io(InputError::Config(format!("spool writer panicked: {e}"))))?
    }

    fn oldest(&self) -> Option<u64> {
        self.lock().files.keys().next().copied()
    }

    fn remove(&self, seq: u64) -> Result<()> {
        let path = self.path(seq);
        fs::remove_file(&path).map_err(|e| InputError::io(&path, e))?;
        let bytes = {
            let mut p = self.lock();
            if let Some(size) = p.files.remove(&seq) {
                p.bytes -= size;
            }
            p.bytes
        };
        self.metrics.set_spool_bytes(bytes);
        Ok(())
    }

    /// Feeds the spooled deliveries to `sink` in arrival order until `shutdown`; each file is removed once its
    /// records were committed. `prepare` may rewrite a delivery before framing (GitHub diff enrichment).
    pub async fn drain<F, Fut>(
        &self,
        source: RecordSource,
        limits: Limits,
        sink: BatchSender,
        mut shutdown: watch::Receiver<bool>,
        prepare: F,
    ) -> Result<()>
    where
        F: Fn(Vec<u8>) -> Fut,
        Fut: std::future::Future<Output = Vec<u8>>,
    {
        loop {
            let Some(seq) = self.oldest() else {
                tokio::select! {
                    _ = self.notify.notified() => continue,
                    _ = shutdown.changed() => return Ok(()),
                }
            };
            if *shutdown.borrow() {
                return Ok(());
            }
            let path = self.path(seq);
            let body = read_file(&path).await?;
            let body = prepare(body).await;
            let name = path.display().to_string();
            let metrics = self.metrics.clone();
            let records = tokio::task::spawn_blocking(move || frame_bytes(&name, body, source, limits, &metrics, 0))
                .await
                .map_err(|e| InputError::Config(format!("framer panicked: {e}")))?;
            let n = records.len();
            let newest = newest_ts(&records);
            deliver(&sink, source, records).await?;
            self.metrics.committed(n, newest);
            self.remove(seq)?;
        }
    }
}

async fn read_file(path: &Path) -> Result<Vec<u8>> {
    tokio::fs::read(path).await.map_err(|e| InputError::io(path, e))
}

/// The body type handed over by the HTTP layer.
pub mod bytes_like {
    pub type Bytes = axum::body::Bytes;
}
