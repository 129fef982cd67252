//! Every transition of the flow, one scenario each.

use super::*;

fn state(approved: bool, gate: Gate, deploy: Deploy) -> State {
    State {
        approved,
        gate,
        deploy,
        verification: waiting(&["functional"]),
    }
}

fn waiting(steps: &[&str]) -> Gate {
    Gate::Waiting(steps.iter().map(|s| (*s).to_owned()).collect())
}

fn blocked(steps: &[&str]) -> Gate {
    Gate::Blocked(steps.iter().map(|s| (*s).to_owned()).collect())
}

const PR_PUSH: Event = Event::Pushed { supersedes: true };

fn url(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[test]
fn a_push_supersedes_the_older_runs_and_queues_the_new_heads_steps() {
    let s = state(true, waiting(&["unit"]), Deploy::Coming);
    assert_eq!(
        decide(&s, &PR_PUSH),
        vec![
            Action::EnsureSteps(AfterDeploy::Wait),
            Action::CancelOlderRuns
        ]
    );
}

#[test]
fn a_push_that_will_not_be_deployed_skips_the_after_deploy_steps_with_the_reason() {
    let s = state(
        true,
        waiting(&["unit"]),
        Deploy::Never("drafts get no preview"),
    );
    assert_eq!(
        decide(&s, &PR_PUSH),
        vec![
            Action::EnsureSteps(AfterDeploy::Skip("drafts get no preview")),
            Action::CancelOlderRuns
        ]
    );
}

#[test]
fn a_forks_push_runs_nothing_until_approved_but_still_supersedes() {
    let s = state(false, waiting(&["unit"]), Deploy::Coming);
    assert_eq!(decide(&s, &PR_PUSH), vec![Action::CancelOlderRuns]);
}

#[test]
fn a_branch_push_queues_its_steps_and_cancels_nothing() {
    let s = state(
        true,
        waiting(&["unit"]),
        Deploy::Never("branch runs have no preview"),
    );
    let pushed = Event::Pushed { supersedes: false };
    assert_eq!(
        decide(&s, &pushed),
        vec![Action::EnsureSteps(AfterDeploy::Skip(
            "branch runs have no preview"
        ))]
    );
}

#[test]
fn closing_cancels_everything() {
    for deploy in [Deploy::Coming, Deploy::Deployed { url: None }] {
        let s = state(true, Gate::Open, deploy);
        assert_eq!(decide(&s, &Event::Closed), vec![Action::CancelAllRuns]);
    }
}

#[test]
fn an_unapproved_head_waits_for_approval_before_anything_runs() {
    let s = state(false, Gate::Open, Deploy::Coming);
    assert_eq!(decide(&s, &Event::DeployDue), vec![Action::WaitForApproval]);
}

#[test]
fn the_deploy_goes_when_the_gate_is_open() {
    let s = state(true, Gate::Open, Deploy::Coming);
    assert_eq!(
        decide(&s, &Event::DeployDue),
        vec![Action::EnsureSteps(AfterDeploy::Wait), Action::Deploy]
    );
}

#[test]
fn the_deploy_waits_for_unfinished_steps_and_queues_missing_ones() {
    let s = state(true, waiting(&["unit", "lint"]), Deploy::Coming);
    assert_eq!(
        decide(&s, &Event::DeployDue),
        vec![
            Action::EnsureSteps(AfterDeploy::Wait),
            Action::WaitForSteps(vec!["unit".into(), "lint".into()])
        ]
    );
}

#[test]
fn a_failed_step_blocks_the_deploy_and_skips_what_would_test_it() {
    let s = state(true, blocked(&["unit"]), Deploy::Coming);
    assert_eq!(
        decide(&s, &Event::DeployDue),
        vec![
            Action::Block(vec!["unit".into()]),
            Action::SkipAfterSteps(
                "not run: the preview was not deployed (step unit did not pass)".into()
            )
        ]
    );
}

#[test]
fn the_last_step_before_the_deploy_wakes_a_parked_deploy() {
    for gate in [Gate::Open, blocked(&["unit"])] {
        let s = state(true, gate, Deploy::WaitingForSteps);
        let finished = Event::StepFinished {
            before_deploy: true,
        };
        assert_eq!(decide(&s, &finished), vec![Action::WakeDeploy]);
    }
}

#[test]
fn a_passing_retest_of_the_blocking_step_wakes_the_blocked_deploy() {
    let s = state(true, Gate::Open, Deploy::Blocked);
    let finished = Event::StepFinished {
        before_deploy: true,
    };
    assert_eq!(decide(&s, &finished), vec![Action::WakeDeploy]);
}

#[test]
fn a_step_finishing_wakes_nothing_while_others_run_or_nothing_is_parked() {
    let before = Event::StepFinished {
        before_deploy: true,
    };
    let s = state(true, waiting(&["lint"]), Deploy::WaitingForSteps);
    assert!(decide(&s, &before).is_empty(), "lint still runs");
    for deploy in [
        Deploy::Coming,
        Deploy::Deployed { url: None },
        Deploy::Failed,
        Deploy::Never("no preview"),
    ] {
        let s = state(true, Gate::Open, deploy.clone());
        assert!(decide(&s, &before).is_empty(), "{deploy:?}");
    }
    let after = Event::StepFinished {
        before_deploy: false,
    };
    let s = state(true, Gate::Open, Deploy::WaitingForSteps);
    assert!(
        decide(&s, &after).is_empty(),
        "after-deploy steps gate nothing"
    );
}

#[test]
fn a_deploy_releases_the_steps_after_it_with_its_url() {
    let s = state(true, Gate::Open, Deploy::Coming);
    let deployed = Event::Deployed {
        url: url("https://pr-7.example"),
    };
    assert_eq!(
        decide(&s, &deployed),
        vec![Action::StartAfterSteps {
            url: url("https://pr-7.example")
        }]
    );
}

#[test]
fn no_deploy_skips_the_steps_after_it_saying_why() {
    let s = state(true, Gate::Open, Deploy::Coming);
    let failed = Event::NotDeployed {
        reason: "the preview deploy failed".into(),
    };
    assert_eq!(
        decide(&s, &failed),
        vec![Action::SkipAfterSteps("the preview deploy failed".into())]
    );
}

#[test]
fn a_retest_tests_the_deployed_head_at_once() {
    let s = state(
        true,
        Gate::Open,
        Deploy::Deployed {
            url: url("https://x"),
        },
    );
    assert_eq!(
        decide(&s, &Event::Retest { all: false }),
        vec![Action::AddAttempts(AfterDeploy::Now {
            url: url("https://x")
        })]
    );
}

#[test]
fn a_retest_before_the_deploy_waits_for_it() {
    for deploy in [Deploy::Coming, Deploy::WaitingForSteps] {
        let s = state(true, waiting(&["unit"]), deploy);
        assert_eq!(
            decide(&s, &Event::Retest { all: true }),
            vec![Action::AddAttempts(AfterDeploy::Wait)]
        );
    }
}

#[test]
fn retesting_everything_may_unblock_a_blocked_deploy_but_one_step_cannot() {
    let s = state(true, blocked(&["unit"]), Deploy::Blocked);
    assert_eq!(
        decide(&s, &Event::Retest { all: true }),
        vec![Action::AddAttempts(AfterDeploy::Wait)]
    );
    assert_eq!(
        decide(&s, &Event::Retest { all: false }),
        vec![Action::AddAttempts(AfterDeploy::Skip(
            "the preview of this head is not deployed"
        ))]
    );
}

#[test]
fn a_retest_of_a_failed_or_never_deployed_head_skips_the_after_deploy_steps() {
    let failed = state(true, Gate::Open, Deploy::Failed);
    assert_eq!(
        decide(&failed, &Event::Retest { all: true }),
        vec![Action::AddAttempts(AfterDeploy::Skip(
            "the preview of this head is not deployed"
        ))]
    );
    let never = state(
        true,
        Gate::Open,
        Deploy::Never("this head has no preview to test"),
    );
    assert_eq!(
        decide(&never, &Event::Retest { all: true }),
        vec![Action::AddAttempts(AfterDeploy::Skip(
            "this head has no preview to test"
        ))]
    );
}

#[test]
fn a_rollback_counts_the_steps_before_the_deploy_as_passed_and_verifies_again() {
    let s = state(true, waiting(&["unit"]), Deploy::Coming);
    assert_eq!(
        decide(&s, &Event::RolledBack),
        vec![
            Action::PassBeforeSteps("this tree passed it in the release rolled back to"),
            Action::EnsureSteps(AfterDeploy::Wait),
            Action::CancelOlderRuns
        ]
    );
}
