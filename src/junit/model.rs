//! What a JUnit report says, reduced to what gitferry shows: totals over every case, and only
//! the cases worth showing (failures up to a limit, the slowest few), so a report of any size
//! becomes a summary of bounded size.

use std::time::Duration;

/// Bounds on reading one report. The defaults fit a check-run summary and keep a 100,000-case
/// report well under the server's memory budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Reports larger than this are refused with [`super::JunitError::TooLarge`].
    pub max_bytes: u64,
    /// Failing and erroring cases kept with their details; the rest are only counted.
    pub max_failures: usize,
    /// How many of the slowest cases are kept.
    pub slowest: usize,
    /// Bytes of a failure's text kept (the text is a stack trace or captured output; its start
    /// says what went wrong).
    pub max_text_bytes: usize,
    /// Bytes kept of a name, class name, file or message, so one absurd attribute cannot blow
    /// up the summary.
    pub max_field_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_failures: 1_000,
            slowest: 10,
            max_text_bytes: 4 * 1024,
            max_field_bytes: 1024,
        }
    }
}

/// How a test case ended: its final result, after any retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Passed,
    /// An assertion failed (`<failure>`).
    Failed,
    /// The test could not run or crashed (`<error>`).
    Error,
    Skipped,
}

impl Outcome {
    /// Failed or errored: the cases a summary lists and annotates.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Error)
    }
}

/// Where a case is in the repository, as the report says it: from the test case's own
/// `file`/`line` attributes, or from a `path:line` in its failure text. Never guessed from a
/// class name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: String,
    /// 1-based, when known.
    pub line: Option<u32>,
}

/// One `<testcase>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub classname: String,
    pub name: String,
    pub time: Duration,
    pub outcome: Outcome,
    /// The failure's, error's or skip's `message` attribute, or else the first line of its text.
    pub message: Option<String>,
    /// The failure's or error's text, cut to [`Limits::max_text_bytes`].
    pub text: Option<String>,
    pub location: Option<Location>,
    /// Runs that failed before the final result (`<flakyFailure>`, `<rerunFailure>`, ...).
    pub retries: u32,
}

impl Case {
    /// The name a person recognises: the class name is left out when the name already says it
    /// (Jest repeats it; Go has none worth showing beyond the package).
    pub fn display_name(&self) -> String {
        if self.classname.is_empty() || self.name.contains(self.classname.trim()) {
            self.name.trim().to_owned()
        } else {
            format!("{}.{}", self.classname, self.name)
        }
    }

    /// Passed only after failing at least once.
    pub fn is_flaky(&self) -> bool {
        self.outcome == Outcome::Passed && self.retries > 0
    }
}

/// Totals over every case in the report, whatever was kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    /// Failures and errors together.
    pub failed: u64,
    /// Of [`Totals::failed`], how many were errors.
    pub errors: u64,
    pub skipped: u64,
    /// Passed after one or more failed runs.
    pub flaky: u64,
    /// The report's own wall time when it gives one, else the sum of its cases' times.
    pub time: Duration,
}

/// A parsed report: totals, and the cases kept within [`Limits`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub totals: Totals,
    /// Failing and erroring cases in report order, at most [`Limits::max_failures`].
    pub failures: Vec<Case>,
    /// Failing cases counted but not kept.
    pub failures_dropped: u64,
    /// The slowest cases, slowest first.
    pub slowest: Vec<Case>,
    /// `<testsuite>` elements seen (nested ones included).
    pub suites: u64,
}
