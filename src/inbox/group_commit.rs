//! Group commit: concurrent webhook requests share one database transaction.
//!
//! Each request still gets its answer only after its delivery is committed (principle 1), but
//! a burst of N deliveries costs one commit instead of N. On SQLite that also means a single
//! writer instead of N connections taking turns on the write lock (whose busy handler sleeps).
//!
//! PostgreSQL gets several writers, and a delivery goes to the writer its ordering key hashes
//! to: one PR's deliveries then share batches instead of several writers queueing on that
//! PR's queue row lock (see `store::delivery_queues`), one commit after another.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::error;

use crate::store::{Dialect, Inserted, NewDelivery, Store, StoreError};

/// Most deliveries written in one transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for a writer before new ones wait for room (backpressure).
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<Result<Inserted, Arc<StoreError>>>;

#[derive(Clone)]
pub struct GroupCommit {
    writers: Arc<[mpsc::Sender<(NewDelivery, Reply)>]>,
    hasher: RandomState,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("{0}")]
    Store(Arc<StoreError>),
    #[error("the delivery writer has stopped")]
    Stopped,
}

impl GroupCommit {
    /// Starts the writers: one for SQLite (it has one write lock anyway), a few for PostgreSQL.
    pub fn spawn(store: Store) -> Self {
        let count = match store.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 4,
        };
        let writers = (0..count)
            .map(|_| {
                let (queue, receiver) = mpsc::channel(QUEUE_DEPTH / count);
                tokio::spawn(write_batches(store.clone(), receiver));
                queue
            })
            .collect();
        Self {
            writers,
            hasher: RandomState::new(),
        }
    }

    /// Stores one delivery; resolves once it is committed.
    pub async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, CommitError> {
        let (reply, answer) = oneshot::channel();
        let shard = delivery
            .ordering_key
            .as_deref()
            .unwrap_or(&delivery.delivery_id);
        let index = self.hasher.hash_one(shard) as usize % self.writers.len();
        self.writers[index]
            .send((delivery, reply))
            .await
            .map_err(|_| CommitError::Stopped)?;
        match answer.await {
            Ok(result) => result.map_err(CommitError::Store),
            Err(_) => Err(CommitError::Stopped),
        }
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<(NewDelivery, Reply)>) {
    loop {
        let mut batch = Vec::new();
        if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every sender is gone: the server is stopping
        }
        let (deliveries, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match store.insert_deliveries(&deliveries).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The requester may have gone (client hung up); the row is stored anyway.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                error!(error = %err, batch = replies.len(), "storing deliveries failed");
                let err = Arc::new(err);
                for reply in replies {
                    let _ = reply.send(Err(Arc::clone(&err)));
                }
            }
        }
    }
}
