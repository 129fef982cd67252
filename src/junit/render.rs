//! A report as people see it on the pull request: a check-run summary (totals, failures
//! first, then the slowest tests) that always fits GitHub's 65,535-character limit, and an
//! annotation on each failing test's line when the report says where it is.
//!
//! Every test name and message is the PR author's text, so it goes through
//! [`markdown::escape`] (which also escapes `|`, keeping table rows intact).

use std::fmt::Write as _;
use std::time::Duration;

use super::model::{Case, Report};
use crate::report::checks::{Annotation, AnnotationLevel, MAX_OUTPUT_TEXT};
use crate::report::{markdown, units};

/// Characters shown of a test name or a message in a table cell: enough to recognise it,
/// short enough that hundreds of rows fit.
const CELL: usize = 160;
/// Room kept for the "…and N more failures" note.
const NOTE_ROOM: usize = 200;

/// The check-run summary for the report of step `step`, at most [`MAX_OUTPUT_TEXT`] long.
pub fn summary_markdown(report: &Report, step: &str) -> String {
    let t = &report.totals;
    let icon = if t.failed > 0 { "❌" } else { "✅" };
    let mut head = format!("### {icon} {}\n\n", markdown::escape(step));
    let _ = write!(
        head,
        "**{} failed**, {} passed, {} skipped: {} tests in {}",
        t.failed,
        t.passed,
        t.skipped,
        t.tests,
        duration(t.time)
    );
    if t.errors > 0 {
        let _ = write!(head, " ({} of the failures are errors)", t.errors);
    }
    if t.flaky > 0 {
        let _ = write!(head, "; {} passed only after a retry", t.flaky);
    }
    head.push('\n');

    let slowest = slowest_table(&report.slowest, MAX_OUTPUT_TEXT / 4);
    let budget =
        MAX_OUTPUT_TEXT.saturating_sub(units::len(&head) + units::len(&slowest) + NOTE_ROOM);
    let failures = failures_table(report, budget);
    let mut out = head;
    out.push_str(&failures);
    out.push_str(&slowest);
    units::prefix(&out, MAX_OUTPUT_TEXT).to_owned()
}

fn failures_table(report: &Report, budget: usize) -> String {
    if report.totals.failed == 0 {
        return String::new();
    }
    let mut table =
        "\n#### Failures\n\n| Test | Where | Message |\n| --- | --- | --- |\n".to_owned();
    let mut shown = 0u64;
    for case in &report.failures {
        let row = format!(
            "| {} | {} | {} |\n",
            cell(&case.display_name()),
            case.location.as_ref().map_or(String::new(), |l| {
                let at = l.line.map_or(l.file.clone(), |n| format!("{}:{n}", l.file));
                cell(&at)
            }),
            cell(case.message.as_deref().unwrap_or("")),
        );
        if units::len(&table) + units::len(&row) > budget {
            break;
        }
        table.push_str(&row);
        shown += 1;
    }
    let more = report.totals.failed.saturating_sub(shown);
    if more > 0 {
        let _ = writeln!(table, "\n…and {more} more failures");
    }
    table
}

fn slowest_table(cases: &[Case], budget: usize) -> String {
    if cases.is_empty() {
        return String::new();
    }
    let mut table = "\n#### Slowest tests\n\n| Test | Time |\n| --- | --- |\n".to_owned();
    for case in cases {
        let row = format!(
            "| {} | {} |\n",
            cell(&case.display_name()),
            duration(case.time)
        );
        if units::len(&table) + units::len(&row) > budget {
            break;
        }
        table.push_str(&row);
    }
    table
}

/// Plain text as one table cell: first line only, cut, escaped.
fn cell(text: &str) -> String {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    markdown::escape(&units::ellipsize(first.trim(), CELL))
}

/// `850 ms`, `12.3 s`, `4 min 5 s`: the precision a person reads at each scale.
fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// One failure annotation per kept failing case whose file and line the report gives; cases
/// without a line get none (an annotation needs a line, and none is invented).
pub fn annotations(report: &Report) -> Vec<Annotation> {
    report
        .failures
        .iter()
        .filter_map(|case| {
            let location = case.location.as_ref()?;
            let line = location.line?;
            let message = case
                .message
                .as_deref()
                .or(case.text.as_deref())
                .unwrap_or("failed");
            let mut a = Annotation::new(&location.file, line, AnnotationLevel::Failure, message)
                .title(&case.display_name());
            if let Some(text) = &case.text {
                a = a.raw_details(text);
            }
            Some(a)
        })
        .collect()
}
