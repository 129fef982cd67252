//! What other features (the `/preview` command) may ask of a pull request's preview: deploy
//! its head, or tear it down. The preview's own rules decide; the caller only words the
//! answer.

use super::decide;
use crate::app::AppContext;
use crate::repo_config::{ForkPolicy, RepoConfig};
use crate::store::StoreError;
use crate::store::now_ms;
use crate::store::previews::PreviewHead;

/// The pull request whose head is asked for.
#[derive(Clone, Copy, Debug)]
pub struct Asked<'a> {
    pub repository: &'a str,
    pub pr: i64,
    pub installation_id: i64,
    pub head_sha: &'a str,
    pub head_ref: &'a str,
    pub base_ref: &'a str,
    pub default_branch: &'a str,
    pub from_fork: bool,
    /// Someone with write access asked: for a fork, that is the approval of this head.
    pub by_maintainer: bool,
}

/// Why the preview will not deploy this pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The config has no preview environment.
    NoEnvironment,
    /// `forks: never`.
    Fork,
    /// Previews are for pull requests into these bases only.
    OtherBase { bases: Vec<String> },
}

/// Whether the config lets this pull request have a preview at all (pure).
pub fn refusal(config: &RepoConfig, from_fork: bool, base: &str) -> Option<Refused> {
    let Some(settings) = config
        .preview_environment()
        .and_then(|(_, env)| env.preview())
    else {
        return Some(Refused::NoEnvironment);
    };
    if from_fork && settings.forks == ForkPolicy::Never {
        return Some(Refused::Fork);
    }
    if !decide::base_matches(settings, base) {
        return Some(Refused::OtherBase {
            bases: settings.pull_requests.base.clone(),
        });
    }
    None
}

/// Deploys (or redeploys) the head, unless the config refuses this pull request a preview.
pub async fn deploy(
    ctx: &AppContext,
    config: &RepoConfig,
    asked: &Asked<'_>,
) -> Result<Result<(), Refused>, StoreError> {
    if let Some(refused) = refusal(config, asked.from_fork, asked.base_ref) {
        return Ok(Err(refused));
    }
    let Some((environment, _)) = config.preview_environment() else {
        return Ok(Err(Refused::NoEnvironment));
    };
    let head = PreviewHead {
        repository: asked.repository,
        pr: asked.pr,
        installation_id: asked.installation_id,
        environment,
        head_sha: asked.head_sha,
        head_ref: asked.head_ref,
        base_ref: asked.base_ref,
        default_branch: asked.default_branch,
        from_fork: asked.from_fork,
        approved_sha: asked.by_maintainer.then_some(asked.head_sha),
    };
    ctx.store.want_preview_up(&head, now_ms()).await?;
    ctx.previews
        .cancel([&(asked.repository.to_owned(), asked.pr)]);
    ctx.previews.wake();
    Ok(Ok(()))
}

/// Tears the preview down; `false` when there is none.
pub async fn destroy(
    ctx: &AppContext,
    repository: &str,
    pr: i64,
    reason: &str,
) -> Result<bool, StoreError> {
    let found = ctx
        .store
        .want_preview_down(repository, pr, reason, now_ms())
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    ctx.previews.cancel([&(repository.to_owned(), pr)]);
    ctx.previews.wake();
    Ok(true)
}

/// The head the preview was last asked to deploy (what an approval is checked against).
pub async fn recorded_head(
    ctx: &AppContext,
    repository: &str,
    pr: i64,
) -> Result<Option<String>, StoreError> {
    Ok(ctx.store.preview(repository, pr).await?.map(|p| p.head_sha))
}
