//! What each command line means.

use crate::commands::{Command, CommandError, CommandKind, RawCommand, parse_command};

fn parse(line: &str) -> Result<Command, CommandError> {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or_default().to_owned();
    parse_command(&RawCommand {
        line: 1,
        name,
        args: words.map(str::to_owned).collect(),
    })
}

/// The problem text of a bad-arguments error, and the command it was for.
fn problem(line: &str) -> (&'static str, String) {
    match parse(line) {
        Err(CommandError::BadArguments {
            command, problem, ..
        }) => (command, problem),
        other => panic!("expected bad arguments for {line:?}, got {other:?}"),
    }
}

#[test]
fn every_command_parses_in_its_simplest_form() {
    assert_eq!(parse("help"), Ok(Command::Help));
    assert_eq!(
        parse("preview"),
        Ok(Command::Preview {
            destroy: false,
            sha: None
        })
    );
    assert_eq!(
        parse("retest"),
        Ok(Command::Retest {
            step: None,
            sha: None
        })
    );
    assert_eq!(parse("drift"), Ok(Command::Drift));
    assert_eq!(parse("approve"), Ok(Command::Approve));
    assert_eq!(parse("queue"), Ok(Command::Queue { priority: None }));
    assert_eq!(parse("dequeue"), Ok(Command::Dequeue));
    assert_eq!(parse("queue unfreeze"), Ok(Command::QueueUnfreeze));
}

#[test]
fn preview_destroy() {
    assert_eq!(
        parse("preview destroy"),
        Ok(Command::Preview {
            destroy: true,
            sha: None
        })
    );
    assert_eq!(
        parse("preview DESTROY"),
        Ok(Command::Preview {
            destroy: true,
            sha: None
        })
    );
    assert_eq!(
        problem("preview now"),
        ("preview", "unexpected `now`".into())
    );
}

#[test]
fn retest_one_step() {
    assert_eq!(
        parse("retest functional"),
        Ok(Command::Retest {
            step: Some("functional".into()),
            sha: None,
        })
    );
    assert_eq!(problem("retest a b"), ("retest", "unexpected `b`".into()));
    assert_eq!(
        problem("retest `x`"),
        ("retest", "`` `x` `` is not a valid step name".into())
    );
}

#[test]
fn queue_with_a_priority() {
    assert_eq!(parse("queue p=3"), Ok(Command::Queue { priority: Some(3) }));
    assert_eq!(
        parse("queue priority=9"),
        Ok(Command::Queue { priority: Some(9) })
    );
    assert_eq!(parse("queue P=0"), Ok(Command::Queue { priority: Some(0) }));
    for bad in ["p=10", "p=-1", "p=high", "p="] {
        let (command, text) = problem(&format!("queue {bad}"));
        assert_eq!(command, "queue");
        assert!(
            text.starts_with("the priority must be a whole number from 0 to 9"),
            "{text}"
        );
    }
}

#[test]
fn queue_freeze_keeps_the_rest_of_the_line_as_the_reason() {
    assert_eq!(
        parse("queue freeze deploy window"),
        Ok(Command::QueueFreeze {
            reason: Some("deploy window".into())
        })
    );
    assert_eq!(
        parse("queue freeze"),
        Ok(Command::QueueFreeze { reason: None })
    );
    let long = format!("queue freeze {}", "x".repeat(501));
    assert_eq!(problem(&long).0, "queue freeze");
}

#[test]
fn queue_unfreeze_takes_nothing_more() {
    assert_eq!(
        problem("queue unfreeze now"),
        ("queue unfreeze", "unexpected `now`".into())
    );
}

#[test]
fn a_misspelt_queue_subcommand_gets_a_hint() {
    assert_eq!(
        problem("queue freez"),
        ("queue", "unexpected `freez`; did you mean `freeze`?".into())
    );
    assert_eq!(
        problem("queue later"),
        ("queue", "unexpected `later`".into())
    );
}

#[test]
fn promote_needs_exactly_one_environment() {
    assert_eq!(
        parse("promote production"),
        Ok(Command::Promote {
            env: "production".into()
        })
    );
    assert_eq!(
        problem("promote"),
        ("promote", "name the environment to promote to".into())
    );
    assert_eq!(
        problem("promote staging production"),
        ("promote", "unexpected `production`".into())
    );
}

#[test]
fn rollback_to_the_last_good_release_or_a_given_sha() {
    assert_eq!(
        parse("rollback production"),
        Ok(Command::Rollback {
            env: "production".into(),
            sha: None
        })
    );
    assert_eq!(
        parse("rollback production ABC1234"),
        Ok(Command::Rollback {
            env: "production".into(),
            sha: Some("abc1234".into())
        })
    );
    let full = "0123456789abcdef0123456789abcdef01234567";
    assert!(parse(&format!("rollback production {full}")).is_ok());
}

#[test]
fn rollback_to_a_named_version_of_that_environment() {
    assert_eq!(
        parse("rollback production production-3"),
        Ok(Command::Rollback {
            env: "production".into(),
            sha: Some("production-3".into()),
        })
    );
    assert!(
        parse("rollback production staging-3").is_err(),
        "another environment's version"
    );
    assert!(parse("rollback production production-").is_err());
}

#[test]
fn rollback_with_a_bad_sha_explains_and_shows_usage() {
    for bad in [
        "xyz1234",
        "abc12",
        "0123456789abcdef0123456789abcdef012345678",
    ] {
        assert_eq!(
            parse(&format!("rollback production {bad}")),
            Err(CommandError::BadArguments {
                command: "rollback",
                usage: "rollback <environment> [<release>]",
                problem: format!("`{bad}` is not a commit SHA (7 to 40 hexadecimal characters)"),
            })
        );
    }
}

#[test]
fn commands_without_arguments_reject_extra_words() {
    for name in ["drift", "approve", "dequeue"] {
        assert_eq!(problem(&format!("{name} please")).1, "unexpected `please`");
    }
}

#[test]
fn help_never_fails() {
    assert_eq!(parse("help me please"), Ok(Command::Help));
}

#[test]
fn unknown_commands_suggest_the_nearest_when_it_is_near() {
    let suggestion = |name: &str| match parse(name) {
        Err(CommandError::Unknown { suggestion, .. }) => suggestion,
        other => panic!("expected unknown for {name}, got {other:?}"),
    };
    assert_eq!(suggestion("prevew"), Some("preview"));
    assert_eq!(suggestion("retst"), Some("retest"));
    assert_eq!(suggestion("drfit"), Some("drift"));
    assert_eq!(suggestion("dequeu"), Some("dequeue"));
    assert_eq!(suggestion("rollbakc"), Some("rollback"));
    assert_eq!(suggestion("freeze"), Some("queue freeze"));
    assert_eq!(suggestion("unfreeze"), Some("queue unfreeze"));
    assert_eq!(suggestion("tmp"), None);
    assert_eq!(suggestion("revert"), None);
    assert_eq!(suggestion("lgtm"), None);
}

#[test]
fn names_usage_and_canonical_spelling_for_the_audit_log() {
    let freeze = parse("queue freeze deploy   window").unwrap();
    assert_eq!(freeze.name(), "queue freeze");
    assert_eq!(freeze.usage(), "queue freeze [<reason>]");
    assert_eq!(freeze.to_string(), "queue freeze deploy window");
    assert_eq!(
        parse("rollback production abc1234").unwrap().to_string(),
        "rollback production abc1234"
    );
    assert_eq!(parse("queue p=3").unwrap().to_string(), "queue p=3");
    assert_eq!(
        parse("preview destroy").unwrap().to_string(),
        "preview destroy"
    );
}

#[test]
fn config_spellings_of_command_names() {
    assert_eq!(
        CommandKind::from_name("queue_freeze"),
        Some(CommandKind::QueueFreeze)
    );
    assert_eq!(
        CommandKind::from_name("Queue-Unfreeze"),
        Some(CommandKind::QueueUnfreeze)
    );
    assert_eq!(
        CommandKind::from_name("promote"),
        Some(CommandKind::Promote)
    );
    assert_eq!(CommandKind::from_name("deploy"), None);
    for kind in CommandKind::ALL {
        assert_eq!(CommandKind::from_name(kind.name()), Some(kind));
    }
}

#[test]
fn preview_and_retest_may_name_the_commit_they_approve() {
    assert_eq!(
        parse("preview ABC1234"),
        Ok(Command::Preview {
            destroy: false,
            sha: Some("abc1234".into())
        })
    );
    assert_eq!(
        problem("preview abc12"),
        ("preview", "unexpected `abc12`".into())
    );
    assert_eq!(
        parse("retest abc1234def"),
        Ok(Command::Retest {
            step: None,
            sha: Some("abc1234def".into())
        })
    );
    assert_eq!(
        parse("retest unit abc1234"),
        Ok(Command::Retest {
            step: Some("unit".into()),
            sha: Some("abc1234".into())
        })
    );
    assert_eq!(
        problem("retest unit later"),
        ("retest", "unexpected `later`".into())
    );
    assert_eq!(
        parse("preview abc1234").unwrap().to_string(),
        "preview abc1234"
    );
    assert_eq!(
        parse("retest unit abc1234").unwrap().to_string(),
        "retest unit abc1234"
    );
}
