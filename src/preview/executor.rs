//! The preview executor: a background loop that claims previews whose work is due (see
//! `store::previews`) and runs their deploys and destroys, a few at a time, outside the
//! webhook workers. Deploys can take minutes; running them here keeps one PR's later events
//! (a push that supersedes the deploy, a `/preview destroy`) from queueing behind them.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::work;
use crate::app::AppContext;
use crate::jobs::ClaimLoop;
use crate::store::{duration_ms, lease_owner, now_ms};

/// How the webhook side and the executor talk within one process, by (repository, PR);
/// across processes the store is the channel (the loop polls, and leases carry the
/// generation).
pub type Signals = crate::jobs::Signals<(String, i64)>;

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
        wake: ctx.previews.wake_up(),
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
