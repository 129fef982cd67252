//! The webhook side of releases: a push to an environment's branch records the release
//! (once, whichever process or redelivery sees it), supersedes the environment's releases
//! still in flight, queues the head's steps and wakes the executor.

use std::sync::Arc;

use tracing::info;

use crate::app::AppContext;
use crate::flow::{Deploy, Head, executor::Flow};
use crate::router::{Event, HandlerError, Router};
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
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
    let by_hand = env.promote_from.is_some()
        && merges_the_promotion(&ctx, &event, repo, environment, &push.after).await?;
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
    let Some(recorded) = ctx.store.record_release(&new, now_ms()).await? else {
        info!(repository = %repo, environment, sha = %push.after, "this push is released already");
        return Ok(());
    };
    ctx.releases.cancel(&recorded.superseded);
    let release = &recorded.release;
    ctx.store
        .record_audit(&AuditEntry {
            at: now_ms(),
            actor: actor.unwrap_or("unknown").to_owned(),
            action: "release".to_owned(),
            repository: repo.to_owned(),
            pr: None,
            environment: Some(environment.to_owned()),
            sha: Some(push.after.clone()),
            outcome: if by_hand {
                "recorded, merged by hand: not approved through gitferry".to_owned()
            } else {
                "recorded".to_owned()
            },
            detail: Some(format!(
                "{} from a push to {branch}{}",
                release.version(),
                if recorded.superseded.is_empty() {
                    String::new()
                } else {
                    format!("; superseded {} in flight", recorded.superseded.len())
                }
            )),
            delivery_id: Some(event.delivery_id.clone()),
            source_id: Some(format!("release:{}", release.id)),
        })
        .await?;
    info!(
        repository = %repo,
        version = %recorded.release.version(),
        sha = %push.after,
        "release recorded"
    );
    // The steps first: the release's deploy, once woken, looks for them.
    if !config.pipeline.is_empty() {
        let head = Head {
            repository: repo,
            pr: 0,
            installation_id: installation.stored(),
            sha: &push.after,
            branch,
            base_ref: "",
            default_branch: &push.repository.default_branch,
            actor,
        };
        Flow::new(&ctx, head)
            .pushed(config, true, Deploy::Coming)
            .await?;
    }
    ctx.releases.wake();
    Ok(())
}

/// The approvers of a promotion merged by hand: none through gitferry.
pub const NOT_APPROVED: &str = "[]";

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
