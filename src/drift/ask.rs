//! Asking for a drift check of a pull request: when it is opened or pushed to, and on
//! `/drift`. Only pull requests into a branch-bound environment's branch have
//! an environment to compare.

use std::sync::Arc;

use crate::app::AppContext;
use crate::repo_config::{Deploy, RepoConfig};
use crate::router::{Event, HandlerError, Router};
use crate::store::drift::DriftAsk;
use crate::store::now_ms;

pub fn register(router: &mut Router) {
    for action in ["opened", "reopened", "synchronize"] {
        router.on(&format!("pull_request.{action}"), on_pull_request);
    }
}

/// A pull request into `base`, at `head`.
pub struct PullAt<'a> {
    pub repository: &'a str,
    pub installation_id: i64,
    pub pr: i64,
    pub head_sha: &'a str,
    pub base_ref: &'a str,
    pub base_sha: &'a str,
    pub default_branch: &'a str,
    pub requested_by: Option<&'a str>,
}

/// What a check compares: an environment at its branch's `base_sha`, and for a pull request
/// (`pr` > 0) what `head_sha` would change.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub repository: &'a str,
    pub installation_id: i64,
    pub environment: &'a str,
    pub pr: i64,
    pub head_sha: &'a str,
    pub base_sha: &'a str,
    pub branch: &'a str,
    pub default_branch: &'a str,
    pub requested_by: Option<&'a str>,
}

/// Records the ask under a fresh id (with its report link's token, `/runs/<id>`) and wakes
/// the executor.
pub async fn submit(ctx: &AppContext, subject: &Subject<'_>) -> anyhow::Result<()> {
    let id = crate::runs::new_id()?;
    let issued = ctx.run_links.issue(&id);
    let ask = DriftAsk {
        id: &id,
        token_hash: &issued.token_hash,
        repository: subject.repository,
        installation_id: subject.installation_id,
        environment: subject.environment,
        pr: subject.pr,
        head_sha: subject.head_sha,
        base_sha: subject.base_sha,
        branch: subject.branch,
        default_branch: subject.default_branch,
        requested_by: subject.requested_by,
    };
    ctx.store.ask_drift_check(&ask, now_ms()).await?;
    ctx.drift.wake();
    Ok(())
}

/// What asking did.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    /// The check of this environment is coming.
    Check(String),
    /// This environment's provider has nothing to compare: commands without `status`.
    NothingToCompare(String),
    /// No environment is bound to the pull request's base.
    NoEnvironment,
}

/// Asks for the check of the environment `pull.base_ref` deploys.
pub async fn pull_request(
    ctx: &AppContext,
    config: &RepoConfig,
    pull: &PullAt<'_>,
) -> Result<Asked, HandlerError> {
    let Some((environment, env)) = config.branch_environment(pull.base_ref) else {
        return Ok(Asked::NoEnvironment);
    };
    if let Deploy::Command(commands) = &env.deploy
        && commands.status.is_none()
    {
        return Ok(Asked::NothingToCompare(environment.to_owned()));
    }
    let subject = Subject {
        repository: pull.repository,
        installation_id: pull.installation_id,
        environment,
        pr: pull.pr,
        head_sha: pull.head_sha,
        base_sha: pull.base_sha,
        branch: pull.base_ref,
        default_branch: pull.default_branch,
        requested_by: pull.requested_by,
    };
    submit(ctx, &subject).await.map_err(HandlerError::retry)?;
    Ok(Asked::Check(environment.to_owned()))
}

async fn on_pull_request(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload = event.pull_request()?;
    let pull = &payload.pull_request;
    if pull.state == "closed" {
        return Ok(());
    }
    let loaded = event.config(&ctx).await?;
    let Some(config) = loaded.usable() else {
        return Ok(());
    };
    let at = PullAt {
        repository: &payload.repository.full_name,
        installation_id: event.installation()?.stored(),
        pr: pull.number,
        head_sha: &pull.head.sha,
        base_ref: &pull.base.name,
        base_sha: &pull.base.sha,
        default_branch: &payload.repository.default_branch,
        requested_by: payload.sender.as_ref().map(|s| s.login.as_str()),
    };
    pull_request(&ctx, config, &at).await?;
    Ok(())
}
