//! What an authorisation needs to know about a person, looked up on GitHub: their
//! permission on the repository and the team memberships the rule asks about (often none).
//! Shared by comments and by a check run's "Re-run", so both apply `commands.roles` alike.

use super::{Actor, Command, PullRequestFacts, Rules};
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
        let (org, slug) = match team.split_once('/') {
            Some((org, slug)) => (org.to_owned(), slug.to_owned()),
            None => (asker.org.to_owned(), team.clone()),
        };
        if ctx
            .access
            .is_team_member(gh, &org, &slug, asker.login)
            .await?
        {
            actor.teams.push(team);
        }
    }
    Ok(actor)
}
