//! The release executor: a background loop that claims releases whose work is due (see
//! `store::releases`) and deploys or reports them, outside the webhook workers.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::work;
use crate::app::AppContext;
use crate::jobs::ClaimLoop;
use crate::store::{duration_ms, lease_owner, now_ms};

/// How long a claim holds before another process may take the release over; renewed while
/// the work runs.
pub const LEASE: Duration = Duration::from_secs(60);

/// Runs until `shutdown`. Work in hand when it comes is taken up again after the restart.
pub async fn run(ctx: Arc<AppContext>, shutdown: CancellationToken) {
    let owner = lease_owner("release");
    let claims = ClaimLoop {
        what: "release work",
        slots: ctx.settings.deploy_concurrency,
        wake: ctx.releases.wake_up(),
        poll: ctx.settings.poll_interval,
        shutdown: &shutdown,
    };
    let claim = || {
        let now = now_ms();
        ctx.store
            .claim_release_work(&owner, now + duration_ms(LEASE), now)
    };
    let work = |release, stop| {
        let (ctx, owner) = (Arc::clone(&ctx), owner.clone());
        async move { work::process(ctx, release, &owner, stop).await }
    };
    claims.run(claim, work).await;
}
