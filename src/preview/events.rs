//! The webhook side of previews: a pull request's `pull_request` events say what is wanted of
//! its preview and move its head's flow (its steps start, older heads' runs stop, a close
//! cancels them). Handlers only write the wish and wake the executors, so they finish in
//! milliseconds and one PR's next event never waits for a deploy or a step.

use std::sync::Arc;

use super::decide::{self, PullFacts, Wanted};
use crate::app::AppContext;
use crate::flow::{Head, executor::Flow};
use crate::github::events::PullRequestEvent;
use crate::repo_config::RepoConfig;
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
    let installation = event.installation()?;
    let head = Head {
        repository: repo,
        pr: pull.number,
        installation_id: installation.stored(),
        sha: &pull.head.sha,
        branch: &pull.head.name,
        base_ref: &pull.base.name,
        default_branch: &payload.repository.default_branch,
        actor: payload.sender.as_ref().map(|u| u.login.as_str()),
    };
    let flow = Flow::new(&ctx, head);
    if payload.action == "closed" {
        // Whatever the config says now, nothing of a closed pull request runs on.
        flow.closed().await?;
    }
    let loaded = event.config(&ctx).await?;
    let Some(config) = loaded.usable() else {
        return Ok(());
    };
    let from_fork = pull.is_from_fork(repo);
    let facts = PullFacts {
        action: &payload.action,
        base: &pull.base.name,
        draft: pull.draft,
        from_fork,
    };
    // The head's steps first: the preview's deploy, once woken, looks for them (and would
    // queue them itself were they missing).
    if payload.action != "closed" && !config.pipeline.is_empty() {
        // A fork's code runs only once someone with write access asks (`/retest`, or
        // `/preview` for the preview and what tests it): the runner executes whatever the PR
        // contains.
        flow.pushed(config, !from_fork, decide::deploy_expected(config, &facts))
            .await?;
    }
    want(&ctx, config, payload, &facts, installation.stored()).await
}

/// Records what the event asks of the preview, and wakes the executor when that is new.
async fn want(
    ctx: &AppContext,
    config: &RepoConfig,
    payload: &PullRequestEvent,
    facts: &PullFacts<'_>,
    installation_id: i64,
) -> Result<(), HandlerError> {
    let Some((environment, env)) = config.preview_environment() else {
        return Ok(());
    };
    let Some(settings) = env.preview() else {
        return Ok(());
    };
    let repo = &payload.repository.full_name;
    let pull = &payload.pull_request;
    let now = now_ms();
    match decide::on_pull_request(settings, facts) {
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
                installation_id,
                environment,
                head_sha: &pull.head.sha,
                head_ref: &pull.head.name,
                base_ref: &pull.base.name,
                default_branch: &payload.repository.default_branch,
                from_fork: facts.from_fork,
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
    ctx.previews.cancel([&(repo.clone(), pull.number)]);
    ctx.previews.wake();
    Ok(())
}
