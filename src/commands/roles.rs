//! Who may run what: GitHub permission levels, per-command rules and their defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::grammar::{Command, CommandKind};
use super::text::{code, either};

/// A collaborator's repository role, ordered from least to most trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Permission {
    /// From GitHub's collaborator-permission answer. `role_name` distinguishes triage and
    /// maintain, which the older `permission` field folds into read and write; a custom
    /// (Enterprise) role name is not one of ours, so then the base `permission` decides.
    /// Anything unrecognised is [`Permission::None`]: an unknown role grants nothing.
    pub fn from_github(role_name: Option<&str>, permission: &str) -> Permission {
        role_name
            .and_then(|role| role.parse().ok())
            .or_else(|| permission.parse().ok())
            .unwrap_or(Permission::None)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::None => "none",
            Permission::Read => "read",
            Permission::Triage => "triage",
            Permission::Write => "write",
            Permission::Maintain => "maintain",
            Permission::Admin => "admin",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permission name that is not one of GitHub's repository roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a permission (none, read, triage, write, maintain or admin)")]
pub struct UnknownPermission(pub String);

/// Accepts GitHub's spellings, including the legacy `pull` / `push` aliases.
impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Permission::None),
            "read" | "pull" => Ok(Permission::Read),
            "triage" => Ok(Permission::Triage),
            "write" | "push" => Ok(Permission::Write),
            "maintain" => Ok(Permission::Maintain),
            "admin" => Ok(Permission::Admin),
            _ => Err(UnknownPermission(s.to_owned())),
        }
    }
}

/// Who may run a command. Any one way in is enough: a permission level, being one of `users`,
/// being in one of `teams`, or (if `author`) having opened the pull request, unless it comes
/// from a fork (a fork's author is outside the repository's trust boundary).
///
/// A rule with no way in at all allows nobody, which is how a config turns a command off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// The least permission that suffices; `Some(Permission::None)` admits anyone.
    pub permission: Option<Permission>,
    /// GitHub logins (compared case-insensitively, as GitHub does).
    pub users: Vec<String>,
    /// Team slugs (`release-managers`) or `org/slug`, as the config writes them; the caller
    /// reports membership in [`Actor::teams`] using the same strings.
    pub teams: Vec<String>,
    pub author: bool,
}

impl Rule {
    pub fn anyone() -> Rule {
        Rule::at_least(Permission::None)
    }

    pub fn at_least(permission: Permission) -> Rule {
        Rule {
            permission: Some(permission),
            ..Rule::default()
        }
    }

    /// Also admits the pull request's author (unless the pull request is from a fork).
    pub fn or_author(mut self) -> Rule {
        self.author = true;
        self
    }

    /// The teams whose membership can matter, so the caller looks up only those (each a
    /// GitHub API call).
    pub fn teams_to_check(&self) -> &[String] {
        &self.teams
    }

    /// No permission, user, team or authorship lets anyone in: the command is turned off.
    pub fn admits_no_one(&self) -> bool {
        self.permission.is_none() && self.users.is_empty() && self.teams.is_empty() && !self.author
    }

    pub fn allows(&self, actor: &Actor, pr: &PullRequestFacts) -> bool {
        self.allows_without_teams(actor, pr)
            || self
                .teams
                .iter()
                .any(|team| actor.teams.iter().any(|t| t.eq_ignore_ascii_case(team)))
    }

    fn allows_without_teams(&self, actor: &Actor, pr: &PullRequestFacts) -> bool {
        self.permission.is_some_and(|p| actor.permission >= p)
            || self
                .users
                .iter()
                .any(|u| u.eq_ignore_ascii_case(&actor.login))
            || (self.author && actor.is_pr_author && !pr.from_fork)
    }

    /// The rule in words: "admin permission or membership in `@acme/release-managers`".
    /// Team slugs without an org are shown under `org` (the repository owner); names are in
    /// code spans so that a refusal does not notify the people and teams it names.
    pub fn describe(&self, org: &str) -> String {
        if self.permission == Some(Permission::None) {
            return "anyone".to_owned();
        }
        let mut ways = Vec::new();
        if let Some(permission) = self.permission {
            ways.push(format!("{permission} permission"));
        }
        if !self.users.is_empty() {
            let users: Vec<String> = self.users.iter().map(|u| code(&format!("@{u}"))).collect();
            ways.push(format!("being {}", either(&users)));
        }
        if !self.teams.is_empty() {
            let teams: Vec<String> = self.teams.iter().map(|t| team(t, org)).collect();
            ways.push(format!("membership in {}", either(&teams)));
        }
        if self.author {
            ways.push("being the pull request's author (unless it comes from a fork)".to_owned());
        }
        if ways.is_empty() {
            return "no one (the repository's config turns it off)".to_owned();
        }
        either(&ways)
    }
}

fn team(team: &str, org: &str) -> String {
    if team.contains('/') || org.is_empty() {
        code(&format!("@{team}"))
    } else {
        code(&format!("@{org}/{team}"))
    }
}

/// The person who wrote the command, as GitHub describes them. The caller fills `teams` with
/// the teams (from [`Rules::teams_to_check`]) the actor turned out to be a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
    pub permission: Permission,
    pub teams: Vec<String>,
    pub is_pr_author: bool,
}

/// What authorisation needs to know about the pull request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullRequestFacts {
    /// The head branch lives in another repository.
    pub from_fork: bool,
}

/// The effective rules: defaults, replaced per command and per environment by the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    commands: BTreeMap<CommandKind, Rule>,
    /// Keyed by lower-cased environment name; the value keeps the name as written.
    environments: BTreeMap<(CommandKind, String), (String, Rule)>,
}

/// An override that cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error(
        "`{command}` does not take an environment, so it cannot have a rule for `{environment}`"
    )]
    NoEnvironment {
        command: CommandKind,
        environment: String,
    },
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            commands: CommandKind::ALL
                .into_iter()
                .map(|kind| (kind, Rules::default_rule(kind)))
                .collect(),
            environments: BTreeMap::new(),
        }
    }
}

impl Rules {
    /// The built-in rule: asking for help is free; commands that redo work on this pull
    /// request need write (or authorship, outside forks); merge-queue decisions need
    /// maintain; anything that changes shared environments or stops everyone's merges
    /// needs admin.
    pub fn default_rule(kind: CommandKind) -> Rule {
        match kind {
            CommandKind::Help => Rule::anyone(),
            CommandKind::Preview | CommandKind::Retest | CommandKind::Drift => {
                Rule::at_least(Permission::Write).or_author()
            }
            CommandKind::Queue | CommandKind::Dequeue | CommandKind::Approve => {
                Rule::at_least(Permission::Maintain)
            }
            CommandKind::Promote
            | CommandKind::Rollback
            | CommandKind::QueueFreeze
            | CommandKind::QueueUnfreeze => Rule::at_least(Permission::Admin),
        }
    }

    /// Replaces the rule for `command` (or, with `env`, for `command` on that environment
    /// only). A replacement, not a merge, so config can tighten as well as widen; to widen,
    /// repeat the permission next to the added users or teams. Environment names match
    /// ASCII-case-insensitively, so `/promote Production` cannot slip past a `production`
    /// rule.
    pub fn with_override(
        mut self,
        command: CommandKind,
        env: Option<&str>,
        rule: Rule,
    ) -> Result<Rules, RulesError> {
        match env {
            None => {
                self.commands.insert(command, rule);
            }
            Some(environment) if !command.takes_environment() => {
                return Err(RulesError::NoEnvironment {
                    command,
                    environment: environment.to_owned(),
                });
            }
            Some(environment) => {
                let key = (command, environment.to_ascii_lowercase());
                self.environments
                    .insert(key, (environment.to_owned(), rule));
            }
        }
        Ok(self)
    }

    /// The rule that decides `kind` on `env`: the environment's override, else the command's.
    pub fn rule(&self, kind: CommandKind, env: Option<&str>) -> &Rule {
        env.and_then(|env| {
            self.environments
                .get(&(kind, env.to_ascii_lowercase()))
                .map(|(_, rule)| rule)
        })
        .or_else(|| self.commands.get(&kind))
        .unwrap_or(&NOBODY)
    }

    pub fn rule_for(&self, command: &Command) -> &Rule {
        self.rule(command.kind(), command.environment())
    }

    /// Per-environment rules of `kind`, by environment name as written, for `/help`.
    pub fn environment_rules(&self, kind: CommandKind) -> impl Iterator<Item = (&str, &Rule)> {
        self.environments
            .iter()
            .filter(move |((k, _), _)| *k == kind)
            .map(|(_, (name, rule))| (name.as_str(), rule))
    }

    /// The team memberships worth looking up before [`super::authorize`]: none when the actor
    /// already qualifies without teams, otherwise the deciding rule's teams.
    pub fn teams_to_check(
        &self,
        command: &Command,
        actor: &Actor,
        pr: &PullRequestFacts,
    ) -> &[String] {
        let rule = self.rule_for(command);
        if rule.allows_without_teams(actor, pr) {
            &[]
        } else {
            rule.teams_to_check()
        }
    }
}

/// Only reachable if a `Rules` lost a command's entry, which construction prevents; failing
/// closed is the safe answer anyway.
static NOBODY: Rule = Rule {
    permission: None,
    users: Vec::new(),
    teams: Vec::new(),
    author: false,
};
