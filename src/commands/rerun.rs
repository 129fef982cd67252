//! A check run's "Re-run" button is `/retest <step>` by other means, so it obeys the same
//! `commands.roles.retest` rule, applied to the `check_run.rerequested` sender. GitHub shows
//! the button to anyone with write access; a repository that narrows `retest` (to admins, or
//! to a team) would otherwise be widened again by the button. A refused Re-run changes
//! nothing, is audited, and is answered on the pull request (once per delivery), since the
//! button itself shows no refusal.

use tracing::info;

use super::lookup::{self, Asker};
use super::{
    Command, PullRequestFacts, ReplyContext, authorize, handler, replies, rules_from_config,
};
use crate::app::AppContext;
use crate::github::InstallationClient;
use crate::github::events::{Branch, PullRequest};
use crate::repo_config::RepoConfig;
use crate::router::{Event, HandlerError};
use crate::store::audit::AuditEntry;
use crate::store::now_ms;

/// What the caller needs to know about the Re-run.
pub struct Rerun<'a> {
    pub repo: &'a str,
    /// 0 for a branch's run.
    pub pr: i64,
    pub sha: &'a str,
    pub step: &'a str,
}

/// Whether the event's sender may re-run `rerun.step` under the config's rules. When not,
/// audits and answers the refusal and returns `false`.
pub async fn allowed(
    ctx: &AppContext,
    gh: &InstallationClient,
    event: &Event,
    config: &RepoConfig,
    rerun: &Rerun<'_>,
) -> Result<bool, HandlerError> {
    let sender = event.sender().unwrap_or_default();
    if sender.is_empty() {
        info!(step = rerun.step, "re-run without a sender: not run");
        return Ok(false);
    }
    let org = rerun.repo.split('/').next().unwrap_or_default();
    let rules = rules_from_config(&config.commands);
    let command = Command::Retest {
        step: Some(rerun.step.to_owned()),
        sha: Some(rerun.sha.to_owned()),
    };
    let (is_pr_author, from_fork) = match u64::try_from(rerun.pr) {
        Ok(number) if number > 0 => {
            let pull: PullRequest = gh.pull(rerun.repo, rerun.pr).await?;
            let name = |side: &Branch| side.repo.as_ref().map(|r| r.full_name.clone());
            (
                pull.user
                    .as_ref()
                    .is_some_and(|u| u.login.eq_ignore_ascii_case(sender)),
                name(&pull.head) != name(&pull.base),
            )
        }
        _ => (false, false),
    };
    let facts = PullRequestFacts { from_fork };
    let asker = Asker {
        repo: rerun.repo,
        org,
        login: sender,
        is_pr_author,
    };
    let actor = lookup::actor(ctx, gh, &asker, &facts, &command, &rules).await?;
    let refusal = match authorize(&command, &actor, &facts, &rules) {
        Ok(()) => return Ok(true),
        Err(refusal) => refusal,
    };
    let prefix = config.commands.prefix.as_str();
    let detail = refusal.sentence(prefix, org);
    info!(
        sender,
        step = rerun.step,
        sha = rerun.sha,
        "re-run refused: {detail}"
    );
    ctx.store
        .record_audit(&AuditEntry {
            at: now_ms(),
            actor: sender.to_owned(),
            action: format!("rerun:{}", rerun.step),
            repository: rerun.repo.to_owned(),
            pr: (rerun.pr > 0).then_some(rerun.pr),
            sha: Some(rerun.sha.to_owned()),
            outcome: "refused".to_owned(),
            detail: Some(detail),
            delivery_id: Some(event.delivery_id.clone()),
            source_id: Some(format!("rerun:{}", event.delivery_id)),
            environment: None,
        })
        .await?;
    if let Ok(number) = u64::try_from(rerun.pr)
        && number > 0
    {
        let identity = ctx.identity().await?.clone();
        let cx = ReplyContext {
            prefix,
            app_slug: &identity.slug,
            org,
        };
        let text = format!(
            "Re-run of `gitferry/{}` on `{}`: {}",
            rerun.step,
            crate::github::short_sha(rerun.sha),
            replies::refusal(sender, &refusal, &cx)
        );
        let marker = format!("<!-- gitferry:rerun delivery={} -->", event.delivery_id);
        handler::answer_once(
            gh,
            rerun.repo,
            number,
            &identity.bot_login(),
            &marker,
            &text,
        )
        .await?;
    }
    Ok(false)
}
