use super::*;
use crate::pipeline::render::{StepStatus, StepView, check_summary, check_title, tests_section};
use crate::report::checks::Conclusion;

fn finished(
    name: &'static str,
    conclusion: Conclusion,
    reason: Option<&'static str>,
    summary: Option<&'static StepSummary>,
) -> StepView<'static> {
    StepView {
        name,
        status: StepStatus::Finished { conclusion, reason },
        summary,
        log_url: Some(LOG),
        attempt: 1,
    }
}

fn leak(summary: StepSummary) -> &'static StepSummary {
    Box::leak(Box::new(summary))
}

fn pending(name: &'static str, status: StepStatus<'static>) -> StepView<'static> {
    StepView {
        name,
        status,
        summary: None,
        log_url: None,
        attempt: 1,
    }
}

/// A skipped step, a timed-out one and one whose report could not be read, after `unit`
/// failed.
fn troubled_steps() -> Vec<StepView<'static>> {
    let timed_out = leak(summarize(
        None,
        vec![],
        None,
        Some("timed out after 5m".into()),
        "waiting for http://localhost:8080 ...\nwaiting for http://localhost:8080 ...\n",
    ));
    let unreadable = leak(summarize(
        None,
        vec!["reports/junit.xml: not XML at line 3".into()],
        None,
        Some("exit status 2".into()),
        "ERROR: could not import 'app.settings'\n",
    ));
    let results_unknown = leak(summarize(
        None,
        vec![
            UNKNOWN
                .trim_start_matches("results unknown: the test report ")
                .into(),
        ],
        None,
        Some("exit status 0".into()),
        "linted 12 files\n",
    ));
    vec![
        StepView {
            log_url: None,
            ..finished("e2e", Conclusion::Skipped, Some("step `unit` failed"), None)
        },
        finished("integration", Conclusion::TimedOut, None, Some(timed_out)),
        finished("unit", Conclusion::Failure, None, Some(unreadable)),
        finished(
            "lint",
            Conclusion::Failure,
            Some(UNKNOWN),
            Some(results_unknown),
        ),
    ]
}

/// Why `lint` failed although its command exited 0.
const UNKNOWN: &str = "results unknown: the test report reports/lint.xml: malformed JUnit XML \
    at line 4, column 9 (byte 77): unexpected end of file";

#[test]
fn titles_say_in_one_line_how_each_step_went() {
    let unit = leak(unit_summary());
    let functional = leak(functional_summary());
    let steps = troubled_steps();
    let titles: Vec<String> = [
        finished("unit", Conclusion::Success, None, Some(unit)),
        finished("functional", Conclusion::Failure, None, Some(functional)),
        steps[0],
        steps[1],
        steps[2],
        steps[3],
        finished(
            "unit",
            Conclusion::Cancelled,
            Some("superseded by abc1234"),
            None,
        ),
        pending("unit", StepStatus::Running),
        pending("e2e", StepStatus::WaitingForDeploy),
        pending("lint", StepStatus::Queued),
    ]
    .iter()
    .map(check_title)
    .collect();
    assert_eq!(
        titles,
        [
            "120 passed in 3.4 s",
            "28 passed, 2 failed (1 new) in 48.2 s",
            "Skipped: step `unit` failed",
            "Timed out after 5m",
            "exit status 2 (unreadable test report)",
            "Results unknown: the test report reports/lint.xml: malformed JUnit XML at line 4, \
             column 9 (byte 77): unexpected end of file",
            "Cancelled: superseded by abc1234",
            "Running",
            "Waiting for the preview deploy",
            "Queued",
        ]
    );
}

#[test]
fn a_passing_run_that_exits_non_zero_says_why_it_failed() {
    let mut summary = unit_summary();
    summary.exit = Some("exit status 1".into());
    let view = finished("unit", Conclusion::Failure, None, Some(leak(summary)));
    assert_eq!(check_title(&view), "120 passed in 3.4 s; exit status 1");
}

#[test]
fn pr_with_a_passed_and_a_failed_step() {
    let unit = leak(unit_summary());
    let functional = leak(functional_summary());
    let steps = [
        finished("unit", Conclusion::Success, None, Some(unit)),
        finished("functional", Conclusion::Failure, None, Some(functional)),
    ];
    insta::assert_snapshot!(tests_section(&steps, SHA, "/"));
}

#[test]
fn check_run_of_the_failed_step() {
    let functional = leak(functional_summary());
    let view = finished("functional", Conclusion::Failure, None, Some(functional));
    let md = check_summary(&view, Some(&functional_report()), "/");
    assert!(md.contains("**new failure**"), "{md}");
    assert!(md.contains("already failing"), "{md}");
    insta::assert_snapshot!(md);
}

#[test]
fn check_run_redrawn_from_the_stored_summary_alone() {
    let functional = leak(functional_summary());
    let view = StepView {
        attempt: 2,
        ..finished("functional", Conclusion::Failure, None, Some(functional))
    };
    insta::assert_snapshot!(check_summary(&view, None, "/"));
}

#[test]
fn skipped_timed_out_and_unreadable_steps() {
    insta::assert_snapshot!(tests_section(&troubled_steps(), SHA, "/"));
}

#[test]
fn check_runs_of_the_troubled_steps() {
    let shown: Vec<String> = troubled_steps()
        .iter()
        .map(|view| {
            format!(
                "===== {} =====\n{}",
                view.name,
                check_summary(view, None, "/")
            )
        })
        .collect();
    insta::assert_snapshot!(shown.join("\n\n"));
}

#[test]
fn running_and_queued_steps() {
    let unit = leak(unit_summary());
    let steps = [
        pending("lint", StepStatus::Queued),
        finished("unit", Conclusion::Success, None, Some(unit)),
        StepView {
            log_url: Some(LOG),
            attempt: 2,
            ..pending("functional", StepStatus::Running)
        },
        pending("e2e", StepStatus::WaitingForDeploy),
    ];
    let section = tests_section(&steps, SHA, "/");
    let running = StepView {
        log_url: Some(LOG),
        ..pending("functional", StepStatus::Running)
    };
    insta::assert_snapshot!(format!(
        "{section}\n\n===== check run of functional =====\n{}",
        check_summary(&running, None, "/")
    ));
}

#[test]
fn no_steps_no_section() {
    assert_eq!(tests_section(&[], SHA, "/"), "");
}
