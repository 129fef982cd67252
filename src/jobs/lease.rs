//! Keeping a claim's lease while its work runs: the one heartbeat of every worker (webhook
//! deliveries, preview work, pipeline steps, ticks).
//!
//! A claim holds its row until `lease_until`; work that lasts longer renews it. When a renewal
//! finds the row is no longer this worker's (the lease lapsed and another worker claimed it)
//! or its work no longer wanted (superseded), the work must stop: another worker may be doing
//! it now, and whatever this one would write is refused by the store's guard anyway.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::store::{StoreError, duration_ms, now_ms};

/// The shortest interval between renewals: a zero lease (a misconfiguration) must not make
/// the heartbeat spin.
const MIN_BEAT: Duration = Duration::from_millis(10);

/// How a lease is kept: renewed every `every`, each renewal holding for `lease`.
#[derive(Clone, Copy, Debug)]
pub struct Heartbeat {
    lease: Duration,
    every: Duration,
}

impl Heartbeat {
    /// Renewed every third of `lease`, so two renewals in a row may fail (a store hiccup)
    /// before the lease lapses.
    pub fn new(lease: Duration) -> Self {
        Self {
            lease,
            every: (lease / 3).max(MIN_BEAT),
        }
    }

    /// Renews every `every` instead (more often: the pipeline saves a step's log with each
    /// renewal, so its link shows progress).
    pub fn every(self, every: Duration) -> Self {
        Self {
            every: every.max(MIN_BEAT),
            ..self
        }
    }

    /// Renews the lease every `every` until it is lost, and returns then; never while it is
    /// held, so callers race it against their work (or spawn it and abort it when the work
    /// is done). Start it right after the claim: the claim's lease is counted from here.
    ///
    /// `renew` is given the new `lease_until` and answers whether the row is still this
    /// worker's and its work still wanted; `Ok(false)` (another worker claimed it, or the
    /// work was superseded) ends the heartbeat at once. A failing store is logged and
    /// tolerated while the last renewal still holds, but once the lease may have lapsed
    /// unrenewed it counts as lost: another worker may have taken the work over.
    pub async fn until_lost<F, Fut>(self, what: &'static str, mut renew: F)
    where
        F: FnMut(i64) -> Fut,
        Fut: Future<Output = Result<bool, StoreError>>,
    {
        let mut held_until = Instant::now() + self.lease;
        loop {
            tokio::time::sleep(self.every).await;
            let asked = Instant::now();
            match renew(now_ms() + duration_ms(self.lease)).await {
                Ok(true) => held_until = asked + self.lease,
                Ok(false) => return,
                Err(err) if Instant::now() >= held_until => {
                    warn!(what, error = %err, "cannot renew a lease, which may have lapsed: the work stops");
                    return;
                }
                Err(err) => warn!(what, error = %err, "renewing a lease failed; trying again"),
            }
        }
    }

    /// [`Self::until_lost`], then cancels `cancel`: for work that stops at its next safe
    /// point (killing its processes) rather than being dropped.
    pub async fn cancel_when_lost<F, Fut>(
        self,
        what: &'static str,
        cancel: &CancellationToken,
        renew: F,
    ) where
        F: FnMut(i64) -> Fut,
        Fut: Future<Output = Result<bool, StoreError>>,
    {
        self.until_lost(what, renew).await;
        cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const LEASE: Duration = Duration::from_millis(300);

    fn failing() -> StoreError {
        StoreError::Query(sqlx::Error::PoolTimedOut)
    }

    #[tokio::test]
    async fn the_heartbeat_renews_until_the_row_is_taken_over() {
        let renewals = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&renewals);
        let before = now_ms();
        Heartbeat::new(LEASE)
            .every(Duration::from_millis(10))
            .until_lost("test", move |until| {
                assert!(until >= before + 300, "each renewal holds a whole lease");
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move { Ok(n < 4) }
            })
            .await;
        assert_eq!(renewals.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn a_store_hiccup_is_tolerated_while_the_lease_holds() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let cancel = CancellationToken::new();
        Heartbeat::new(LEASE)
            .every(Duration::from_millis(10))
            .cancel_when_lost("test", &cancel, move |_| {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    match n {
                        0 | 2 => Err(failing()),
                        1 | 3 => Ok(true),
                        _ => Ok(false),
                    }
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 5, "failures did not end it");
        assert!(cancel.is_cancelled(), "the lost lease cancels the work");
    }

    #[tokio::test]
    async fn a_lease_not_renewed_for_a_whole_lease_counts_as_lost() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let started = Instant::now();
        Heartbeat::new(LEASE)
            .until_lost("test", move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
                async { Err(failing()) }
            })
            .await;
        assert!(
            started.elapsed() >= LEASE,
            "not before the lease could lapse"
        );
        assert!(
            calls.load(Ordering::SeqCst) <= 3,
            "every third of the lease"
        );
    }
}
