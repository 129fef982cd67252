//! `commands:` — the slash-command prefix and who may run each command.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The commands whose roles the config may set. `queue_freeze` covers both
/// `/queue freeze` and `/queue unfreeze`.
pub const COMMAND_NAMES: [&str; 10] = [
    "help",
    "preview",
    "retest",
    "drift",
    "approve",
    "promote",
    "rollback",
    "queue",
    "dequeue",
    "queue_freeze",
];

/// The commands that act on one named environment, and so may have per-environment rules.
pub const ENVIRONMENT_COMMANDS: [&str; 2] = ["promote", "rollback"];

/// Slash commands: the prefix they start with and who may run them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// What a command starts with. Default `/` (as in `/preview`); `@<app-slug> <command>`
    /// always works too. Read by the comment parser.
    #[serde(default = "default_prefix")]
    pub prefix: String,

    /// Who may run each command, replacing the built-in defaults field by field. Keys are
    /// command names: help, preview, retest, drift, approve, promote, rollback, queue, dequeue,
    /// queue_freeze. Read by the command dispatcher's authorisation.
    #[serde(default)]
    pub roles: BTreeMap<String, CommandRule>,
}

impl Default for Commands {
    fn default() -> Self {
        Self {
            prefix: default_prefix(),
            roles: BTreeMap::new(),
        }
    }
}

fn default_prefix() -> String {
    "/".to_owned()
}

impl Commands {
    /// The rule for `command` (and, for promote/rollback, `environment`): the built-in
    /// `default`, overlaid with the command's rule from the config, overlaid with the
    /// environment's rule. Each layer replaces only the fields it sets.
    pub fn effective_rule(
        &self,
        command: &str,
        environment: Option<&str>,
        default: RoleRule,
    ) -> RoleRule {
        let Some(rule) = self.roles.get(command) else {
            return default;
        };
        let for_command = rule.as_role_rule().overlay(default);
        match environment.and_then(|env| rule.environments.get(env)) {
            Some(for_env) => for_env.clone().overlay(for_command),
            None => for_command,
        }
    }
}

/// A permission level on the repository, lowest first (so `>=` compares them).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

/// Who may do something: anyone with at least `permission`, anyone in `users` or `teams`, or
/// (with `author: true`) the pull request's author when the PR is not from a fork.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    /// The lowest repository permission that is enough: read, triage, write, maintain, admin.
    #[serde(default)]
    pub permission: Option<Permission>,
    /// GitHub logins allowed whatever their permission.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams whose members are allowed: `slug`, or `org/slug`.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Whether the pull request's author is allowed (never for a PR from a fork).
    #[serde(default)]
    pub author: Option<bool>,
}

impl RoleRule {
    /// This rule's fields where set, `base`'s where not.
    pub fn overlay(self, base: RoleRule) -> RoleRule {
        RoleRule {
            permission: self.permission.or(base.permission),
            users: if self.users.is_empty() {
                base.users
            } else {
                self.users
            },
            teams: if self.teams.is_empty() {
                base.teams
            } else {
                self.teams
            },
            author: self.author.or(base.author),
        }
    }
}

/// A command's rule, plus (for `promote` and `rollback`) rules per environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRule {
    /// The lowest repository permission that is enough: read, triage, write, maintain, admin.
    #[serde(default)]
    pub permission: Option<Permission>,
    /// GitHub logins allowed whatever their permission.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams whose members are allowed: `slug`, or `org/slug`.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Whether the pull request's author is allowed (never for a PR from a fork).
    #[serde(default)]
    pub author: Option<bool>,
    /// `promote` and `rollback` only: rules for one environment, e.g.
    /// `production: { permission: admin, teams: [release-managers] }`, overlaid on this rule.
    #[serde(default)]
    pub environments: BTreeMap<String, RoleRule>,
}

impl CommandRule {
    /// The command-wide part of the rule.
    pub fn as_role_rule(&self) -> RoleRule {
        RoleRule {
            permission: self.permission,
            users: self.users.clone(),
            teams: self.teams.clone(),
            author: self.author,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_ordered() {
        assert!(Permission::Admin > Permission::Maintain);
        assert!(Permission::Write > Permission::Triage);
        assert!(Permission::Triage > Permission::Read);
    }

    #[test]
    fn rules_overlay_field_by_field() {
        let default = RoleRule {
            permission: Some(Permission::Admin),
            ..RoleRule::default()
        };
        let mut commands = Commands::default();
        commands.roles.insert(
            "promote".into(),
            CommandRule {
                teams: vec!["releasers".into()],
                environments: BTreeMap::from([(
                    "production".into(),
                    RoleRule {
                        users: vec!["octocat".into()],
                        ..RoleRule::default()
                    },
                )]),
                ..CommandRule::default()
            },
        );
        let staging = commands.effective_rule("promote", Some("staging"), default.clone());
        assert_eq!(staging.permission, Some(Permission::Admin));
        assert_eq!(staging.teams, ["releasers"]);
        assert!(staging.users.is_empty());
        let production = commands.effective_rule("promote", Some("production"), default.clone());
        assert_eq!(production.users, ["octocat"]);
        assert_eq!(production.teams, ["releasers"]);
        assert_eq!(
            commands.effective_rule("help", None, default.clone()),
            default
        );
    }
}
