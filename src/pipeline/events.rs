//! The webhook side of the pipeline: a push to the default branch runs the steps there, so
//! pull requests' failures can be compared with the base. (A pull request's heads are its
//! preview's flow: see `preview::events`.) Handlers only write runs and wake the executor.

use std::sync::Arc;

use crate::github::events::PushEvent;

use crate::app::AppContext;
use crate::flow::{Deploy, Head, executor::Flow};
use crate::router::{Event, HandlerError, Router};

pub fn register(router: &mut Router) {
    router.on("push", on_push);
}

async fn on_push(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload: &PushEvent = event.push()?;
    let default_branch = payload.repository.default_branch.as_str();
    let Some(branch) = payload.git_ref.strip_prefix("refs/heads/") else {
        return Ok(());
    };
    // The default branch is what pull requests are compared with; other branches' pushes
    // are their PRs' business.
    if payload.deleted || branch != default_branch {
        return Ok(());
    }
    let repo = payload.repository.full_name.as_str();
    let installation = event.installation()?;
    let loaded = event.config(&ctx).await?;
    let Some(config) = loaded.usable().filter(|c| !c.pipeline.is_empty()) else {
        return Ok(());
    };
    // A branch an environment deploys from: its pushes are releases, whose steps the
    // release's flow runs (see `environments::events`).
    if config.branch_environment(branch).is_some() {
        return Ok(());
    }
    let head = Head {
        repository: repo,
        pr: 0,
        installation_id: installation.stored(),
        sha: &payload.after,
        branch,
        base_ref: "",
        default_branch,
        actor: payload.sender.as_ref().map(|u| u.login.as_str()),
    };
    Flow::new(&ctx, head)
        .pushed(config, true, Deploy::Never("branch runs have no preview"))
        .await?;
    Ok(())
}
