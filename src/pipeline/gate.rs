//! The preview deploy waits for the steps that run before it: "steps before deploy, then the
//! preview deploy, then `after: deploy` steps", and a failed step stops what depends on it.
//! The preview work asks [`check`] before it deploys; the pipeline wakes the preview when the
//! last of those steps is done.

use super::events;
use super::queue::{Head, PreviewExpected};
use crate::app::AppContext;
use crate::repo_config::RepoConfig;
use crate::router::HandlerError;
use crate::store::pipeline::{PipelineStep, StepConclusion, StepState};
use crate::store::previews::Preview;

/// May the preview of this head deploy?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// No step runs before the deploy, or all of them passed.
    Open,
    /// These steps have not finished yet.
    Waiting(Vec<String>),
    /// These steps did not pass: the deploy (and what tests it) does not happen.
    Blocked(Vec<String>),
}

impl Gate {
    /// Why the preview was not deployed, for the PR.
    pub fn blocked_reason(steps: &[String]) -> String {
        // Plain words: the reason is shown escaped, in titles and in Markdown alike.
        match steps {
            [one] => format!("step {one} did not pass"),
            many => format!("steps {} did not pass", many.join(", ")),
        }
    }
}

/// The gate for `preview`'s head; queues the head's steps first if they have no runs (a fork
/// whose preview a maintainer approved, or a PR opened before the pipeline was configured).
pub async fn check(
    ctx: &AppContext,
    config: &RepoConfig,
    preview: &Preview,
) -> Result<Gate, HandlerError> {
    if config.pipeline.iter().all(|step| step.after.is_some()) {
        return Ok(Gate::Open);
    }
    let head = Head {
        repository: &preview.repository,
        pr: preview.pr,
        installation_id: preview.installation_id,
        sha: &preview.head_sha,
        branch: &preview.head_ref,
        base_ref: &preview.base_ref,
        default_branch: &preview.default_branch,
        actor: None,
    };
    events::ensure(ctx, config, &head, PreviewExpected::Yes).await?;
    let runs = ctx
        .store
        .pipeline_steps_of(&preview.repository, preview.pr, &preview.head_sha)
        .await?;
    ctx.pipeline.wake();
    Ok(decide(config, &runs))
}

/// The gate from the head's runs (pure): each step before deploy counts by its latest attempt.
pub fn decide(config: &RepoConfig, runs: &[PipelineStep]) -> Gate {
    let mut waiting = Vec::new();
    let mut failed = Vec::new();
    for step in config.pipeline.iter().filter(|s| s.after.is_none()) {
        let name = step.name.as_str();
        let latest = runs
            .iter()
            .filter(|run| run.step == name)
            .max_by_key(|run| run.attempt);
        match latest {
            Some(run) if run.state() == StepState::Done => {
                if run.conclusion() != Some(StepConclusion::Success) {
                    failed.push(name.to_owned());
                }
            }
            _ => waiting.push(name.to_owned()),
        }
    }
    if !failed.is_empty() {
        Gate::Blocked(failed)
    } else if !waiting.is_empty() {
        Gate::Waiting(waiting)
    } else {
        Gate::Open
    }
}

/// Whether every step before deploy of this head is done (the preview may be woken).
pub fn settled(config: &RepoConfig, runs: &[PipelineStep]) -> bool {
    !matches!(decide(config, runs), Gate::Waiting(_))
}

/// Called by a preview that just parked waiting for steps: if they finished meanwhile (their
/// wake-up came before it parked), it is made due again rather than waiting forever.
pub async fn recheck_after_parking(
    ctx: &AppContext,
    config: &RepoConfig,
    preview: &Preview,
) -> Result<(), HandlerError> {
    let runs = ctx
        .store
        .pipeline_steps_of(&preview.repository, preview.pr, &preview.head_sha)
        .await?;
    if settled(config, &runs) {
        ctx.store
            .wake_preview_any(&preview.repository, preview.pr)
            .await?;
        ctx.previews.wake();
    }
    Ok(())
}
