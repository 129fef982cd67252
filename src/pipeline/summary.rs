//! What is kept of a finished step run, so the sticky comment can be redrawn later (when
//! another step finishes) without the report or the log at hand: totals, the failures worth
//! listing, why reports could not be read, how the command ended and its last lines. Stored as
//! JSON text in the run's row; every field has a default so older rows still read.

use crate::github::short_sha;
use serde::{Deserialize, Serialize};

use super::compare::{BaseResult, Regression, classify};
use crate::junit::{Case, Report, Totals};
use crate::report::units;

/// Failures listed at most: the sticky comment shows one table per failed step, and more
/// than this is a wall nobody reads (the check run lists them all).
pub const MAX_FAILURES: usize = 30;
/// Report errors kept at most (the last one says how many more there were).
pub const MAX_REPORT_ERRORS: usize = 5;
/// Characters kept of a failure's message: its first line says what went wrong.
pub const MAX_MESSAGE: usize = 200;
/// Characters kept of one report error.
const MAX_REPORT_ERROR: usize = 300;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StepSummary {
    /// `None`: the step wrote no (readable) report.
    pub totals: Option<TotalsView>,
    /// At most [`MAX_FAILURES`]: new failures first, then the rest in report order.
    pub failures: Vec<FailureView>,
    /// Failing tests counted but not in [`StepSummary::failures`].
    pub failures_not_shown: u64,
    /// `reports/junit.xml: not XML at line 3`, at most [`MAX_REPORT_ERRORS`].
    pub report_errors: Vec<String>,
    /// `exit status 1`, `timed out after 5m`; `None` if the command never ran.
    pub exit: Option<String>,
    /// The end of the step's log ([`crate::process::output_tail`]).
    pub output_tail: String,
    /// `main @ abc1234` when failures were compared with the base branch.
    pub base: Option<String>,
    /// `TOKEN (ACME_SHOP_TOKEN)`: the secrets the step ran without, its head being a fork's.
    pub withheld_secrets: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TotalsView {
    pub tests: u64,
    pub passed: u64,
    /// Failures and errors.
    pub failed: u64,
    pub skipped: u64,
    /// Passed only after a retry.
    pub flaky: u64,
    pub seconds: f64,
}

impl From<&Totals> for TotalsView {
    fn from(t: &Totals) -> Self {
        TotalsView {
            tests: t.tests,
            passed: t.passed,
            failed: t.failed,
            skipped: t.skipped,
            flaky: t.flaky,
            seconds: t.time.as_secs_f64(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FailureView {
    pub name: String,
    /// `src/cart.py:42`, or the file alone when the report gives no line.
    pub location: Option<String>,
    /// The message's first line, at most [`MAX_MESSAGE`] characters.
    pub message: Option<String>,
    /// `None` when not compared with the base.
    pub regression: Option<Regression>,
}

impl FailureView {
    fn of(case: &Case, base: Option<&BaseResult>) -> Self {
        FailureView {
            name: case.display_name(),
            location: case.location.as_ref().map(|l| match l.line {
                Some(line) => format!("{}:{line}", l.file),
                None => l.file.clone(),
            }),
            message: case
                .message
                .as_deref()
                .or(case.text.as_deref())
                .and_then(first_line)
                .map(|m| units::ellipsize(m, MAX_MESSAGE)),
            regression: classify(case, base),
        }
    }
}

/// What to keep of a finished run. `report` is the step's reports merged (`None` when it
/// wrote none that could be read), `report_errors` why the others could not be read, `exit`
/// how the command ended and `log` its output.
pub fn summarize(
    report: Option<&Report>,
    report_errors: Vec<String>,
    base: Option<&BaseResult>,
    exit: Option<String>,
    log: &str,
) -> StepSummary {
    let mut failures: Vec<FailureView> = report
        .map(|r| {
            r.failures
                .iter()
                .map(|c| FailureView::of(c, base))
                .collect()
        })
        .unwrap_or_default();
    // Stable, so each group keeps the report's order.
    failures.sort_by_key(|f| f.regression != Some(Regression::New));
    failures.truncate(MAX_FAILURES);
    let failed = report.map_or(0, |r| r.totals.failed);
    StepSummary {
        totals: report.map(|r| TotalsView::from(&r.totals)),
        failures_not_shown: failed.saturating_sub(failures.len() as u64),
        failures,
        report_errors: bounded_errors(report_errors),
        exit,
        output_tail: crate::process::output_tail(log),
        base: base.map(|b| format!("{} @ {}", b.branch, short_sha(&b.sha))),
        withheld_secrets: Vec::new(),
    }
}

/// At most [`MAX_REPORT_ERRORS`], the last saying how many more there were.
fn bounded_errors(errors: Vec<String>) -> Vec<String> {
    let total = errors.len();
    let mut kept: Vec<String> = errors
        .into_iter()
        .map(|e| units::ellipsize(&e.replace(['\n', '\r'], " "), MAX_REPORT_ERROR))
        .collect();
    if total > MAX_REPORT_ERRORS {
        kept.truncate(MAX_REPORT_ERRORS - 1);
        let more = total - kept.len();
        kept.push(format!("…and {more} more reports could not be read"));
    }
    kept
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::junit::{Location, Outcome};

    fn failing(name: &str) -> Case {
        Case {
            classname: "tests.test_cart".into(),
            name: name.into(),
            time: Duration::from_millis(40),
            outcome: Outcome::Failed,
            message: None,
            text: Some(format!("\n  AssertionError: {name} is wrong\n  at line 3")),
            location: Some(Location {
                file: "tests/test_cart.py".into(),
                line: Some(42),
            }),
            retries: 0,
        }
    }

    fn report_of(failures: Vec<Case>, failed: u64) -> Report {
        Report {
            totals: Totals {
                tests: failed.max(30),
                passed: failed.max(30) - failed,
                failed,
                time: Duration::from_millis(3_400),
                ..Totals::default()
            },
            failures,
            ..Report::default()
        }
    }

    #[test]
    fn new_failures_come_first_then_the_report_order() {
        let report = report_of(
            vec![failing("old_a"), failing("new_b"), failing("old_c")],
            3,
        );
        let base = BaseResult::new(
            "main",
            "abc1234def",
            Some("tests.test_cart::old_a\ntests.test_cart::old_c\n"),
        );
        let s = summarize(
            Some(&report),
            vec![],
            Some(&base),
            Some("exit status 1".into()),
            "ok\nFAILED",
        );
        let order: Vec<(&str, Option<Regression>)> = s
            .failures
            .iter()
            .map(|f| (f.name.as_str(), f.regression))
            .collect();
        assert_eq!(
            order,
            [
                ("tests.test_cart.new_b", Some(Regression::New)),
                ("tests.test_cart.old_a", Some(Regression::AlreadyFailing)),
                ("tests.test_cart.old_c", Some(Regression::AlreadyFailing)),
            ]
        );
        assert_eq!(s.base.as_deref(), Some("main @ abc1234"));
        assert_eq!(s.output_tail, "ok\nFAILED");
        let first = &s.failures[0];
        assert_eq!(first.location.as_deref(), Some("tests/test_cart.py:42"));
        assert_eq!(
            first.message.as_deref(),
            Some("AssertionError: new_b is wrong")
        );
    }

    #[test]
    fn at_most_thirty_failures_are_kept_and_the_rest_counted() {
        let failures = (0..40).map(|i| failing(&format!("t{i}"))).collect();
        let s = summarize(Some(&report_of(failures, 100)), vec![], None, None, "");
        assert_eq!(s.failures.len(), MAX_FAILURES);
        assert_eq!(s.failures_not_shown, 70);
        assert!(s.failures.iter().all(|f| f.regression.is_none()));
    }

    #[test]
    fn long_messages_and_many_report_errors_are_cut() {
        let mut case = failing("x");
        case.message = Some("y".repeat(1_000));
        let errors: Vec<String> = (1..=8).map(|i| format!("r{i}.xml: not XML")).collect();
        let s = summarize(Some(&report_of(vec![case], 1)), errors, None, None, "");
        assert_eq!(units::len(s.failures[0].message.as_deref().unwrap()), 200);
        assert_eq!(
            s.report_errors,
            [
                "r1.xml: not XML",
                "r2.xml: not XML",
                "r3.xml: not XML",
                "r4.xml: not XML",
                "…and 4 more reports could not be read",
            ]
        );
    }

    #[test]
    fn a_step_without_a_report_keeps_its_exit_and_output() {
        let s = summarize(
            None,
            vec!["reports/junit.xml: not XML at line 3".into()],
            None,
            Some("exit status 2".into()),
            "line 1\nline 2\n",
        );
        assert_eq!(s.totals, None);
        assert_eq!(s.exit.as_deref(), Some("exit status 2"));
        assert_eq!(s.output_tail, "line 1\nline 2");
    }

    #[test]
    fn summaries_round_trip_through_json_and_old_rows_still_read() {
        let base = BaseResult::new("main", "abc1234", None);
        let s = summarize(
            Some(&report_of(vec![failing("a")], 1)),
            vec![],
            Some(&base),
            Some("exit status 1".into()),
            "boom",
        );
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""regression":"new""#), "{json}");
        assert_eq!(serde_json::from_str::<StepSummary>(&json).unwrap(), s);
        let old: StepSummary = serde_json::from_str(r#"{"exit":"exit status 3"}"#).unwrap();
        assert_eq!(old.exit.as_deref(), Some("exit status 3"));
        assert!(old.failures.is_empty());
    }
}
