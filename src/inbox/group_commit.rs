//! Group commit: concurrent webhook requests share one database transaction.
//!
//! Each request still gets its answer only after its delivery is committed (principle 1), but
//! a burst of N deliveries costs one commit instead of N. On SQLite that also means a single
//! writer instead of N connections taking turns on the write lock (whose busy handler sleeps).

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::error;

use crate::store::{Dialect, Inserted, NewDelivery, Store, StoreError};

/// Most deliveries written in one transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for a writer before new ones wait for room (backpressure).
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<Result<Inserted, Arc<StoreError>>>;

#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<(NewDelivery, Reply)>,
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
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match store.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(write_batches(store.clone(), Arc::clone(&receiver)));
        }
        Self { queue }
    }

    /// Stores one delivery; resolves once it is committed.
    pub async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((delivery, reply))
            .await
            .map_err(|_| CommitError::Stopped)?;
        match answer.await {
            Ok(result) => result.map_err(CommitError::Store),
            Err(_) => Err(CommitError::Stopped),
        }
    }
}

async fn write_batches(store: Store, receiver: Arc<Mutex<mpsc::Receiver<(NewDelivery, Reply)>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return; // every sender is gone: the server is stopping
            }
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
