//! What the PR shows about its pipeline steps: each step's check-run title and summary, and
//! the sticky comment's tests section. Pure functions of the steps' states and summaries.
//!
//! Test names, messages, paths and output are the PR author's text: they go through
//! [`markdown`]'s helpers, never into the Markdown as they are.

use std::fmt::Write as _;
use std::time::Duration;

use super::compare::Regression;
use super::summary::{FailureView, StepSummary, TotalsView};
use crate::junit::{self, Report};
use crate::report::checks::{Conclusion, MAX_OUTPUT_TEXT};
use crate::report::markdown::{self, Align, Table, code, code_block, details, escape, link};
use crate::report::sticky::MAX_SECTION_LEN;
use crate::report::units;

/// Where a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus<'a> {
    Queued,
    /// A step that tests the preview waits for its deploy.
    WaitingForDeploy,
    Running,
    /// `reason` says why a run did not run or was stopped ("step `unit` failed",
    /// "superseded by abc1234").
    Finished {
        conclusion: Conclusion,
        reason: Option<&'a str>,
    },
}

/// The facts a step's check run and table row are drawn from.
#[derive(Clone, Copy, Debug)]
pub struct StepView<'a> {
    pub name: &'a str,
    pub status: StepStatus<'a>,
    /// The finished run's summary; `None` before it finishes (or if it never ran).
    pub summary: Option<&'a StepSummary>,
    pub log_url: Option<&'a str>,
    /// 1 for the first run of this step on this commit, 2 after one retest, ...
    pub attempt: i64,
}

/// Characters shown of a name or message in a table cell: enough to recognise it, short
/// enough that many rows fit.
const CELL: usize = 160;
/// Room kept for a "cut to fit" note.
const NOTE_ROOM: usize = 300;
/// Characters of output shown per step: a stored tail longer than the runner's is cut.
const MAX_TAIL: usize = 4_000;

/// The check run's title: one line saying how the step went.
pub fn check_title(view: &StepView<'_>) -> String {
    let title = match view.status {
        StepStatus::Queued => "Queued".to_owned(),
        StepStatus::WaitingForDeploy => "Waiting for the preview deploy".to_owned(),
        StepStatus::Running if view.attempt > 1 => format!("Running (attempt {})", view.attempt),
        StepStatus::Running => "Running".to_owned(),
        StepStatus::Finished { conclusion, reason } => {
            finished_title(conclusion, reason, view.summary)
        }
    };
    units::ellipsize(&title.replace(['\n', '\r'], " "), 200)
}

fn finished_title(
    conclusion: Conclusion,
    reason: Option<&str>,
    summary: Option<&StepSummary>,
) -> String {
    let exit = summary.and_then(|s| s.exit.as_deref());
    let labelled = |label: &str| match reason {
        Some(reason) => format!("{label}: {reason}"),
        None => label.to_owned(),
    };
    match conclusion {
        Conclusion::Skipped => return labelled("Skipped"),
        Conclusion::Cancelled => return labelled("Cancelled"),
        Conclusion::TimedOut => {
            return reason
                .or(exit)
                .map_or_else(|| "Timed out".to_owned(), capitalised);
        }
        _ => {}
    }
    match summary {
        Some(s) if s.totals.is_some() => {
            let mut title = counts(s);
            if conclusion == Conclusion::Failure
                && s.totals.as_ref().is_some_and(|t| t.failed == 0)
                && let Some(why) = reason.or(exit)
            {
                let _ = write!(title, "; {why}");
            }
            title
        }
        Some(s) => {
            let report = if s.report_errors.is_empty() {
                "no test report"
            } else {
                "unreadable test report"
            };
            match (conclusion, exit) {
                (Conclusion::Success, _) => format!("Passed ({report})"),
                // A reason other than how the command ended says why the step failed (its
                // report could not be read: results unknown).
                (Conclusion::Failure, _) if reason.is_some() && reason != exit => {
                    reason.map_or_else(|| conclusion_word(conclusion), capitalised)
                }
                (_, Some(exit)) => format!("{exit} ({report})"),
                (_, None) => reason.map_or_else(|| conclusion_word(conclusion), capitalised),
            }
        }
        None => reason.map_or_else(|| conclusion_word(conclusion), capitalised),
    }
}

/// `12 passed, 2 failed (1 new), 3 skipped in 3.4 s`.
fn counts(s: &StepSummary) -> String {
    let t = s.totals.as_ref().cloned().unwrap_or_default();
    if t.tests == 0 {
        return "No tests in the report".to_owned();
    }
    let mut out = format!("{} passed", t.passed);
    if t.failed > 0 {
        let _ = write!(out, ", {} failed{}", t.failed, new_note(s));
    }
    if t.skipped > 0 {
        let _ = write!(out, ", {} skipped", t.skipped);
    }
    if t.flaky > 0 {
        let _ = write!(out, ", {} flaky", t.flaky);
    }
    let _ = write!(out, " in {}", seconds(t.seconds));
    out
}

/// ` (1 new)` when compared with the base. New failures are listed first, so the count is
/// exact unless every listed failure is new and some were not listed (`30+ new`).
fn new_note(s: &StepSummary) -> String {
    if s.base.is_none() {
        return String::new();
    }
    let new = s
        .failures
        .iter()
        .filter(|f| f.regression == Some(Regression::New))
        .count();
    let plus = if new == s.failures.len() && s.failures_not_shown > 0 {
        "+"
    } else {
        ""
    };
    format!(" ({new}{plus} new)")
}

fn conclusion_word(conclusion: Conclusion) -> String {
    match conclusion {
        Conclusion::ActionRequired => "Action required",
        Conclusion::Cancelled => "Cancelled",
        Conclusion::Failure => "Failed",
        Conclusion::Neutral => "Finished",
        Conclusion::Success => "Passed",
        Conclusion::Skipped => "Skipped",
        Conclusion::TimedOut => "Timed out",
    }
    .to_owned()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The check run's summary: the report's summary (or the title when there is none), which
/// failures are new with this PR, unreadable reports, how the command ended, its last lines,
/// the full log and how to run it again. At most [`MAX_OUTPUT_TEXT`] long.
pub fn check_summary(view: &StepView<'_>, report: Option<&Report>, prefix: &str) -> String {
    let finished = matches!(view.status, StepStatus::Finished { .. });
    let summary = view.summary.filter(|_| finished);
    let main = match report.filter(|_| finished) {
        Some(report) => junit::summary_markdown(report, view.name),
        None => format!(
            "### {} {}\n\n{}",
            icon(view),
            escape(view.name),
            escape(&check_title(view))
        ),
    };

    let mut rest = String::new();
    if view.attempt > 1 {
        let _ = write!(rest, "\n\n_Attempt {}._", view.attempt);
    }
    if let Some(s) = summary.filter(|s| !s.withheld_secrets.is_empty()) {
        let names: Vec<String> = s.withheld_secrets.iter().map(|w| code(w)).collect();
        let _ = write!(
            rest,
            "\n\nThis head comes from a fork, so the step ran without its secrets: {}. A step \
             that needs them on forks says `secrets_for_forks: true` in the config.",
            names.join(", ")
        );
    }
    if let Some(s) = summary {
        let listed_by_report = report.is_some();
        if !s.failures.is_empty() && (s.base.is_some() || !listed_by_report) {
            // The base as a code span: its `@` must not read as a mention.
            let heading = match &s.base {
                Some(base) => format!("#### Compared with {}", code(base)),
                None => markdown::heading(4, "Failures"),
            };
            let _ = write!(rest, "\n\n{heading}\n\n{}", failures_table(s));
        }
        rest.push_str(&report_errors(s));
        if s.totals.is_some()
            && let Some(exit) = &s.exit
        {
            let _ = write!(rest, "\n\nThe command ended with {}.", escape(exit));
        }
        rest.push_str(&output(s, "Output (last lines)"));
    }
    if let Some(url) = view.log_url {
        let text = if finished { "Full log" } else { "Live log" };
        let _ = write!(rest, "\n\n{}", link(text, url));
    }
    if finished {
        let _ = write!(
            rest,
            "\n\nTo run it again, comment {} or use the check's **Re-run** button.",
            code(&format!("{prefix}retest {}", view.name))
        );
    }

    let room = MAX_OUTPUT_TEXT.saturating_sub(units::len(&rest));
    let out = format!("{}{rest}", fit_lines(&main, room));
    units::prefix(&out, MAX_OUTPUT_TEXT).to_owned()
}

/// `text` whole if it fits in `room`, else its first lines with a note (cut between lines, so
/// a table loses rows, not half a row).
fn fit_lines(text: &str, room: usize) -> String {
    if units::len(text) <= room {
        return text.to_owned();
    }
    let note = "\n\n_… cut to fit: the full list is in the log._";
    let budget = room.saturating_sub(units::len(note));
    let mut out = String::new();
    for line in text.lines() {
        if units::len(&out) + units::len(line) + 1 > budget {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    format!("{}{note}", out.trim_end())
}

/// A table of a step's listed failures, new ones first; a column comparing with the base when
/// there was one.
fn failures_table(s: &StepSummary) -> String {
    let mut header = vec!["Test", "Where"];
    if s.base.is_some() {
        header.push("Compared with the base");
    }
    let mut table = Table::new(header);
    let mut failures: Vec<&FailureView> = s.failures.iter().collect();
    failures.sort_by_key(|f| match f.regression {
        Some(Regression::New) => 0,
        None => 1,
        Some(Regression::AlreadyFailing) => 2,
    });
    for f in failures {
        let mut row = vec![
            cell(&f.name),
            f.location
                .as_deref()
                .map_or_else(String::new, |l| code(&units::ellipsize(l, CELL))),
        ];
        if s.base.is_some() {
            row.push(
                match f.regression {
                    Some(Regression::New) => "🆕 **new failure**",
                    Some(Regression::AlreadyFailing) => "already failing",
                    None => "",
                }
                .to_owned(),
            );
        }
        table.push(row);
    }
    let mut out = table.render();
    if s.failures_not_shown > 0 {
        let _ = write!(
            out,
            "\n\n…and {} more failing tests (see the check run).",
            s.failures_not_shown
        );
    }
    out
}

fn report_errors(s: &StepSummary) -> String {
    if s.report_errors.is_empty() {
        return String::new();
    }
    let mut out = "\n\nTest reports that could not be read:\n".to_owned();
    for e in &s.report_errors {
        let _ = write!(out, "\n- {}", escape(e));
    }
    out
}

/// The output tail, collapsed: fenced, so nothing in it is Markdown or HTML.
fn output(s: &StepSummary, label: &str) -> String {
    let tail = s.output_tail.trim_end();
    if tail.is_empty() {
        return String::new();
    }
    let count = tail.chars().count();
    let tail: String = tail.chars().skip(count.saturating_sub(MAX_TAIL)).collect();
    format!("\n\n{}", details(label, &code_block("text", &tail)))
}

/// Plain text as one table cell: first line only, cut, escaped.
fn cell(text: &str) -> String {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    escape(&units::ellipsize(first.trim(), CELL))
}

/// `850 ms`, `12.3 s`, `4 min 5 s` (as the JUnit summary writes times).
fn seconds(s: f64) -> String {
    let d = Duration::try_from_secs_f64(s).unwrap_or_default();
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Failed first, then still going, then done without failing: what needs attention on top.
fn rank(status: StepStatus<'_>) -> u8 {
    match status {
        StepStatus::Finished {
            conclusion: Conclusion::Failure | Conclusion::TimedOut | Conclusion::ActionRequired,
            ..
        } => 0,
        StepStatus::Running | StepStatus::WaitingForDeploy | StepStatus::Queued => 1,
        StepStatus::Finished { .. } => 2,
    }
}

fn icon(view: &StepView<'_>) -> &'static str {
    status_word(view.status).0
}

fn status_word(status: StepStatus<'_>) -> (&'static str, &'static str) {
    match status {
        StepStatus::Queued => ("🕒", "queued"),
        StepStatus::WaitingForDeploy => ("⏳", "waiting for the preview deploy"),
        StepStatus::Running => ("🔄", "running"),
        StepStatus::Finished { conclusion, .. } => match conclusion {
            Conclusion::Success => ("✅", "passed"),
            Conclusion::Failure => ("❌", "failed"),
            Conclusion::TimedOut => ("⏱️", "timed out"),
            Conclusion::Cancelled => ("🚫", "cancelled"),
            Conclusion::Skipped => ("⏭️", "skipped"),
            Conclusion::Neutral => ("➖", "finished"),
            Conclusion::ActionRequired => ("⚠️", "action required"),
        },
    }
}

/// The sticky comment's tests section for commit `sha`: a row per step (failed first), then
/// each failed step's failing tests and last output lines. Empty when there are no steps (the
/// section is then removed). At most [`MAX_SECTION_LEN`] long, however many steps and
/// failures.
pub fn tests_section(steps: &[StepView<'_>], sha: &str, prefix: &str) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let mut ordered: Vec<&StepView<'_>> = steps.iter().collect();
    ordered.sort_by_key(|v| rank(v.status));

    let mut out = format!(
        "{}\n\n{}",
        markdown::heading(3, "Tests"),
        headline(&ordered, sha)
    );
    let budget = MAX_SECTION_LEN - NOTE_ROOM;

    out.push_str("\n\n");
    out.push_str(&steps_table(&ordered, budget / 2));

    let failed: Vec<&&StepView<'_>> = ordered.iter().filter(|v| rank(v.status) == 0).collect();
    for (i, view) in failed.iter().enumerate() {
        let block = failed_step(view, prefix);
        if units::len(&out) + units::len(&block) > budget {
            let _ = write!(
                out,
                "\n\n_…{} more failed steps are not shown here: see their check runs._",
                failed.len() - i
            );
            break;
        }
        out.push_str(&block);
    }
    out
}

/// `Commit `abc1234`: 1 of 3 steps failed.`
fn headline(ordered: &[&StepView<'_>], sha: &str) -> String {
    let n = ordered.len();
    let failed = ordered.iter().filter(|v| rank(v.status) == 0).count();
    let pending = ordered.iter().filter(|v| rank(v.status) == 1).count();
    let all_passed = ordered.iter().all(|v| {
        matches!(
            v.status,
            StepStatus::Finished {
                conclusion: Conclusion::Success,
                ..
            }
        )
    });
    let state = match (failed, pending) {
        (0, 0) if all_passed => format!("all {n} steps passed"),
        (0, 0) => format!("all {n} steps finished without failing"),
        (0, p) => format!("{} of {n} steps finished", n - p),
        (f, 0) => format!("{f} of {n} steps failed"),
        (f, _) => format!("{f} of {n} steps failed so far"),
    };
    format!(
        "Commit {}: {state}.",
        code(crate::github::short_sha(sha.trim()))
    )
}

fn steps_table(ordered: &[&StepView<'_>], budget: usize) -> String {
    let mut table = Table::new([
        "Step", "Status", "Passed", "Failed", "Skipped", "Time", "Log",
    ])
    .align(2, Align::Right)
    .align(3, Align::Right)
    .align(4, Align::Right)
    .align(5, Align::Right);
    let mut used = 0;
    let mut shown = 0;
    for view in ordered {
        let row = step_row(view);
        let row_len: usize = row.iter().map(|c| units::len(c) + 3).sum();
        if used + row_len > budget {
            break;
        }
        used += row_len;
        table.push(row);
        shown += 1;
    }
    let mut out = table.render();
    if shown < ordered.len() {
        let _ = write!(
            out,
            "\n\n_…{} more steps are not shown here: see their check runs._",
            ordered.len() - shown
        );
    }
    out
}

fn step_row(view: &StepView<'_>) -> Vec<String> {
    let (icon, word) = status_word(view.status);
    let mut status = format!("{icon} {word}");
    if let StepStatus::Finished {
        reason: Some(reason),
        conclusion: Conclusion::Skipped | Conclusion::Cancelled,
    } = view.status
    {
        let _ = write!(status, " ({})", cell(reason));
    }
    let summary = view
        .summary
        .filter(|_| matches!(view.status, StepStatus::Finished { .. }));
    let totals: Option<&TotalsView> = summary.and_then(|s| s.totals.as_ref());
    let (passed, failed, skipped, time) = match (summary, totals) {
        (Some(s), Some(t)) => (
            t.passed.to_string(),
            if t.failed > 0 {
                format!("{}{}", t.failed, new_note(s))
            } else {
                "0".to_owned()
            },
            t.skipped.to_string(),
            seconds(t.seconds),
        ),
        _ => Default::default(),
    };
    vec![
        code(&units::ellipsize(view.name, CELL)),
        status,
        passed,
        failed,
        skipped,
        time,
        view.log_url
            .map_or_else(String::new, |url| link("log", url)),
    ]
}

/// A failed step's block: what ended it, its failing tests, unreadable reports, its last
/// output lines and how to run it again.
fn failed_step(view: &StepView<'_>, prefix: &str) -> String {
    let (icon, _) = status_word(view.status);
    let mut out = format!(
        "\n\n{}\n\n{}",
        markdown::heading(4, &format!("{icon} {}", view.name)),
        escape(&check_title(view))
    );
    if let Some(s) = view.summary {
        if !s.failures.is_empty() {
            let _ = write!(out, "\n\n{}", failures_table(s));
            if let Some(base) = &s.base {
                let _ = write!(out, "\n\nCompared with the last run on {}.", code(base));
            }
        }
        out.push_str(&report_errors(s));
        out.push_str(&output(s, &format!("Output of {}", view.name)));
    }
    let _ = write!(
        out,
        "\n\nComment {} to run it again.",
        code(&format!("{prefix}retest {}", view.name))
    );
    out
}
