//! What users read: every reply as an insta snapshot.

use insta::assert_snapshot;

use crate::commands::replies::{
    command_error, edited_by_someone_else, help, not_configured, refusal, too_many_commands,
};
use crate::commands::{
    Actor, Command, CommandKind, Permission, PullRequestFacts, RawCommand, ReplyContext, Rule,
    Rules, authorize, extract, parse_command,
};

const CX: ReplyContext<'static> = ReplyContext {
    prefix: "/",
    app_slug: "gitferry-test",
    org: "acme",
};

fn error_reply(line: &str) -> String {
    let mut words = line.split_whitespace();
    let raw = RawCommand {
        line: 1,
        name: words.next().unwrap_or_default().into(),
        args: words.map(str::to_owned).collect(),
    };
    match parse_command(&raw) {
        Err(error) => command_error(&error, &CX),
        Ok(command) => panic!("{line:?} parsed as {command:?}"),
    }
}

fn refusal_reply(command: &Command, actor: &Actor, pr: &PullRequestFacts, rules: &Rules) -> String {
    match authorize(command, actor, pr, rules) {
        Err(refused) => refusal(&actor.login, &refused, &CX),
        Ok(()) => panic!("{command:?} was allowed"),
    }
}

fn writer(login: &str) -> Actor {
    Actor {
        login: login.into(),
        permission: Permission::Write,
        teams: Vec::new(),
        is_pr_author: false,
    }
}

fn configured_rules() -> Rules {
    Rules::default()
        .with_override(
            CommandKind::Promote,
            Some("production"),
            Rule {
                teams: vec!["release-managers".into()],
                users: vec!["carol".into()],
                ..Rule::at_least(Permission::Admin)
            },
        )
        .and_then(|rules| rules.with_override(CommandKind::Approve, None, Rule::default()))
        .unwrap()
}

#[test]
fn help_with_the_default_rules() {
    assert_snapshot!(help(&Rules::default(), &CX));
}

#[test]
fn help_with_config_overrides_and_a_custom_prefix() {
    let cx = ReplyContext { prefix: "!", ..CX };
    assert_snapshot!(help(&configured_rules(), &cx));
}

#[test]
fn refusal_for_promote_to_production() {
    let reply = refusal_reply(
        &Command::Promote {
            env: "production".into(),
        },
        &writer("dave"),
        &PullRequestFacts { from_fork: false },
        &configured_rules(),
    );
    assert_snapshot!(reply);
}

#[test]
fn refusal_for_the_author_of_a_fork() {
    let outsider = Actor {
        permission: Permission::None,
        is_pr_author: true,
        ..writer("eve")
    };
    let reply = refusal_reply(
        &Command::Preview {
            destroy: false,
            sha: None,
        },
        &outsider,
        &PullRequestFacts { from_fork: true },
        &Rules::default(),
    );
    assert_snapshot!(reply);
}

#[test]
fn refusal_for_a_command_the_config_turned_off() {
    let admin = Actor {
        permission: Permission::Admin,
        ..writer("frank")
    };
    let reply = refusal_reply(
        &Command::Approve,
        &admin,
        &PullRequestFacts::default(),
        &configured_rules(),
    );
    assert_snapshot!(reply);
}

#[test]
fn unknown_command_with_a_suggestion() {
    assert_snapshot!(error_reply("prevew"));
}

#[test]
fn unknown_command_without_a_suggestion() {
    assert_snapshot!(error_reply("tmp"));
}

#[test]
fn bad_arguments_show_the_usage() {
    assert_snapshot!(error_reply("rollback production xyz"));
}

#[test]
fn bad_priority_shows_the_usage() {
    assert_snapshot!(error_reply("queue p=11"));
}

#[test]
fn too_many_commands_note() {
    let body = "/retest\n".repeat(1000);
    let extracted = extract(&body, "gitferry-test", "/");
    assert_snapshot!(too_many_commands(&extracted).unwrap_or_default());
}

#[test]
fn no_note_when_every_command_ran() {
    let extracted = extract("/retest\n/drift", "gitferry-test", "/");
    assert_eq!(too_many_commands(&extracted), None);
}

#[test]
fn help_without_a_config_file() {
    assert_snapshot!(not_configured(&CX));
}

#[test]
fn commands_added_by_someone_elses_edit() {
    assert_snapshot!(edited_by_someone_else(
        "bob",
        "dora",
        &["/approve".to_owned()]
    ));
    assert_snapshot!(
        "two_commands_added_by_someone_elses_edit",
        edited_by_someone_else(
            "bob",
            "dora",
            &["/approve".to_owned(), "/queue p=1".to_owned()]
        )
    );
}
