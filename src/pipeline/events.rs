//! The webhook side of the pipeline: a pull request's new head queues its steps (and cancels
//! the runs of the head it replaces); closing it cancels what is left; a push to the default
//! branch runs the steps there, so PR failures can be compared with the base. Handlers only
//! write runs and wake the executor.

use crate::github::short_sha;
use std::sync::Arc;

use crate::github::events::{PullRequestEvent, PushEvent};

use super::queue::{self, Head, Mode, PreviewExpected, Selection};
use crate::app::AppContext;
use crate::preview::decide::{self, PullFacts, Wanted};
use crate::repo_config::RepoConfig;
use crate::router::{Event, HandlerError, Router};
use crate::store::now_ms;

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
    router.on("push", on_push);
}

async fn on_pull_request(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload: &PullRequestEvent = event.pull_request()?;
    let repo = payload.repository.full_name.as_str();
    let pull = &payload.pull_request;
    let now = now_ms();
    if payload.action == "closed" {
        let reason = "the pull request was closed";
        let running = ctx
            .store
            .supersede_pipeline_steps(repo, pull.number, "", reason, now)
            .await?;
        ctx.pipeline.cancel(&running);
        ctx.pipeline.wake();
        return Ok(());
    }
    let installation = event.installation()?;
    let gh = ctx.github.installation(installation);
    let loaded = ctx
        .configs
        .get(&gh, &ctx.store, repo, &payload.repository.default_branch)
        .await
        .map_err(HandlerError::retry)?;
    let Some(config) = loaded.usable().filter(|c| !c.pipeline.is_empty()) else {
        return Ok(());
    };
    let from_fork = pull.is_from_fork(repo);
    let reason = format!("superseded by a newer push ({})", short_sha(&pull.head.sha));
    let running = ctx
        .store
        .supersede_pipeline_steps(repo, pull.number, &pull.head.sha, &reason, now)
        .await?;
    ctx.pipeline.cancel(&running);
    // A fork's code runs only once someone with write access asks (`/retest`, or `/preview`
    // for the preview and what tests it): the runner executes whatever the PR contains.
    if !from_fork {
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
        let facts = PullFacts {
            action: &payload.action,
            base: &pull.base.name,
            draft: pull.draft,
            from_fork,
        };
        ensure(&ctx, config, &head, preview_expected(config, &facts)).await?;
    }
    ctx.pipeline.wake();
    Ok(())
}

/// Whether this PR's head will be deployed as a preview its after-deploy steps can test.
pub fn preview_expected(config: &RepoConfig, facts: &PullFacts<'_>) -> PreviewExpected {
    let Some(settings) = config
        .preview_environment()
        .and_then(|(_, env)| env.preview())
    else {
        return PreviewExpected::No("the repository has no preview environment");
    };
    match decide::on_pull_request(settings, facts) {
        Wanted::Up => PreviewExpected::Yes,
        _ if facts.draft => PreviewExpected::No("drafts get no preview in this repository"),
        _ => PreviewExpected::No("this pull request gets no preview (see `pull_requests`)"),
    }
}

/// Queues the head's steps that have no run on it yet.
pub async fn ensure(
    ctx: &AppContext,
    config: &RepoConfig,
    head: &Head<'_>,
    preview: PreviewExpected,
) -> Result<(), HandlerError> {
    let existing = ctx
        .store
        .pipeline_steps_of(head.repository, head.pr, head.sha)
        .await?;
    let planned = queue::plan(
        config,
        head,
        Selection::All,
        preview,
        &existing,
        Mode::Ensure,
    );
    queue::create(&ctx.store, config, head, &planned, None, now_ms())
        .await
        .map_err(|e| HandlerError::retry(anyhow::Error::new(e)))?;
    Ok(())
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
    let gh = ctx.github.installation(installation);
    let loaded = ctx
        .configs
        .get(&gh, &ctx.store, repo, default_branch)
        .await
        .map_err(HandlerError::retry)?;
    let Some(config) = loaded.usable().filter(|c| !c.pipeline.is_empty()) else {
        return Ok(());
    };
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
    ensure(
        &ctx,
        config,
        &head,
        PreviewExpected::No("branch runs have no preview"),
    )
    .await?;
    ctx.pipeline.wake();
    Ok(())
}
