//! The webhook side of previews: `pull_request` events say what is wanted; the executor does
//! it. Handlers only write the wish and wake the executor, so they finish in milliseconds and
//! one PR's next event never waits for a deploy.

use std::sync::Arc;

use super::decide::{self, PullFacts, Wanted};
use crate::app::AppContext;
use crate::github::events::PullRequestEvent;
use crate::router::{Event, HandlerError, Router};
use crate::store::now_ms;
use crate::store::previews::PreviewHead;

pub fn register(router: &mut Router) {
    for action in [
        "opened",
        "reopened",
        "synchronize",
        "ready_for_review",
        "closed",
    ] {
        router.on(&format!("pull_request.{action}"), on_pull_request);
    }
}

async fn on_pull_request(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload: &PullRequestEvent = event.pull_request()?;
    let repo = &payload.repository.full_name;
    let pull = &payload.pull_request;
    let from_fork = pull.is_from_fork(repo);
    let installation = event.installation()?;
    let gh = ctx.github.installation(installation);
    let loaded = ctx
        .configs
        .get(&gh, &ctx.store, repo, &payload.repository.default_branch)
        .await
        .map_err(HandlerError::retry)?;
    let Some((environment, env)) = loaded.usable().and_then(|c| c.preview_environment()) else {
        return Ok(());
    };
    let Some(settings) = env.preview() else {
        return Ok(());
    };
    let facts = PullFacts {
        action: &payload.action,
        base: &pull.base.name,
        draft: pull.draft,
        from_fork,
    };
    let now = now_ms();
    match decide::on_pull_request(settings, &facts) {
        Wanted::Nothing => return Ok(()),
        Wanted::Up => {
            let current = ctx.store.preview(repo, pull.number).await?;
            if decide::is_repeat(current.as_ref(), &pull.head.sha) {
                // The inbox hands one PR's events over in order, so nothing changes the row
                // between this read and the write below.
                tracing::info!(
                    repository = %repo,
                    pr = pull.number,
                    sha = %pull.head.sha,
                    "the preview already has this head; nothing to do"
                );
                return Ok(());
            }
            let head = PreviewHead {
                repository: repo,
                pr: pull.number,
                installation_id: installation.stored(),
                environment,
                head_sha: &pull.head.sha,
                head_ref: &pull.head.name,
                base_ref: &pull.base.name,
                default_branch: &payload.repository.default_branch,
                from_fork,
                approved_sha: None,
            };
            ctx.store.want_preview_up(&head, now).await?;
        }
        Wanted::Down => {
            let reason = if pull.merged {
                "the pull request was merged"
            } else {
                "the pull request was closed"
            };
            if ctx
                .store
                .want_preview_down(repo, pull.number, reason, now)
                .await?
                .is_none()
            {
                return Ok(());
            }
        }
    }
    ctx.previews.supersede(repo, pull.number);
    ctx.previews.wake();
    Ok(())
}
