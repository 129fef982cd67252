use super::*;
use crate::junit::Outcome;

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn pytest_xunit1_lines_are_made_one_based() {
    let r = fixture("pytest-xunit1.xml");
    let t = &r.totals;
    assert_eq!(
        (t.tests, t.passed, t.failed, t.errors, t.skipped),
        (5, 2, 2, 1, 1)
    );
    assert_eq!(r.suites, 1);
    assert_eq!(
        failures(&r),
        vec![
            (
                "tests.test_sample.test_fail".into(),
                some("tests/test_sample.py"),
                Some(13)
            ),
            (
                "tests.test_sample.test_error".into(),
                some("tests/test_sample.py"),
                Some(23)
            ),
        ]
    );
    assert_eq!(r.failures[0].outcome, Outcome::Failed);
    assert_eq!(r.failures[1].outcome, Outcome::Error);
    assert_eq!(
        r.failures[0].message.as_deref(),
        Some("AssertionError: arithmetic is off\nassert (1 + 1) == 3")
    );
    assert!(r.failures[0].text.as_deref().unwrap_or("").contains("> "));
}

#[test]
fn pytest_xunit2_locations_come_from_the_failure_text() {
    let r = fixture("pytest-xunit2.xml");
    let t = &r.totals;
    assert_eq!((t.tests, t.passed, t.failed, t.skipped), (5, 2, 2, 1));
    assert_eq!(
        failures(&r),
        vec![
            (
                "tests.test_sample.test_fail".into(),
                some("tests/test_sample.py"),
                Some(15)
            ),
            (
                "tests.test_sample.test_error".into(),
                some("tests/test_sample.py"),
                Some(6)
            ),
        ]
    );
}

#[test]
fn jest_junit_file_attribute_and_stack_line() {
    let r = fixture("jest-junit.xml");
    let t = &r.totals;
    assert_eq!((t.tests, t.passed, t.failed, t.skipped), (4, 1, 2, 1));
    assert_eq!(t.time, ms(233));
    assert_eq!(
        failures(&r),
        vec![
            (
                "math subtracts wrongly".into(),
                some("src/sample.test.js"),
                Some(7)
            ),
            ("throws".into(), some("src/sample.test.js"), Some(16)),
        ]
    );
    assert_eq!(
        r.failures[1].message.as_deref(),
        Some("Error: boom from test")
    );
}

#[test]
fn gotestsum_locations_and_messages_from_go_output() {
    let r = fixture("gotestsum.xml");
    let t = &r.totals;
    assert_eq!((t.tests, t.passed, t.failed, t.skipped), (6, 2, 3, 1));
    assert_eq!(t.time, Duration::from_micros(968_138));
    assert_eq!(
        failures(&r),
        vec![
            (
                "example.com/sample.TestFail".into(),
                some("sample_test.go"),
                Some(14)
            ),
            (
                "example.com/sample.TestSub/bad".into(),
                some("sample_test.go"),
                Some(25)
            ),
            ("example.com/sample.TestSub".into(), None, None),
        ]
    );
    assert_eq!(
        r.failures[0].message.as_deref(),
        Some("sample_test.go:14: expected 3, got 2")
    );
}

#[test]
fn nextest_retries_and_flaky_passes() {
    let r = fixture("nextest-handwritten.xml");
    let t = &r.totals;
    assert_eq!(
        (t.tests, t.passed, t.failed, t.skipped, t.flaky),
        (5, 3, 1, 1, 1)
    );
    assert_eq!(r.suites, 2);
    assert_eq!(t.time, ms(1532));
    assert_eq!(
        failures(&r),
        vec![("sample.tests::divides".into(), some("src/lib.rs"), Some(21))]
    );
    assert_eq!(r.failures[0].retries, 1);
    assert_eq!(r.slowest[0].name, "slow_roundtrip");
    assert_eq!(r.slowest[1].name, "flaky_network");
    assert!(r.slowest[1].is_flaky());
}

#[test]
fn surefire_java_stack_points_at_the_test_class() {
    let r = fixture("surefire-handwritten.xml");
    let t = &r.totals;
    assert_eq!(
        (t.tests, t.passed, t.failed, t.errors, t.skipped, t.flaky),
        (6, 2, 3, 1, 1, 1)
    );
    assert_eq!(t.time, ms(87));
    let cls = "com.example.CalculatorTest";
    assert_eq!(
        failures(&r),
        vec![
            (
                format!("{cls}.divides"),
                some("CalculatorTest.java"),
                Some(24)
            ),
            (
                format!("{cls}.parses"),
                some("CalculatorTest.java"),
                Some(31)
            ),
            (
                format!("{cls}.overflows"),
                some("CalculatorTest.java"),
                Some(52)
            ),
        ]
    );
    assert_eq!(
        r.failures[0].message.as_deref(),
        Some("expected: <2> but was: <3>")
    );
    assert_eq!(r.failures[0].retries, 1);
}

#[test]
fn bare_and_nested_suites_are_counted_once() {
    let r = parse_str(
        r#"<testsuites><testsuite name="outer" time="2"><testsuite name="inner">
        <testcase name="a" time="0.5"/><testcase name="b"><skipped/></testcase>
        </testsuite><testcase name="c" time="1"/></testsuite></testsuites>"#,
    );
    assert_eq!(
        (r.totals.tests, r.totals.passed, r.totals.skipped),
        (3, 2, 1)
    );
    assert_eq!(r.suites, 2);
    assert_eq!(r.totals.time, ms(2000));

    let bare = parse_str(r#"<testsuite><testcase name="a" time="0.25"/></testsuite>"#);
    assert_eq!((bare.totals.tests, bare.totals.time), (1, ms(250)));
}

#[test]
fn entities_and_cdata_in_failure_text() {
    let r = parse_str(
        "<testsuite><testcase name=\"a\"><failure>x &amp; y&#10;<![CDATA[<raw>]]> &bogus;</failure></testcase></testsuite>",
    );
    assert_eq!(r.failures[0].text.as_deref(), Some("x & y\n<raw> &bogus;"));
    assert_eq!(r.failures[0].message.as_deref(), Some("x & y"));
}
