//! The authorisation decision: may this actor run this command on this pull request?

use super::grammar::{Command, CommandKind};
use super::roles::{Actor, Permission, PullRequestFacts, Rule, Rules};
use super::text::code;

/// A refused command, with what it would have needed, so the reply can name the role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} needs {}", self.invocation("/"), self.rule.describe(""))]
pub struct Refusal {
    pub command: CommandKind,
    /// The environment, for commands that take one (the rule may be per environment).
    pub environment: Option<String>,
    /// The rule that refused.
    pub rule: Rule,
    /// What the actor has, so the reply can say so.
    pub actor_permission: Permission,
    /// The actor is the pull request's author and the rule admits authors, but the pull
    /// request comes from a fork: worth saying, since it is the surprising part.
    pub fork_author: bool,
}

impl Refusal {
    /// The command as the user would type it, without arguments beyond the environment:
    /// `/promote production`.
    pub fn invocation(&self, prefix: &str) -> String {
        match &self.environment {
            Some(env) => format!("{prefix}{} {env}", self.command.name()),
            None => format!("{prefix}{}", self.command.name()),
        }
    }

    /// One sentence: "`/promote production` needs admin permission or membership in
    /// `@acme/release-managers`." (or "… is turned off for this repository.").
    pub fn sentence(&self, prefix: &str, org: &str) -> String {
        let command = code(&self.invocation(prefix));
        if self.rule.admits_no_one() {
            format!("{command} is turned off for this repository.")
        } else {
            format!("{command} needs {}.", self.rule.describe(org))
        }
    }
}

/// Decides whether `actor` may run `command`. Pure: the caller has already looked up the
/// actor's permission and the memberships [`Rules::teams_to_check`] asked for.
pub fn authorize(
    command: &Command,
    actor: &Actor,
    pr: &PullRequestFacts,
    rules: &Rules,
) -> Result<(), Refusal> {
    let rule = rules.rule_for(command);
    if rule.allows(actor, pr) {
        return Ok(());
    }
    Err(Refusal {
        command: command.kind(),
        environment: command.environment().map(str::to_owned),
        rule: rule.clone(),
        actor_permission: actor.permission,
        fork_author: rule.author && actor.is_pr_author && pr.from_fork,
    })
}
