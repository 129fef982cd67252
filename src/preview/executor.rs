//! The preview executor: a background loop that claims previews whose work is due (see
//! `store::previews`) and runs their deploys and destroys, a few at a time, outside the
//! webhook workers. Deploys can take minutes; running them here keeps one PR's later events
//! (a push that supersedes the deploy, a `/preview destroy`) from queueing behind them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::work;
use crate::app::AppContext;
use crate::claims::ClaimLoop;
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

/// Runs until `shutdown`: claims due previews (reconciling is the `preview.reconcile` tick). Work in hand when it
/// comes releases its previews (resumed after the restart).
pub async fn run(ctx: Arc<AppContext>, shutdown: CancellationToken) {
    let owner = lease_owner("preview");
    let claims = ClaimLoop {
        what: "preview work",
        slots: ctx.settings.deploy_concurrency,
        wake: &ctx.previews.wake,
        poll: ctx.settings.poll_interval,
        shutdown: &shutdown,
    };
    let claim = || {
        let now = now_ms();
        ctx.store
            .claim_preview_work(&owner, now + duration_ms(LEASE), now)
    };
    let work = |preview, stop| {
        let (ctx, owner) = (Arc::clone(&ctx), owner.clone());
        async move { work::process(ctx, preview, &owner, stop).await }
    };
    claims.run(claim, work).await;
}
