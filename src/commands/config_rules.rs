//! The repository config's `commands.roles` turned into [`Rules`]: each command's rule is the
//! built-in default overlaid with the config's command rule, then with its environment rule.

use super::{CommandKind, Permission, Rule, Rules};
use crate::repo_config::{self, RoleRule};

pub fn permission(p: repo_config::Permission) -> Permission {
    match p {
        repo_config::Permission::Read => Permission::Read,
        repo_config::Permission::Triage => Permission::Triage,
        repo_config::Permission::Write => Permission::Write,
        repo_config::Permission::Maintain => Permission::Maintain,
        repo_config::Permission::Admin => Permission::Admin,
    }
}

/// `config`'s fields where set, `base`'s where not (the config's own overlay semantics).
fn overlay(config: &RoleRule, base: Rule) -> Rule {
    Rule {
        permission: config.permission.map(permission).or(base.permission),
        users: if config.users.is_empty() {
            base.users
        } else {
            config.users.clone()
        },
        teams: if config.teams.is_empty() {
            base.teams
        } else {
            config.teams.clone()
        },
        author: config.author.unwrap_or(base.author),
    }
}

/// The config writes `queue freeze` as `queue_freeze`.
fn config_key(kind: CommandKind) -> String {
    kind.name().replace(' ', "_")
}

pub fn rules_from_config(commands: &repo_config::Commands) -> Rules {
    let mut rules = Rules::default();
    for kind in CommandKind::ALL {
        let Some(configured) = commands.roles.get(&config_key(kind)) else {
            continue;
        };
        let command_rule = overlay(&configured.as_role_rule(), Rules::default_rule(kind));
        let mut next = rules
            .clone()
            .with_override(kind, None, command_rule.clone());
        for (env, env_rule) in &configured.environments {
            next = next.and_then(|r| {
                r.with_override(kind, Some(env), overlay(env_rule, command_rule.clone()))
            });
        }
        // The config's validation already refused environments on other commands; should one
        // slip through, the command-wide rule still applies.
        if let Ok(next) = next {
            rules = next;
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{Actor, Command, PullRequestFacts, authorize};

    fn actor(permission: Permission, teams: &[&str]) -> Actor {
        Actor {
            login: "dev".into(),
            permission,
            teams: teams.iter().map(|t| t.to_string()).collect(),
            is_pr_author: false,
        }
    }

    #[test]
    fn production_promotion_can_be_limited_to_a_team() {
        let config = repo_config::parse(
            "commands:
  roles:
    promote:
      environments:
        production: { permission: admin, teams: [release-managers] }
    preview: { permission: triage }
environments:
  staging:
    branch: main
    deploy: { provider: command, deploy: [./deploy.sh], destroy: [./destroy.sh] }
  production:
    branch: release
    promote_from: staging
    deploy: { provider: command, deploy: [./deploy.sh], destroy: [./destroy.sh] }
",
        )
        .expect("valid config");
        let rules = rules_from_config(&config.commands);
        let promote = Command::Promote {
            env: "production".into(),
        };
        let pr = PullRequestFacts { from_fork: false };
        assert!(
            authorize(
                &promote,
                &actor(Permission::Write, &["release-managers"]),
                &pr,
                &rules
            )
            .is_ok()
        );
        assert!(authorize(&promote, &actor(Permission::Maintain, &[]), &pr, &rules).is_err());
        let preview = Command::Preview {
            destroy: false,
            sha: None,
        };
        assert!(authorize(&preview, &actor(Permission::Triage, &[]), &pr, &rules).is_ok());
    }
}
