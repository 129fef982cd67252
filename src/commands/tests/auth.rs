//! Who may run what, under the defaults and under config overrides.

use crate::commands::{
    Actor, Command, CommandKind, Permission, PullRequestFacts, Rule, Rules, RulesError, authorize,
};

fn actor(permission: Permission) -> Actor {
    Actor {
        login: "alice".into(),
        permission,
        teams: Vec::new(),
        is_pr_author: false,
    }
}

fn author(permission: Permission) -> Actor {
    Actor {
        is_pr_author: true,
        ..actor(permission)
    }
}

const SAME_REPO: PullRequestFacts = PullRequestFacts { from_fork: false };
const FORK: PullRequestFacts = PullRequestFacts { from_fork: true };

fn promote(env: &str) -> Command {
    Command::Promote { env: env.into() }
}

fn allowed(command: &Command, actor: &Actor, pr: &PullRequestFacts, rules: &Rules) -> bool {
    authorize(command, actor, pr, rules).is_ok()
}

#[test]
fn anyone_may_ask_for_help() {
    assert!(allowed(
        &Command::Help,
        &actor(Permission::None),
        &FORK,
        &Rules::default()
    ));
}

#[test]
fn preview_needs_write_or_the_authors_own_non_fork_pr() {
    let rules = Rules::default();
    let preview = Command::Preview {
        destroy: false,
        sha: None,
    };
    assert!(allowed(&preview, &actor(Permission::Write), &FORK, &rules));
    assert!(!allowed(
        &preview,
        &actor(Permission::Triage),
        &SAME_REPO,
        &rules
    ));
    assert!(allowed(
        &preview,
        &author(Permission::Read),
        &SAME_REPO,
        &rules
    ));
    assert!(!allowed(&preview, &author(Permission::Read), &FORK, &rules));
}

#[test]
fn a_fork_author_is_told_why() {
    let refusal = authorize(
        &Command::Drift,
        &author(Permission::Read),
        &FORK,
        &Rules::default(),
    )
    .unwrap_err();
    assert!(refusal.fork_author);
    assert_eq!(refusal.actor_permission, Permission::Read);
}

#[test]
fn merge_queue_commands_need_maintain() {
    let rules = Rules::default();
    for command in [
        Command::Queue { priority: Some(3) },
        Command::Dequeue,
        Command::Approve,
    ] {
        assert!(!allowed(
            &command,
            &author(Permission::Write),
            &SAME_REPO,
            &rules
        ));
        assert!(allowed(
            &command,
            &actor(Permission::Maintain),
            &SAME_REPO,
            &rules
        ));
        assert!(allowed(
            &command,
            &actor(Permission::Admin),
            &SAME_REPO,
            &rules
        ));
    }
}

#[test]
fn environments_and_freezes_need_admin() {
    let rules = Rules::default();
    for command in [
        promote("production"),
        Command::Rollback {
            env: "production".into(),
            sha: None,
        },
        Command::QueueFreeze { reason: None },
        Command::QueueUnfreeze,
    ] {
        assert!(!allowed(
            &command,
            &actor(Permission::Maintain),
            &SAME_REPO,
            &rules
        ));
        assert!(allowed(
            &command,
            &actor(Permission::Admin),
            &SAME_REPO,
            &rules
        ));
    }
}

#[test]
fn a_refusal_names_what_was_needed() {
    let refusal = authorize(
        &promote("production"),
        &actor(Permission::Write),
        &SAME_REPO,
        &Rules::default(),
    )
    .unwrap_err();
    assert_eq!(refusal.command, CommandKind::Promote);
    assert_eq!(refusal.environment.as_deref(), Some("production"));
    assert_eq!(
        refusal.sentence("/", "acme"),
        "`/promote production` needs admin permission."
    );
    assert_eq!(
        refusal.to_string(),
        "/promote production needs admin permission"
    );
}

#[test]
fn config_widens_production_to_release_managers() {
    let rules = Rules::default()
        .with_override(
            CommandKind::Promote,
            Some("production"),
            Rule {
                teams: vec!["release-managers".into()],
                ..Rule::at_least(Permission::Admin)
            },
        )
        .unwrap();
    let mut releaser = actor(Permission::Write);
    let command = promote("production");

    // Only the rule's teams are worth a lookup, and only while the actor is not yet in.
    assert_eq!(
        rules.teams_to_check(&command, &releaser, &SAME_REPO),
        ["release-managers"]
    );
    assert!(
        rules
            .teams_to_check(&command, &actor(Permission::Admin), &SAME_REPO)
            .is_empty()
    );
    assert!(!allowed(&command, &releaser, &SAME_REPO, &rules));

    releaser.teams = vec!["Release-Managers".into()];
    assert!(allowed(&command, &releaser, &SAME_REPO, &rules));
    // The override is for production only; staging keeps the command's rule.
    assert!(!allowed(&promote("staging"), &releaser, &SAME_REPO, &rules));

    let refusal = authorize(&command, &actor(Permission::Write), &SAME_REPO, &rules).unwrap_err();
    assert_eq!(
        refusal.sentence("/", "acme"),
        "`/promote production` needs admin permission or membership in \
         `@acme/release-managers`."
    );
}

#[test]
fn environment_rules_match_whatever_the_case() {
    let rules = Rules::default()
        .with_override(CommandKind::Promote, Some("production"), Rule::default())
        .unwrap();
    assert!(!allowed(
        &promote("Production"),
        &actor(Permission::Admin),
        &SAME_REPO,
        &rules
    ));
}

#[test]
fn config_tightens_retest_to_named_users() {
    let rules = Rules::default()
        .with_override(
            CommandKind::Retest,
            None,
            Rule {
                users: vec!["Bob".into()],
                ..Rule::default()
            },
        )
        .unwrap();
    let retest = Command::Retest {
        step: None,
        sha: None,
    };
    let bob = Actor {
        login: "bob".into(),
        ..actor(Permission::Read)
    };
    assert!(allowed(&retest, &bob, &SAME_REPO, &rules));
    assert!(!allowed(
        &retest,
        &author(Permission::Admin),
        &SAME_REPO,
        &rules
    ));
}

#[test]
fn a_rule_admitting_no_one_turns_the_command_off() {
    let rules = Rules::default()
        .with_override(CommandKind::Approve, None, Rule::default())
        .unwrap();
    let refusal = authorize(
        &Command::Approve,
        &actor(Permission::Admin),
        &SAME_REPO,
        &rules,
    )
    .unwrap_err();
    assert_eq!(
        refusal.sentence("/", "acme"),
        "`/approve` is turned off for this repository."
    );
}

#[test]
fn an_environment_rule_on_a_command_without_environments_is_an_error() {
    assert_eq!(
        Rules::default().with_override(CommandKind::Queue, Some("production"), Rule::anyone()),
        Err(RulesError::NoEnvironment {
            command: CommandKind::Queue,
            environment: "production".into()
        })
    );
}

#[test]
fn permissions_come_from_githubs_role_name_then_permission() {
    assert_eq!(
        Permission::from_github(Some("maintain"), "write"),
        Permission::Maintain
    );
    assert_eq!(
        Permission::from_github(Some("triage"), "read"),
        Permission::Triage
    );
    assert_eq!(
        Permission::from_github(Some("security-manager"), "write"),
        Permission::Write
    );
    assert_eq!(Permission::from_github(None, "admin"), Permission::Admin);
    assert_eq!(Permission::from_github(None, "weird"), Permission::None);
    assert!(Permission::None < Permission::Read);
    assert!(Permission::Read < Permission::Triage);
    assert!(Permission::Triage < Permission::Write);
    assert!(Permission::Write < Permission::Maintain);
    assert!(Permission::Maintain < Permission::Admin);
    assert!("owner".parse::<Permission>().is_err());
}
