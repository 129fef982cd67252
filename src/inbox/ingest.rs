//! Ingest: a verified delivery becomes a row before GitHub gets its answer.

use std::sync::Arc;

use tokio::sync::Notify;

use super::envelope::{Envelope, MalformedPayload};
use super::group_commit::{CommitError, GroupCommit};
use crate::metrics::Metrics;
use crate::router::Router;
use crate::store::{DeliveryState, Inserted, Store, now_ms};

/// What became of an accepted delivery; the HTTP layer turns it into a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored; a worker will process it.
    Queued,
    /// Stored for the record; no feature handles this event.
    Ignored,
    /// This `X-GitHub-Delivery` was stored before; nothing changed.
    Duplicate,
    /// A `ping` (sent when the webhook is created): stored as done, answered at once.
    Pong,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Malformed(#[from] MalformedPayload),
    #[error("payload is not UTF-8")]
    NotUtf8,
    #[error("cannot store the delivery: {0}")]
    Store(#[from] CommitError),
}

#[derive(Clone)]
pub struct Ingest {
    writer: GroupCommit,
    router: Arc<Router>,
    metrics: Arc<Metrics>,
    wake_workers: Arc<Notify>,
}

impl Ingest {
    pub fn new(
        store: Store,
        router: Arc<Router>,
        metrics: Arc<Metrics>,
        wake_workers: Arc<Notify>,
    ) -> Self {
        Self {
            writer: GroupCommit::spawn(store),
            router,
            metrics,
            wake_workers,
        }
    }

    /// Parses, classifies and stores one delivery whose signature was already verified.
    pub async fn accept(
        &self,
        event: &str,
        delivery_id: &str,
        body: Vec<u8>,
    ) -> Result<IngestOutcome, IngestError> {
        let envelope = Envelope::parse(&body)?;
        let payload = String::from_utf8(body).map_err(|_| IngestError::NotUtf8)?;
        let (state, outcome) = if event == "ping" {
            (DeliveryState::Done, IngestOutcome::Pong)
        } else if self.router.handles(event, envelope.action.as_deref()) {
            (DeliveryState::Pending, IngestOutcome::Queued)
        } else {
            (DeliveryState::Ignored, IngestOutcome::Ignored)
        };
        let delivery = envelope.into_new_delivery(delivery_id, event, payload, now_ms(), state);
        match self.writer.insert(delivery).await? {
            Inserted::Duplicate => {
                self.metrics.deliveries_duplicate.inc();
                Ok(IngestOutcome::Duplicate)
            }
            Inserted::New => {
                self.metrics
                    .deliveries_received
                    .get_or_create(&Metrics::event(event))
                    .inc();
                if outcome == IngestOutcome::Queued {
                    self.wake_workers.notify_one();
                }
                Ok(outcome)
            }
        }
    }
}
