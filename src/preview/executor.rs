//! The preview executor: a background loop that claims previews whose work is due (see
//! `store::previews`) and runs their deploys and destroys, a few at a time, outside the
//! webhook workers. Deploys can take minutes; running them here keeps one PR's later events
//! (a push that supersedes the deploy, a `/preview destroy`) from queueing behind them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

use super::{reconcile, work};
use crate::app::AppContext;
use crate::store::{duration_ms, lease_owner, now_ms};

/// How the webhook side and the executor talk within one process. Across processes the
/// store is the channel (the loop polls, and leases carry the generation).
#[derive(Default)]
pub struct Signals {
    wake: Notify,
    running: Mutex<HashMap<(String, i64), CancellationToken>>,
}

impl Signals {
    /// Work was written: look now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A newer push or a destroy makes the running work on this PR obsolete: stop it now
    /// (its child processes are killed) instead of letting it finish for nothing.
    pub fn supersede(&self, repository: &str, pr: i64) {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cancel) = running.get(&(repository.to_owned(), pr)) {
            cancel.cancel();
        }
    }

    pub(super) fn track(&self, repository: &str, pr: i64, cancel: CancellationToken) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.insert((repository.to_owned(), pr), cancel);
    }

    pub(super) fn untrack(&self, repository: &str, pr: i64) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.remove(&(repository.to_owned(), pr));
    }
}

/// How long a claim holds before another process may take the preview over; renewed while
/// the work runs.
pub const LEASE: Duration = Duration::from_secs(60);

/// Runs until `shutdown`: claims due previews, and reconciles on a timer.
pub async fn run(ctx: Arc<AppContext>, shutdown: CancellationToken) {
    let owner = lease_owner("preview");
    let slots = Arc::new(Semaphore::new(ctx.settings.deploy_concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let reconciler = tokio::spawn(reconcile::run(Arc::clone(&ctx), shutdown.clone()));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let now = now_ms();
        match ctx
            .store
            .claim_preview_work(&owner, now + duration_ms(LEASE), now)
            .await
        {
            Ok(Some(preview)) => {
                let ctx = Arc::clone(&ctx);
                let owner = owner.clone();
                let stop = shutdown.child_token();
                tasks.spawn(async move {
                    work::process(ctx, preview, &owner, stop).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    () = ctx.previews.wake.notified() => {}
                    () = tokio::time::sleep(ctx.settings.poll_interval) => {}
                    () = shutdown.cancelled() => break,
                }
            }
            Err(err) => {
                drop(permit);
                error!(error = %err, "claiming preview work failed");
                tokio::select! {
                    () = tokio::time::sleep(ctx.settings.poll_interval) => {}
                    () = shutdown.cancelled() => break,
                }
            }
        }
        while let Some(done) = tasks.try_join_next() {
            if let Err(err) = done {
                warn!(error = %err, "a preview task panicked");
            }
        }
    }
    // Work in hand saw the cancellation: it releases its previews (resumed after restart).
    while tasks.join_next().await.is_some() {}
    let _ = reconciler.await;
}
