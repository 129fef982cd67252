use super::*;
use crate::junit::{Case, Location, Outcome, annotations, summary_markdown};
use crate::report::checks::MAX_OUTPUT_TEXT;
use crate::report::units;

#[test]
fn summary_shows_totals_failures_then_slowest() {
    let md = summary_markdown(&fixture("gotestsum.xml"), "go test");
    assert!(
        md.starts_with("### ❌ go test\n\n**3 failed**, 2 passed, 1 skipped: 6 tests in 968 ms\n"),
        "{md}"
    );
    let failures_at = md.find("#### Failures").unwrap();
    let slowest_at = md.find("#### Slowest tests").unwrap();
    assert!(failures_at < slowest_at);
    assert!(md.contains("| example\\.com/sample\\.TestFail | sample\\_test\\.go\\:14 | sample\\_test\\.go\\:14\\: expected 3, got 2 |"), "{md}");
    assert!(!md.contains("more failures"));
}

#[test]
fn summary_of_a_green_run_has_no_failure_table() {
    let md = summary_markdown(
        &parse_str(r#"<testsuite><testcase name="a|b" time="1.5"/></testsuite>"#),
        "unit",
    );
    assert!(
        md.starts_with("### ✅ unit\n\n**0 failed**, 1 passed, 0 skipped: 1 tests in 1.5 s"),
        "{md}"
    );
    assert!(!md.contains("Failures"));
    assert!(md.contains("| a\\|b | 1.5 s |"), "{md}");
}

#[test]
fn flaky_and_errors_are_mentioned() {
    let md = summary_markdown(&fixture("surefire-handwritten.xml"), "mvn");
    assert!(
        md.contains("(1 of the failures are errors); 1 passed only after a retry"),
        "{md}"
    );
}

#[test]
fn a_huge_report_is_cut_with_a_note() {
    let case = Case {
        classname: "c".into(),
        name: "n".repeat(300),
        time: ms(1),
        outcome: Outcome::Failed,
        message: Some("😀".repeat(300)),
        text: None,
        location: Some(Location {
            file: "f.rs".into(),
            line: Some(1),
        }),
        retries: 0,
    };
    let mut report = Report {
        failures: vec![case.clone(); 1_000],
        ..Report::default()
    };
    report.slowest = vec![case; 10];
    report.totals.failed = 100_000;
    report.totals.tests = 100_000;
    let md = summary_markdown(&report, "huge");
    assert!(units::len(&md) <= MAX_OUTPUT_TEXT);
    let shown = md.matches("| f\\.rs\\:1 |").count() as u64;
    assert!(shown > 10, "{shown}");
    assert!(
        md.contains(&format!("…and {} more failures", 100_000 - shown)),
        "{md}"
    );
    assert!(md.contains("#### Slowest tests"));
}

#[test]
fn annotations_only_where_the_report_gives_a_line() {
    let jest = annotations(&fixture("jest-junit.xml"));
    let at: Vec<_> = jest
        .iter()
        .map(|a| (a.path.as_str(), a.start_line))
        .collect();
    assert_eq!(
        at,
        vec![("src/sample.test.js", 7), ("src/sample.test.js", 16)]
    );
    assert_eq!(jest[1].title.as_deref(), Some("throws"));
    assert!(
        jest[1]
            .raw_details
            .as_deref()
            .unwrap_or("")
            .contains("boom from test")
    );

    let go = annotations(&fixture("gotestsum.xml"));
    assert_eq!(go.len(), 2, "TestSub has no line and gets no annotation");
}
