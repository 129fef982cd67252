//! Comparing a PR's failures with the base branch's last run of the same step, so a reviewer
//! sees at a glance which failures the PR brought and which it inherited.
//!
//! A run stores the ids of its failing tests ([`failed_ids`]) as plain text; a later PR run
//! reads them back ([`BaseResult::new`]) and [`classify`]s each of its own failures.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::junit::{Case, Report};

/// Ids stored per run at most: a base with more failures than this is broken anyway, and the
/// row stays small.
pub const MAX_STORED_IDS: usize = 2_000;
/// Bytes of ids stored per run at most (with their line breaks).
pub const MAX_STORED_BYTES: usize = 256 * 1024;

/// A test's id across runs: `classname::name`, trimmed, line breaks as spaces (ids are stored
/// one a line). No durations or messages, which change from run to run.
pub fn test_id(case: &Case) -> String {
    let id = format!("{}::{}", case.classname.trim(), case.name.trim());
    id.replace(['\n', '\r'], " ")
}

/// The ids of the report's kept failures, sorted, without duplicates, one a line, within
/// [`MAX_STORED_IDS`] and [`MAX_STORED_BYTES`]: what a run stores so later PRs can compare.
pub fn failed_ids(report: &Report) -> String {
    let ids: BTreeSet<String> = report.failures.iter().map(test_id).collect();
    let mut out = String::new();
    for id in ids.into_iter().take(MAX_STORED_IDS) {
        if out.len() + id.len() + 1 > MAX_STORED_BYTES {
            break;
        }
        out.push_str(&id);
        out.push('\n');
    }
    out
}

/// How a PR's failing test relates to the base branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regression {
    /// Passed on the base, or did not exist there: this PR broke it (or added it broken).
    New,
    /// Failed on the base too: not this PR's doing.
    AlreadyFailing,
}

/// The base branch's last finished run of a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseResult {
    pub branch: String,
    pub sha: String,
    pub failed: HashSet<String>,
}

impl BaseResult {
    /// From what the base run stored: `failed_ids_text` is [`failed_ids`]' output, `None` when
    /// the run stored none (it had no failures, or no report).
    pub fn new(branch: &str, sha: &str, failed_ids_text: Option<&str>) -> Self {
        let failed = failed_ids_text
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        BaseResult {
            branch: branch.to_owned(),
            sha: sha.to_owned(),
            failed,
        }
    }
}

/// Whether a failing `case` is new with this PR. `None` when there is nothing to compare
/// with, or when the case did not fail.
pub fn classify(case: &Case, base: Option<&BaseResult>) -> Option<Regression> {
    let base = base?;
    if !case.outcome.is_failure() {
        return None;
    }
    if base.failed.contains(&test_id(case)) {
        Some(Regression::AlreadyFailing)
    } else {
        Some(Regression::New)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::junit::Outcome;

    fn failing(classname: &str, name: &str) -> Case {
        Case {
            classname: classname.into(),
            name: name.into(),
            time: Duration::from_millis(12),
            outcome: Outcome::Failed,
            message: Some("expected 3, got 2".into()),
            text: None,
            location: None,
            retries: 0,
        }
    }

    fn report_of(cases: Vec<Case>) -> Report {
        Report {
            failures: cases,
            ..Report::default()
        }
    }

    #[test]
    fn ids_ignore_what_changes_between_runs() {
        let mut a = failing(" tests.test_cart ", "test_total\n");
        let b = Case {
            time: Duration::from_secs(9),
            message: Some("expected 4, got 2".into()),
            ..a.clone()
        };
        assert_eq!(test_id(&a), "tests.test_cart::test_total");
        assert_eq!(test_id(&a), test_id(&b));
        a.name = "test[a\nb]".into();
        assert_eq!(test_id(&a), "tests.test_cart::test[a b]");
    }

    #[test]
    fn stored_ids_are_sorted_and_unique() {
        let report = report_of(vec![
            failing("b", "two"),
            failing("a", "one"),
            failing("b", "two"),
        ]);
        assert_eq!(failed_ids(&report), "a::one\nb::two\n");
        assert_eq!(failed_ids(&Report::default()), "");
    }

    #[test]
    fn stored_ids_stay_within_their_bounds() {
        let many = report_of(
            (0..5_000)
                .map(|i| failing("c", &format!("t{i:05}")))
                .collect(),
        );
        assert_eq!(failed_ids(&many).lines().count(), MAX_STORED_IDS);
        let long = report_of(
            (0..1_000)
                .map(|i| failing("c", &format!("{i:04}{}", "x".repeat(1_000))))
                .collect(),
        );
        let text = failed_ids(&long);
        assert!(text.len() <= MAX_STORED_BYTES);
        assert_eq!(text.lines().count(), MAX_STORED_BYTES / 1_008);
    }

    #[test]
    fn a_pr_failure_is_new_unless_the_base_failed_it_too() {
        let base = BaseResult::new("main", "abc1234", Some("cart::total\n"));
        let inherited = failing("cart", "total");
        let broken = failing("cart", "discount");
        assert_eq!(
            classify(&inherited, Some(&base)),
            Some(Regression::AlreadyFailing)
        );
        assert_eq!(classify(&broken, Some(&base)), Some(Regression::New));
        assert_eq!(classify(&broken, None), None);
        let passed = Case {
            outcome: Outcome::Passed,
            ..broken
        };
        assert_eq!(classify(&passed, Some(&base)), None);
    }

    #[test]
    fn a_base_that_stored_nothing_makes_every_failure_new() {
        let base = BaseResult::new("main", "abc1234", None);
        assert!(base.failed.is_empty());
        assert_eq!(
            classify(&failing("a", "b"), Some(&base)),
            Some(Regression::New)
        );
    }

    #[test]
    fn regressions_are_stored_in_snake_case() {
        let json = serde_json::to_string(&[Regression::New, Regression::AlreadyFailing]);
        assert_eq!(json.ok().as_deref(), Some(r#"["new","already_failing"]"#));
    }

    fn any_case() -> impl Strategy<Value = Case> {
        // Names as reports have them: anything printable, spaces, line breaks, `::`.
        ("[ -~\n\té]{0,20}", "[ -~\n\té]{0,20}").prop_map(|(c, n)| failing(&c, &n))
    }

    proptest! {
        #[test]
        fn stored_ids_read_back_as_the_failures_ids(cases in prop::collection::vec(any_case(), 0..40)) {
            let report = report_of(cases.clone());
            let base = BaseResult::new("main", "abc", Some(&failed_ids(&report)));
            let expected: HashSet<String> = cases
                .iter()
                .map(test_id)
                .filter(|id| !id.trim().is_empty())
                .collect();
            prop_assert_eq!(&base.failed, &expected);
            for case in &cases {
                if !test_id(case).trim().is_empty() {
                    prop_assert_eq!(classify(case, Some(&base)), Some(Regression::AlreadyFailing));
                }
            }
        }

        #[test]
        fn every_stored_id_is_one_line(cases in prop::collection::vec(any_case(), 0..40)) {
            let text = failed_ids(&report_of(cases.clone()));
            prop_assert!(text.len() <= MAX_STORED_BYTES);
            prop_assert!(text.lines().count() <= cases.len());
            prop_assert!(!text.contains('\r'));
        }
    }
}
