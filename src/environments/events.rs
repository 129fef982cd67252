//! The webhook side of releases: a push to an environment's branch records the release
//! (once, whichever process or redelivery sees it), supersedes the environment's releases
//! still in flight, queues the head's steps and wakes the executor.

use std::sync::Arc;

use tracing::info;

use super::start::Why;
use crate::app::AppContext;
use crate::router::{Event, HandlerError, Router};
use crate::store::promotions::PromotionState;
use crate::store::releases::{NewRelease, ReleaseCause};

pub fn register(router: &mut Router) {
    router.on("push", on_push);
}

async fn on_push(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let push = event.push()?;
    let Some(branch) = push.git_ref.strip_prefix("refs/heads/") else {
        return Ok(());
    };
    if push.deleted || push.after.chars().all(|c| c == '0') {
        return Ok(());
    }
    let loaded = event.config(&ctx).await?;
    let Some(config) = loaded.usable() else {
        return Ok(());
    };
    let Some((environment, env)) = config.branch_environment(branch) else {
        return Ok(());
    };
    let repo = push.repository.full_name.as_str();
    let installation = event.installation()?;
    let id = crate::runs::new_id().map_err(HandlerError::retry)?;
    let issued = ctx.run_links.issue(&id);
    let actor = push.sender.as_ref().map(|u| u.login.as_str());
    // A promotion pull request merged by hand (gitferry's own merge comes with approvals):
    // it still releases, and says it was not approved through gitferry.
    let lands_promotion = env.promote_from.is_some()
        && merges_the_promotion(&ctx, &event, repo, environment, &push.after).await?;
    if lands_promotion && gitferry_merges(&ctx, repo, environment, &push.after).await? {
        info!(repository = %repo, environment, "gitferry's own promotion merge: its merger records the release");
        return Ok(());
    }
    let by_hand = lands_promotion;
    let (cause, approvers) = if by_hand {
        (ReleaseCause::Promotion, Some(NOT_APPROVED))
    } else {
        (ReleaseCause::Push, None)
    };
    let new = NewRelease {
        id: &id,
        token_hash: &issued.token_hash,
        repository: repo,
        environment,
        sha: &push.after,
        before_sha: &push.before,
        branch,
        default_branch: &push.repository.default_branch,
        installation_id: installation.stored(),
        cause,
        actor,
        approvers,
        rollback_of: None,
    };
    let how = format!("a push to {branch}");
    let why = Why {
        outcome: if by_hand {
            "recorded, merged by hand: not approved through gitferry"
        } else {
            "recorded"
        },
        how: &how,
        delivery_id: Some(&event.delivery_id),
    };
    super::start::release(&ctx, config, &new, &why).await?;
    Ok(())
}

/// The approvers of a promotion merged by hand: none through gitferry.
pub const NOT_APPROVED: &str = "[]";

/// Whether gitferry is merging the environment's promotion (or merged it as `sha`): then the
/// merge records the release, with its approvers.
async fn gitferry_merges(
    ctx: &AppContext,
    repo: &str,
    environment: &str,
    sha: &str,
) -> Result<bool, HandlerError> {
    let promotion = ctx.store.promotion(repo, environment).await?;
    Ok(promotion.is_some_and(|p| match p.state() {
        Some(PromotionState::Merging) => true,
        Some(PromotionState::Merged) => p.merged_sha.as_deref() == Some(sha),
        _ => false,
    }))
}

/// Whether `sha` lands the environment's promotion branch: it is its head, or a merge commit
/// with it as a parent.
async fn merges_the_promotion(
    ctx: &AppContext,
    event: &Event,
    repo: &str,
    environment: &str,
    sha: &str,
) -> Result<bool, HandlerError> {
    let gh = ctx.github.installation(event.installation()?);
    let branch = super::promote::promotion_branch(environment);
    let Some(pinned) = gh.branch_ref(repo, &branch).await? else {
        return Ok(false);
    };
    if pinned.sha == sha {
        return Ok(true);
    }
    let commit = gh.git_commit(repo, sha).await?;
    Ok(commit.parents.contains(&pinned.sha))
}
