//! Workers: claim deliveries from the store, run the router, record the outcome.
//!
//! Several processes may share one database; the claim query and the lease token keep each
//! delivery with one worker at a time. A worker renews its lease while a handler runs, so only a
//! dead (or partitioned) worker's delivery is ever taken over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};

use super::backoff::retry_delay;
use crate::app::AppContext;
use crate::jobs::Heartbeat;
use crate::metrics::Metrics;
use crate::router::{Event, HandlerError, Router};
use crate::store::{ClaimedDelivery, FailureOutcome, duration_ms, now_ms};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub workers: usize,
    pub max_attempts: u32,
    pub retry_backoff: Duration,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub shutdown_grace: Duration,
}

impl WorkerConfig {
    pub fn from_settings(settings: &crate::settings::Settings) -> Self {
        Self {
            workers: settings.workers.max(1),
            max_attempts: settings.max_attempts.max(1),
            retry_backoff: settings.retry_backoff,
            lease: settings.lease,
            poll_interval: settings.poll_interval,
            shutdown_grace: settings.shutdown_grace,
        }
    }
}

/// The workers of one process.
pub struct WorkerPool {
    ctx: Arc<AppContext>,
    router: Arc<Router>,
    config: WorkerConfig,
    wake: Arc<Notify>,
    /// Unique per process, so lease tokens of two servers never collide.
    instance: String,
    claims: AtomicU64,
}

/// How one claimed delivery ended for this worker.
enum Ending {
    Finished(Result<(), HandlerError>),
    /// The lease could not be renewed: another worker may own the delivery now.
    LeaseLost,
    /// Shutdown grace ran out; the delivery goes back to the queue.
    Abandoned,
}

impl WorkerPool {
    pub fn new(
        ctx: Arc<AppContext>,
        router: Arc<Router>,
        config: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Arc<Self> {
        let nonce = std::hash::BuildHasher::hash_one(
            &std::collections::hash_map::RandomState::new(),
            std::process::id(),
        );
        Arc::new(Self {
            ctx,
            router,
            config,
            wake,
            instance: format!("{}-{nonce:016x}", std::process::id()),
            claims: AtomicU64::new(0),
        })
    }

    /// Runs the workers until `shutdown` is cancelled and every delivery in hand is finished
    /// or released.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut workers = JoinSet::new();
        for _ in 0..self.config.workers {
            let pool = Arc::clone(&self);
            let shutdown = shutdown.clone();
            workers.spawn(async move { pool.work(shutdown).await });
        }
        while workers.join_next().await.is_some() {}
        info!("workers stopped");
    }

    async fn work(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.claim().await {
                Ok(Some(delivery)) => self.process(delivery, &shutdown).await,
                Ok(None) => self.idle(&shutdown).await,
                Err(err) => {
                    error!(error = %err, "claiming a delivery failed");
                    self.idle(&shutdown).await;
                }
            }
        }
    }

    async fn idle(&self, shutdown: &CancellationToken) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(self.config.poll_interval) => {}
            _ = shutdown.cancelled() => {}
        }
    }

    async fn claim(&self) -> Result<Option<ClaimedDelivery>, crate::store::StoreError> {
        let n = self.claims.fetch_add(1, Ordering::Relaxed);
        let token = format!("{}/{n}", self.instance);
        let now = now_ms();
        self.ctx
            .store
            .claim_delivery(&token, now + duration_ms(self.config.lease), now)
            .await
    }

    async fn process(&self, delivery: ClaimedDelivery, shutdown: &CancellationToken) {
        let span = info_span!(
            "delivery",
            delivery_id = %delivery.delivery_id,
            event = %delivery.event,
            action = delivery.action.as_deref().unwrap_or(""),
            repository = delivery.repository.as_deref().unwrap_or(""),
            attempt = delivery.attempts,
        );
        async {
            let labels = Metrics::event(&delivery.event);
            let started = Instant::now();
            let ending = if delivery.attempts > i64::from(self.config.max_attempts) {
                // Only a worker that died holding it every time gets here (its lease lapsed).
                Ending::Finished(Err(HandlerError::permanent(anyhow::anyhow!(
                    "gave up after {} attempts whose workers stopped before finishing",
                    delivery.attempts - 1
                ))))
            } else {
                self.run_handlers(&delivery, shutdown).await
            };
            self.ctx
                .metrics
                .processing_seconds
                .get_or_create(&labels)
                .observe(started.elapsed().as_secs_f64());
            self.record(&delivery, ending).await;
        }
        .instrument(span)
        .await
    }

    /// Runs the router while renewing the lease; gives up on shutdown after the grace period.
    async fn run_handlers(
        &self,
        delivery: &ClaimedDelivery,
        shutdown: &CancellationToken,
    ) -> Ending {
        let event = match parse_event(delivery) {
            Ok(event) => Arc::new(event),
            Err(err) => return Ending::Finished(Err(HandlerError::permanent(err))),
        };
        let work = self.router.dispatch(Arc::clone(&self.ctx), event);
        tokio::pin!(work);
        let store = &self.ctx.store;
        let lost = Heartbeat::new(self.config.lease).until_lost("a delivery", |until| {
            store.renew_lease(delivery.id, &delivery.lease_owner, until)
        });
        let grace = async {
            shutdown.cancelled().await;
            tokio::time::sleep(self.config.shutdown_grace).await;
        };
        tokio::select! {
            result = &mut work => Ending::Finished(result),
            () = lost => Ending::LeaseLost,
            () = grace => Ending::Abandoned,
        }
    }

    async fn record(&self, delivery: &ClaimedDelivery, ending: Ending) {
        let store = &self.ctx.store;
        let metrics = &self.ctx.metrics;
        let labels = Metrics::event(&delivery.event);
        let now = now_ms();
        let owner = &delivery.lease_owner;
        let written = match ending {
            Ending::Finished(Ok(())) => {
                metrics.deliveries_processed.get_or_create(&labels).inc();
                info!("delivery processed");
                store.complete_delivery(delivery.id, owner, now).await
            }
            Ending::Finished(Err(err)) => {
                metrics.deliveries_failed.get_or_create(&labels).inc();
                let outcome = self.failure_outcome(delivery, &err, now);
                match outcome {
                    FailureOutcome::Dead => {
                        metrics.deliveries_dead.get_or_create(&labels).inc();
                        error!(error = %err, "delivery dead-lettered");
                    }
                    FailureOutcome::RetryAt(at) => {
                        warn!(error = %err, retry_in_ms = at - now, "delivery failed; will retry");
                    }
                }
                store
                    .fail_delivery(delivery.id, owner, &format!("{err}"), outcome, now)
                    .await
            }
            Ending::LeaseLost => {
                warn!("lease lost while processing; another worker owns the delivery now");
                return;
            }
            Ending::Abandoned => {
                info!("shutdown grace ran out; delivery released");
                store.release_delivery(delivery.id, owner, now).await
            }
        };
        match written {
            Ok(true) => {}
            Ok(false) => warn!("lease lost before the outcome was recorded"),
            // The lease will lapse and the delivery will be processed again: effects are
            // idempotent, so that is safe, only slower.
            Err(err) => error!(error = %err, "recording the delivery outcome failed"),
        }
    }

    fn failure_outcome(
        &self,
        delivery: &ClaimedDelivery,
        err: &HandlerError,
        now: i64,
    ) -> FailureOutcome {
        let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
        match err {
            HandlerError::Permanent(_) => FailureOutcome::Dead,
            HandlerError::Retry { .. } if attempts >= self.config.max_attempts => {
                FailureOutcome::Dead
            }
            HandlerError::Retry { after, .. } => {
                let delay = retry_delay(attempts, self.config.retry_backoff, *after);
                FailureOutcome::RetryAt(now + duration_ms(delay))
            }
        }
    }
}

/// The delivery as its handlers see it, its payload parsed here once for all of them.
fn parse_event(delivery: &ClaimedDelivery) -> Result<Event, serde_json::Error> {
    Event::new(
        delivery.delivery_id.clone(),
        delivery.event.clone(),
        delivery.action.clone(),
        delivery.installation_id,
        delivery.repository.clone(),
        delivery.payload.as_bytes(),
    )
}
