//! The drift executor: a background loop that claims drift checks (see `store::drift`) and
//! makes them, outside the webhook workers (a render command or a large namespace takes
//! seconds, and a pull request's other webhooks must not wait behind it).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::work::{self, LEASE};
use crate::app::AppContext;
use crate::jobs::ClaimLoop;
use crate::store::{duration_ms, lease_owner, now_ms};

/// Runs until `shutdown`.
pub async fn run(ctx: Arc<AppContext>, shutdown: CancellationToken) {
    let owner = lease_owner("drift");
    let claims = ClaimLoop {
        what: "drift checks",
        slots: ctx.settings.deploy_concurrency,
        wake: ctx.drift.wake_up(),
        poll: ctx.settings.poll_interval,
        shutdown: &shutdown,
    };
    let claim = || {
        let now = now_ms();
        ctx.store
            .claim_drift_check(&owner, now + duration_ms(LEASE), now)
    };
    let check = |check, stop| {
        let (ctx, owner) = (Arc::clone(&ctx), owner.clone());
        async move { work::process(ctx, check, &owner, stop).await }
    };
    claims.run(claim, check).await;
}
