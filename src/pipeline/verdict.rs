//! How a step that ran to its end concludes: a pure decision over its exit and its reports.

use super::reports::Collected;
use super::runner::Exit;
use crate::store::pipeline::StepConclusion;

/// How a step that ran to its end concluded, and why when it did not pass. A failing command
/// fails the step; so does a failing test, and so does a report the step wrote that cannot be
/// read: its tests may have failed, so passing it would report results nobody has seen.
pub fn verdict(exit: &Exit, collected: &Collected) -> (StepConclusion, Option<String>) {
    let failures = collected
        .report
        .as_ref()
        .map_or(0, |report| report.totals.failed);
    if !exit.success {
        return (StepConclusion::Failure, Some(exit.description.clone()));
    }
    if failures > 0 {
        let reason = format!("the command passed but the report has {failures} failing tests");
        return (StepConclusion::Failure, Some(reason));
    }
    if let Some(unreadable) = &collected.unreadable {
        let reason = format!("results unknown: the test report {unreadable}");
        return (StepConclusion::Failure, Some(reason));
    }
    (StepConclusion::Success, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::{Limits, parse};

    fn exit(success: bool) -> Exit {
        Exit {
            success,
            description: format!("exit status {}", if success { 0 } else { 1 }),
        }
    }

    fn report(xml: &str) -> Collected {
        Collected {
            report: Some(parse(xml.as_bytes(), &Limits::default()).unwrap()),
            files: 1,
            ..Collected::default()
        }
    }

    fn unreadable() -> Collected {
        Collected {
            errors: vec!["reports/junit.xml: malformed JUnit XML at line 3, column 7".into()],
            unreadable: Some("reports/junit.xml: malformed JUnit XML at line 3, column 7".into()),
            ..Collected::default()
        }
    }

    #[test]
    fn a_passing_command_with_a_passing_report_or_none_passes() {
        let passing = report(r#"<testsuite><testcase name="a"/></testsuite>"#);
        assert_eq!(
            verdict(&exit(true), &passing),
            (StepConclusion::Success, None)
        );
        assert_eq!(
            verdict(&exit(true), &Collected::default()),
            (StepConclusion::Success, None),
            "a glob that matched nothing is no report, not an unreadable one"
        );
    }

    #[test]
    fn an_unreadable_report_means_unknown_results_and_fails_the_step() {
        let (conclusion, reason) = verdict(&exit(true), &unreadable());
        assert_eq!(conclusion, StepConclusion::Failure);
        assert_eq!(
            reason.as_deref(),
            Some(
                "results unknown: the test report reports/junit.xml: malformed JUnit XML at \
                 line 3, column 7"
            )
        );
    }

    #[test]
    fn a_failing_command_or_test_says_so_first() {
        assert_eq!(
            verdict(&exit(false), &unreadable()),
            (StepConclusion::Failure, Some("exit status 1".into()))
        );
        let failing = report(r#"<testsuite><testcase name="a"><failure/></testcase></testsuite>"#);
        assert_eq!(
            verdict(&exit(true), &failing).1.as_deref(),
            Some("the command passed but the report has 1 failing tests")
        );
    }
}
