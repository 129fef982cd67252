//! What a pull request shows about its pipeline, as scenarios: snapshots of the check runs and
//! the sticky comment's tests section, and hostile or absurd input that must not break them.

mod hostile;
mod render;

use std::time::Duration;

use super::compare::BaseResult;
use super::summary::{StepSummary, summarize};
use crate::junit::{Case, Location, Outcome, Report, Totals};

const SHA: &str = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c";
const LOG: &str = "https://gitferry.example.com/runs/7f3a9c01d2e4b5a6/log?token=t";

fn failing(classname: &str, name: &str, file: &str, line: u32, message: &str) -> Case {
    Case {
        classname: classname.into(),
        name: name.into(),
        time: Duration::from_millis(230),
        outcome: Outcome::Failed,
        message: Some(message.into()),
        text: Some(format!("{message}\n  at {file}:{line}")),
        location: Some(Location {
            file: file.into(),
            line: Some(line),
        }),
        retries: 0,
    }
}

/// A report of `tests` cases, `failures` among them, that took `ms`.
fn report(tests: u64, failures: Vec<Case>, ms: u64) -> Report {
    let failed = failures.len() as u64;
    Report {
        totals: Totals {
            tests,
            passed: tests - failed,
            failed,
            time: Duration::from_millis(ms),
            ..Totals::default()
        },
        failures,
        suites: 1,
        ..Report::default()
    }
}

/// `unit`: 120 tests, all passed.
fn unit_report() -> Report {
    report(120, vec![], 3_412)
}

/// `functional`: 2 of 30 failed; `main` failed the coupon test too.
fn functional_report() -> Report {
    report(
        30,
        vec![
            failing(
                "tests.test_checkout",
                "test_applies_coupon",
                "tests/test_checkout.py",
                17,
                "AssertionError: assert 90 == 100",
            ),
            failing(
                "tests.test_cart",
                "test_total_includes_tax",
                "src/cart.py",
                42,
                "KeyError: 'tax'",
            ),
        ],
        48_250,
    )
}

fn main_base() -> BaseResult {
    BaseResult::new(
        "main",
        "abc1234ffffffffffffffffffffffffffffffff0",
        Some("tests.test_checkout::test_applies_coupon\n"),
    )
}

fn unit_summary() -> StepSummary {
    summarize(
        Some(&unit_report()),
        vec![],
        Some(&main_base()),
        Some("exit status 0".into()),
        "============ 120 passed in 3.41s ============\n",
    )
}

fn functional_summary() -> StepSummary {
    summarize(
        Some(&functional_report()),
        vec![],
        Some(&main_base()),
        Some("exit status 1".into()),
        "tests/test_cart.py::test_total_includes_tax FAILED\n\
         tests/test_checkout.py::test_applies_coupon FAILED\n\
         ====== 2 failed, 28 passed in 48.25s ======\n",
    )
}
