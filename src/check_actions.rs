//! Routing `check_run.rerequested` ("Re-run") and `check_run.requested_action` (a button on a
//! check run) to the feature that owns the check, by its name `gitferry/<feature>`.
//!
//! Checks whose feature has no re-run yet (or that are not gitferry's) are ignored.

use std::sync::Arc;

use tracing::debug;

use crate::app::AppContext;
use crate::commands::rerun::{self, Rerun};
use crate::report::checks::feature_of;
use crate::router::{Event, HandlerError, Router};

pub fn register(router: &mut Router) {
    router.on("check_run.rerequested", on_rerequested);
    router.on("check_run.requested_action", on_requested_action);
}

async fn on_rerequested(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let run = &event.check_run()?.check_run;
    match feature_of(&run.name) {
        Some("config") => crate::config_check::recheck(&ctx, &event, &run.head_sha).await,
        Some(step) => rerun_step(&ctx, &event, step, &run.head_sha).await,
        other => {
            debug!(check = %run.name, feature = ?other, "re-run of a check no feature owns");
            Ok(())
        }
    }
}

/// "Re-run" on a step's check run: a new attempt of that step on that commit, if gitferry ran
/// it there and the sender may `/retest` it (`commands.roles.retest`; GitHub lets anyone with
/// write access press the button, and for a fork it is their approval).
async fn rerun_step(
    ctx: &AppContext,
    event: &Event,
    step: &str,
    sha: &str,
) -> Result<(), HandlerError> {
    let Some(repo) = event.repository.as_deref() else {
        return Ok(());
    };
    let runs = ctx.store.pipeline_steps_on_sha(repo, sha).await?;
    let Some(head) = crate::flow::retest::head_of_rerun(&runs, step) else {
        debug!(
            check = step,
            sha, "re-run of a check gitferry has no run of"
        );
        return Ok(());
    };
    let gh = ctx.github.installation(event.installation()?);
    let Some(config) = event.config(ctx).await?.usable() else {
        return Ok(());
    };
    let rerun = Rerun {
        repo,
        pr: head.pr,
        sha,
        step,
    };
    if !rerun::allowed(ctx, &gh, event, config, &rerun).await? {
        return Ok(());
    }
    let head = crate::flow::Head {
        actor: event.sender(),
        ..head
    };
    crate::flow::retest::retest(ctx, config, &head, Some(step))
        .await
        .map_err(|e| HandlerError::retry(anyhow::Error::new(e)))?;
    Ok(())
}

async fn on_requested_action(_ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload = event.check_run()?;
    if let Some(action) = &payload.requested_action {
        debug!(
            check = %payload.check_run.name,
            identifier = %action.identifier,
            "check-run action no feature owns yet"
        );
    }
    Ok(())
}
