//! The hand-off between the sources and the evaluator: batches of records on a bounded channel, each acknowledged
//! once its records were evaluated. A source persists its cursor only after the acknowledgement, so a crash between
//! reading and evaluating replays the batch instead of losing it.

use crate::error::InputError;
use mamoru_records::{Record, RecordSource};
use tokio::sync::{mpsc, oneshot};

/// Records of one source, to evaluate in order and then [`Batch::commit`].
#[derive(Debug)]
pub struct Batch {
    pub source: RecordSource,
    pub records: Vec<Record>,
    ack: Option<oneshot::Sender<()>>,
}

impl Batch {
    /// Tells the source that every record of the batch was evaluated: it may now persist its cursor past them.
    /// Dropping a batch without committing it makes its source stop without moving its cursor.
    pub fn commit(mut self) {
        if let Some(ack) = self.ack.take() {
            // The source may already have stopped; its cursor then stays before this batch, which is safe.
            let _ = ack.send(());
        }
    }
}

pub type BatchSender = mpsc::Sender<Batch>;
pub type BatchReceiver = mpsc::Receiver<Batch>;

/// A bounded channel of batches: at most `capacity` batches wait for the evaluator, which bounds memory under a
/// burst (sources block, webhooks spool to disk and answer 503 once their spool is full).
pub fn batch_channel(capacity: usize) -> (BatchSender, BatchReceiver) {
    mpsc::channel(capacity.max(1))
}

/// Sends `records` and waits until the evaluator committed them.
pub(crate) async fn deliver(sink: &BatchSender, source: RecordSource, records: Vec<Record>) -> Result<(), InputError> {
    if records.is_empty() {
        return Ok(());
    }
    let (tx, rx) = oneshot::channel();
    let batch = Batch {
        source,
        records,
        ack: Some(tx),
    };
    sink.send(batch).await.map_err(|_| InputError::SinkClosed)?;
    rx.await.map_err(|_| InputError::SinkClosed)
}

/// The evaluator's loop, for a plain thread: hands every record of every batch to `on_record` (in order), then
/// commits the batch. Returns when every input has stopped and dropped its sender.
pub fn drain_blocking(mut rx: BatchReceiver, mut on_record: impl FnMut(RecordSource, &Record)) {
    while let Some(batch) = rx.blocking_recv() {
        for record in &batch.records {
            on_record(batch.source, record);
        }
        batch.commit();
    }
}
