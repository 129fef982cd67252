//! Rules for `commands:`.

use super::{Context, section};
use crate::repo_config::load::{Problem, Section, with_suggestion};
use crate::repo_config::model::{COMMAND_NAMES, ENVIRONMENT_COMMANDS};
use crate::repo_config::values::shown;

pub(super) fn check(cx: &mut Context<'_>) {
    let commands = &cx.config.commands;
    let at = section(Section::Commands);
    let prefix = &commands.prefix;
    if prefix.is_empty() || prefix.chars().count() > 16 || prefix.chars().any(char::is_whitespace) {
        cx.report(Problem::at_value(
            at.key("prefix"),
            "the prefix is 1 to 16 characters without spaces, e.g. `/`",
        ));
    }
    for (command, rule) in &commands.roles {
        let at = at.key("roles").key(command);
        if !COMMAND_NAMES.contains(&command.as_str()) {
            let lead = format!("unknown command `{}`", shown(command));
            cx.report(Problem::at_key(
                at.clone(),
                with_suggestion(&lead, command, &COMMAND_NAMES),
            ));
        }
        cx.people(&at, &rule.users, &rule.teams);
        if rule.environments.is_empty() {
            continue;
        }
        if !ENVIRONMENT_COMMANDS.contains(&command.as_str()) {
            cx.report(Problem::at_key(
                at.key("environments"),
                "per-environment rules apply to promote and rollback only",
            ));
            continue;
        }
        for (env_name, env_rule) in &rule.environments {
            let at = at.key("environments").key(env_name);
            cx.people(&at, &env_rule.users, &env_rule.teams);
            if cx.environment_written(env_name) == Some(false) {
                let lead = format!("no environment named `{}`", shown(env_name));
                let problem = Problem::at_key(
                    at,
                    with_suggestion(&lead, env_name, &cx.environment_names()),
                );
                cx.report(problem);
                continue;
            }
            let Some(environment) = cx.config.environments.get(env_name) else {
                continue;
            };
            if command == "promote" && environment.promote_from.is_none() {
                cx.report(Problem::at_key(
                    at,
                    format!("`{env_name}` has no `promote_from`, so nothing is promoted into it"),
                ));
            } else if command == "rollback" && environment.preview().is_some() {
                cx.report(Problem::at_key(
                    at,
                    "previews are not rolled back; name a branch-bound environment",
                ));
            }
        }
    }
}
