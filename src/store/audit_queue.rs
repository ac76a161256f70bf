//! The background audit writer. A hook call hands its audit record to a bounded queue and
//! returns at once; one writer task wakes once per batch (every `LINGER`, or at once when a
//! full batch is waiting) and stores what is queued in one transaction with multi-row INSERTs.
//!
//! When the queue is full — the database is slower than the traffic, or unavailable — new
//! records are dropped and counted ([`AuditQueue::dropped`]; a warning is logged at the 1st,
//! 2nd, 4th, 8th … drop): the clinician's answer never waits for the audit trail, and memory
//! stays bounded. (Writing one transaction per call from a spawned task, as before, stored
//! ~35 records/s under 1,600 calls/s on SQLite while the pending tasks grew memory by ~28 MB/s.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::{insert_batch, Params, QueuedCall};

/// Most records waiting to be written; beyond, records are dropped (≈ 0.5 KB each).
pub const QUEUE_CAPACITY: usize = 8192;
/// Most records written in one transaction.
const MAX_BATCH: usize = 256;
/// How long the writer waits for more records after the first of a batch: under load this
/// makes batches of many records (one commit each) instead of a commit per few calls; it is
/// also the longest a record waits before its write starts.
const LINGER: Duration = Duration::from_millis(25);

enum Job {
    Call(Box<QueuedCall>),
    /// Answered once everything queued before it is written (or failed).
    Flush(oneshot::Sender<()>),
}

/// The sending side, shared by every clone of the store.
#[derive(Clone)]
pub(crate) struct AuditQueue {
    tx: mpsc::Sender<Job>,
    dropped: Arc<AtomicU64>,
}

impl AuditQueue {
    /// Start the writer task on the current tokio runtime.
    pub(crate) fn start(pool: AnyPool, salt: String, params: Params) -> AuditQueue {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(rx, pool, salt, params));
        AuditQueue {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queue one call without waiting. `false` when it was dropped (queue full or writer gone).
    pub(crate) fn push(&self, call: QueuedCall) -> bool {
        match self.tx.try_send(Job::Call(Box::new(call))) {
            Ok(()) => true,
            Err(_) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                crate::server::metrics::audit_dropped();
                if n.is_power_of_two() {
                    tracing::warn!(
                        dropped = n,
                        capacity = QUEUE_CAPACITY,
                        "audit queue full: audit records dropped"
                    );
                }
                false
            }
        }
    }

    /// Records dropped so far because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Wait until every record queued before this call is written (or has failed).
    pub(crate) async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// The writer: take what is queued (up to `MAX_BATCH`, waiting at most `LINGER` for more
/// after the first), store it in one transaction, repeat.
async fn write_batches(mut rx: mpsc::Receiver<Job>, pool: AnyPool, salt: String, params: Params) {
    let mut calls: Vec<QueuedCall> = Vec::with_capacity(MAX_BATCH);
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Unless a batch is already waiting, let one gather for LINGER: the writer then wakes
        // once per batch, not once per call (every send to a waiting receiver wakes it).
        if matches!(next, Some(Job::Call(_))) && rx.len() + 1 < MAX_BATCH {
            tokio::time::sleep(LINGER).await;
        }
        while let Some(job) = next.take() {
            match job {
                Job::Call(call) => calls.push(*call),
                Job::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            if calls.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !calls.is_empty() {
            if let Err(e) = insert_batch(&pool, &salt, params, &calls).await {
                tracing::warn!(records = calls.len(), error = %e, "audit records not stored");
            }
            calls.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}
