//! What an authorisation needs to know about a person, looked up on GitHub: their
//! permission on the repository and the team memberships the rule asks about (often none).
//! Shared by comments and by a check run's "Re-run", so both apply `commands.roles` alike.

use super::{Actor, Command, PullRequestFacts, Rule, Rules};
use crate::app::AppContext;
use crate::github::InstallationClient;
use crate::router::HandlerError;

/// Who is asking, for [`super::authorize`].
pub struct Asker<'a> {
    pub repo: &'a str,
    /// The repository owner, under which bare team slugs live.
    pub org: &'a str,
    pub login: &'a str,
    pub is_pr_author: bool,
}

/// The actor `asker` is for `command` under `rules`.
pub async fn actor(
    ctx: &AppContext,
    gh: &InstallationClient,
    asker: &Asker<'_>,
    facts: &PullRequestFacts,
    command: &Command,
    rules: &Rules,
) -> Result<Actor, HandlerError> {
    let permission = ctx.access.permission(gh, asker.repo, asker.login).await?;
    let mut actor = Actor {
        login: asker.login.to_owned(),
        permission,
        teams: Vec::new(),
        is_pr_author: asker.is_pr_author,
    };
    let teams: Vec<String> = rules.teams_to_check(command, &actor, facts).to_vec();
    for team in teams {
        if member_of(ctx, gh, asker, &team).await? {
            actor.teams.push(team);
        }
    }
    Ok(actor)
}

/// Whether the asker is in `team` (`slug` under the repository's owner, or `org/slug`).
async fn member_of(
    ctx: &AppContext,
    gh: &InstallationClient,
    asker: &Asker<'_>,
    team: &str,
) -> Result<bool, HandlerError> {
    let (org, slug) = team.split_once('/').unwrap_or((asker.org, team));
    Ok(ctx
        .access
        .is_team_member(gh, org, slug, asker.login)
        .await?)
}

/// Whether `rule` admits `login` (no authorship: the caller decides what authorship means).
/// Team memberships are looked up only when the permission and the user list do not already
/// decide, one call per team.
pub async fn admits(
    ctx: &AppContext,
    gh: &InstallationClient,
    asker: &Asker<'_>,
    rule: &Rule,
) -> Result<bool, HandlerError> {
    let permission = ctx.access.permission(gh, asker.repo, asker.login).await?;
    let mut actor = Actor {
        login: asker.login.to_owned(),
        permission,
        teams: Vec::new(),
        is_pr_author: false,
    };
    let facts = PullRequestFacts::default();
    if rule.allows(&actor, &facts) {
        return Ok(true);
    }
    for team in rule.teams_to_check() {
        if member_of(ctx, gh, asker, team).await? {
            actor.teams.push(team.clone());
            return Ok(rule.allows(&actor, &facts));
        }
    }
    Ok(false)
}
