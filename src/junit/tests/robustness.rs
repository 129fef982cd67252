use std::fmt::Write as _;

use proptest::prelude::*;

use super::*;
use crate::junit::JunitError;

const FIXTURES: &[&str] = &[
    "pytest-xunit1.xml",
    "pytest-xunit2.xml",
    "jest-junit.xml",
    "gotestsum.xml",
    "nextest-handwritten.xml",
    "surefire-handwritten.xml",
];

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

fn many_cases(n: usize) -> String {
    let mut xml = String::from("<testsuites><testsuite name=\"big\">");
    for i in 0..n {
        let _ = write!(
            xml,
            "<testcase name=\"t{i}\" time=\"{}\"><failure message=\"m{i}\">f.rs:{}: boom</failure></testcase>",
            (i % 97) as f64 / 100.0,
            i + 1
        );
    }
    xml.push_str("</testsuite></testsuites>");
    xml
}

#[test]
fn every_truncation_of_every_fixture_is_an_error_not_a_panic() {
    for name in FIXTURES {
        let bytes = fixture_bytes(name);
        for end in 0..bytes.len() {
            // Cutting inside trailing whitespace still leaves a complete document.
            let complete = bytes[end..].iter().all(u8::is_ascii_whitespace);
            let result = parse(&bytes[..end], &Limits::default());
            assert_eq!(result.is_ok(), complete, "{name} cut at {end}: {result:?}");
        }
    }
}

#[test]
fn a_syntax_error_gives_its_line_and_column() {
    let err = parse(
        "<testsuite>\n<testcase name=\"a\">\n  </testsuit>".as_bytes(),
        &Limits::default(),
    )
    .unwrap_err();
    match err {
        JunitError::Malformed { line, column, .. } => assert_eq!((line, column), (3, 3)),
        other => panic!("{other:?}"),
    }
    assert!(err_text("<testsuite><testcase").contains("line 1"));
}

fn err_text(xml: &str) -> String {
    parse(xml.as_bytes(), &Limits::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn documents_that_are_not_junit_are_refused() {
    assert!(err_text("<html><body/></html>").contains("root element is <html>"));
    assert!(err_text("").contains("no <testsuites>"));
    assert!(err_text("plain text").contains("no <testsuites>"));
    assert!(err_text("<testsuite/><testsuite/>").contains("second root"));
    let deep = "<testsuite>".to_owned() + &"<x>".repeat(300);
    assert!(err_text(&deep).contains("nested deeper"));
}

#[test]
fn over_the_byte_limit_is_too_large() {
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let bytes = fixture_bytes("gotestsum.xml");
    let streamed = parse(&bytes[..], &limits).unwrap_err();
    assert!(
        matches!(streamed, JunitError::TooLarge { limit: 100 }),
        "{streamed:?}"
    );
    let path = fixture_path("gotestsum.xml");
    let from_file = parse_file(&path, &limits).unwrap_err();
    assert!(matches!(from_file, JunitError::TooLarge { limit: 100 }));
    let missing = parse_file(&fixture_path("nope.xml"), &limits).unwrap_err();
    assert!(missing.to_string().contains("nope.xml"), "{missing}");
}

#[test]
fn kept_cases_are_bounded_but_totals_are_not() {
    let limits = Limits {
        max_failures: 100,
        slowest: 5,
        ..Limits::default()
    };
    let report = parse(many_cases(5_000).as_bytes(), &limits).unwrap();
    assert_eq!((report.totals.tests, report.totals.failed), (5_000, 5_000));
    assert_eq!(report.failures.len(), 100);
    assert_eq!(report.failures_dropped, 4_900);
    assert_eq!(
        report.failures[99].location.as_ref().and_then(|l| l.line),
        Some(100)
    );
    let times: Vec<_> = report.slowest.iter().map(|c| c.time).collect();
    assert_eq!(times, vec![ms(960); 5]);
    // Ties keep the earliest cases, in report order.
    assert_eq!(report.slowest[0].name, "t96");
}

#[test]
fn long_text_and_output_are_capped() {
    let big = "x".repeat(100_000);
    let xml = format!(
        "<testsuite><testcase name=\"{big}\"><failure message=\"{big}\">{big}</failure><system-out>{big}</system-out></testcase></testsuite>"
    );
    let report = parse(xml.as_bytes(), &Limits::default()).unwrap();
    let case = &report.failures[0];
    assert_eq!(case.text.as_ref().map(String::len), Some(4 * 1024));
    assert_eq!(case.name.len(), 1024);
    assert_eq!(case.message.as_ref().map(String::len), Some(1024));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes[..], &Limits::default());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = fixture_bytes(FIXTURES[which]);
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(report) = parse(&bytes[..], &Limits::default()) {
            let t = &report.totals;
            prop_assert_eq!(t.tests, t.passed + t.failed + t.skipped);
            let _ = crate::junit::summary_markdown(&report, "step");
        }
    }
}
