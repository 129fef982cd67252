//! Test names, messages and output are the PR author's text, and a PR can have absurdly many
//! steps and failures: neither may break the page nor outgrow GitHub's limits.

use super::*;
use crate::pipeline::render::{StepStatus, StepView, check_summary, tests_section};
use crate::report::checks::{Conclusion, MAX_OUTPUT_TEXT};
use crate::report::sticky::{MAX_SECTION_LEN, Section, StickyComment};
use crate::report::units;

const HOSTILE: &str =
    "a | b <script>alert(1)</script> ``tick`` </details> @everyone [x](http://evil)";

fn hostile_summary() -> StepSummary {
    let case = failing(HOSTILE, HOSTILE, "src/a|b`.py", 3, HOSTILE);
    let base = BaseResult::new("main", "abc1234", None);
    summarize(
        Some(&report(2, vec![case], 10)),
        vec![format!("{HOSTILE}.xml: not XML")],
        Some(&base),
        Some("exit status 1".into()),
        "</details>\n```\n<script>x</script>\n",
    )
}

fn view(summary: &StepSummary) -> StepView<'_> {
    StepView {
        name: "unit",
        status: StepStatus::Finished {
            conclusion: Conclusion::Failure,
            reason: None,
        },
        summary: Some(summary),
        log_url: Some(LOG),
        attempt: 1,
    }
}

/// Outside code blocks no HTML or mention survives; each table row has as many unescaped
/// `|` as its header; and nothing left a fence or `<details>` block open, so the sticky
/// comment takes the section as it is.
fn assert_intact(md: &str) {
    let text = outside_fences(md);
    assert!(!text.contains("<script>"), "{text}");
    assert!(!text.contains("@everyone"), "{text}");
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count(),
        "{text}"
    );
    let mut columns = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let n = unescaped_pipes(line);
        assert_eq!(*columns.get_or_insert(n), n, "row broken: {line}");
    }
    let stored = StickyComment::new().with(Section::Tests, md);
    assert_eq!(stored.get(Section::Tests), Some(md.trim_end()));
}

/// The lines of `md` outside fenced code blocks (a fence closes only with as many backticks).
fn outside_fences(md: &str) -> String {
    let mut open: Option<usize> = None;
    let mut out = String::new();
    for line in md.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match open {
            Some(n) if ticks >= n && line.trim_start_matches('`').trim().is_empty() => open = None,
            Some(_) => {}
            None if ticks >= 3 => open = Some(ticks),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn unescaped_pipes(line: &str) -> usize {
    let mut pipes = 0;
    let mut backslashes = 0;
    for c in line.chars() {
        if c == '|' && backslashes % 2 == 0 {
            pipes += 1;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    pipes
}

#[test]
fn markdown_in_names_messages_and_output_stays_text() {
    let summary = hostile_summary();
    let section = tests_section(&[view(&summary)], SHA, "/");
    assert_intact(&section);
    assert!(section.contains("**new failure**"), "{section}");
    let check = check_summary(&view(&summary), None, "/");
    assert_intact(&check);
}

#[test]
fn absurdly_many_failed_steps_stay_within_the_section_limit() {
    let long = "@|`<".repeat(500);
    let cases: Vec<Case> = (0..1_000)
        .map(|i| failing(&long, &format!("{i}{long}"), &long, 1, &long))
        .collect();
    let mut summary = summarize(
        Some(&report(5_000, cases, 1)),
        vec![long.clone(); 50],
        Some(&BaseResult::new("main", "abc", None)),
        Some(long.clone()),
        &"x".repeat(100_000),
    );
    summary.output_tail = "😀".repeat(50_000);
    let names: Vec<String> = (0..3_000).map(|i| format!("step-{i}")).collect();
    let steps: Vec<StepView<'_>> = names
        .iter()
        .map(|name| StepView {
            name,
            ..view(&summary)
        })
        .collect();
    let section = tests_section(&steps, SHA, "/");
    assert!(
        units::len(&section) <= MAX_SECTION_LEN,
        "{}",
        units::len(&section)
    );
    assert!(section.contains("more steps are not shown here"));
    assert!(section.contains("more failed steps are not shown here"));
    assert_intact(&section);

    let few = tests_section(&steps[..20], SHA, "/");
    assert!(units::len(&few) <= MAX_SECTION_LEN);
    assert_intact(&few);
}

#[test]
fn a_huge_report_still_fits_in_a_check_run() {
    let cases: Vec<Case> = (0..1_000)
        .map(|i| failing("c", &format!("{i}{}", "😀".repeat(300)), "f.py", 1, "m"))
        .collect();
    let report = report(1_000, cases, 1);
    let summary = summarize(
        Some(&report),
        vec![],
        Some(&BaseResult::new("main", "abc", None)),
        Some("exit status 1".into()),
        &"y\n".repeat(10_000),
    );
    let md = check_summary(&view(&summary), Some(&report), "/");
    assert!(units::len(&md) <= MAX_OUTPUT_TEXT, "{}", units::len(&md));
    assert!(md.contains("To run it again"), "the end is kept");
    assert_intact(&md);
}
