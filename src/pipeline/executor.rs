//! The pipeline executor: a background loop that claims step runs (see `store::pipeline`) and
//! runs or reports them, many at a time, outside the webhook workers. The store's claim keeps
//! each repository within its `runner.concurrency`; the local runner keeps this host within
//! its own limit.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::work;
use crate::app::AppContext;
use crate::jobs::ClaimLoop;
use crate::store::{duration_ms, lease_owner, now_ms};

/// How the webhook side and the executor talk within one process, by run id; across
/// processes the store is the channel (runs carry `cancel_requested`, seen at the next lease
/// renewal).
pub type Signals = crate::jobs::Signals<String>;

/// How long a claim holds before another process may take the run over; renewed while the
/// step runs.
pub const LEASE: Duration = Duration::from_secs(60);

/// Most runs in hand at once in this process (running or reporting). Local steps are further
/// bounded by the host's limit; Kubernetes steps mostly wait on the cluster.
const IN_FLIGHT: usize = 32;

/// Runs until `shutdown`. Runs in hand when it comes give their steps back (run again after
/// the restart).
pub async fn run(ctx: Arc<AppContext>, shutdown: CancellationToken) {
    let owner = lease_owner("pipeline");
    let runners = Arc::new(work::Runners::new(&ctx.settings));
    let claims = ClaimLoop {
        what: "a pipeline step",
        slots: IN_FLIGHT,
        wake: ctx.pipeline.wake_up(),
        poll: ctx.settings.poll_interval,
        shutdown: &shutdown,
    };
    let claim = || {
        let now = now_ms();
        ctx.store
            .claim_pipeline_step(&owner, now + duration_ms(LEASE), now)
    };
    let work = |step, stop| {
        let (ctx, runners, owner) = (Arc::clone(&ctx), Arc::clone(&runners), owner.clone());
        async move { work::process(ctx, runners, step, &owner, stop).await }
    };
    claims.run(claim, work).await;
}
