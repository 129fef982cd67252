//! One step, one report: a step may write several JUnit files (one per package, per shard, per
//! tool), and the PR shows them as a single result, within the same [`Limits`] as one report.

use std::cmp::Reverse;

use super::model::{Limits, Report};

impl Report {
    /// Adds `other` to this report, as if both had been one report read within `limits`:
    /// totals add up (time too: the files come from runs one after another, or the sum is the
    /// best guess), failures are kept in order up to [`Limits::max_failures`] (the rest only
    /// counted), the slowest cases stay the slowest overall, and suites add up.
    pub fn merge(&mut self, other: Report, limits: &Limits) {
        let t = &mut self.totals;
        let o = &other.totals;
        t.tests += o.tests;
        t.passed += o.passed;
        t.failed += o.failed;
        t.errors += o.errors;
        t.skipped += o.skipped;
        t.flaky += o.flaky;
        t.time += o.time;
        self.suites += other.suites;

        self.failures_dropped += other.failures_dropped;
        self.failures.extend(other.failures);
        if self.failures.len() > limits.max_failures {
            let over = self.failures.split_off(limits.max_failures);
            self.failures_dropped += over.len() as u64;
        }

        self.slowest.extend(other.slowest);
        // Stable: on equal times, this report's cases (read first) stay ahead, as the
        // collector's earlier-wins rule has it within one report.
        self.slowest.sort_by_key(|c| Reverse(c.time));
        self.slowest.truncate(limits.slowest);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::junit::{Case, Limits, Outcome, Report, Totals};

    fn case(name: &str, outcome: Outcome, ms: u64) -> Case {
        Case {
            classname: "suite".into(),
            name: name.into(),
            time: Duration::from_millis(ms),
            outcome,
            message: None,
            text: None,
            location: None,
            retries: 0,
        }
    }

    /// A report as the parser would make it of `cases` within `limits`.
    fn report(cases: &[Case], limits: &Limits) -> Report {
        let mut r = Report {
            suites: 1,
            ..Report::default()
        };
        for c in cases {
            r.totals.tests += 1;
            match c.outcome {
                Outcome::Passed => r.totals.passed += 1,
                Outcome::Skipped => r.totals.skipped += 1,
                Outcome::Failed => r.totals.failed += 1,
                Outcome::Error => {
                    r.totals.failed += 1;
                    r.totals.errors += 1;
                }
            }
            r.totals.time += c.time;
            if c.outcome.is_failure() {
                if r.failures.len() < limits.max_failures {
                    r.failures.push(c.clone());
                } else {
                    r.failures_dropped += 1;
                }
            }
        }
        let mut slowest: Vec<Case> = cases
            .iter()
            .filter(|c| c.outcome != Outcome::Skipped)
            .cloned()
            .collect();
        slowest.sort_by_key(|c| std::cmp::Reverse(c.time));
        slowest.truncate(limits.slowest);
        r.slowest = slowest;
        r
    }

    fn names(cases: &[Case]) -> Vec<&str> {
        cases.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn two_shards_add_up_to_one_report() {
        let limits = Limits::default();
        let mut unit = report(
            &[
                case("a", Outcome::Passed, 100),
                case("b", Outcome::Failed, 300),
                case("c", Outcome::Skipped, 0),
            ],
            &limits,
        );
        let api = report(
            &[
                case("d", Outcome::Error, 50),
                case("e", Outcome::Passed, 900),
            ],
            &limits,
        );
        unit.merge(api, &limits);
        assert_eq!(
            unit.totals,
            Totals {
                tests: 5,
                passed: 2,
                failed: 2,
                errors: 1,
                skipped: 1,
                flaky: 0,
                time: Duration::from_millis(1_350),
            }
        );
        assert_eq!(names(&unit.failures), ["b", "d"]);
        assert_eq!(names(&unit.slowest), ["e", "b", "a", "d"]);
        assert_eq!(unit.suites, 2);
    }

    #[test]
    fn failures_beyond_the_limit_are_only_counted() {
        let limits = Limits {
            max_failures: 3,
            ..Limits::default()
        };
        let fails = |prefix: &str, n: usize| -> Vec<Case> {
            (0..n)
                .map(|i| case(&format!("{prefix}{i}"), Outcome::Failed, 1))
                .collect()
        };
        let mut first = report(&fails("x", 2), &limits);
        let second = report(&fails("y", 4), &limits);
        assert_eq!(second.failures_dropped, 1);
        first.merge(second, &limits);
        assert_eq!(names(&first.failures), ["x0", "x1", "y0"]);
        assert_eq!(first.failures_dropped, 3);
        assert_eq!(first.totals.failed, 6);
    }

    #[test]
    fn the_slowest_are_the_slowest_of_both_and_earlier_wins_ties() {
        let limits = Limits {
            slowest: 2,
            ..Limits::default()
        };
        let mut first = report(
            &[case("a", Outcome::Passed, 5), case("b", Outcome::Passed, 1)],
            &limits,
        );
        let second = report(
            &[case("c", Outcome::Passed, 5), case("d", Outcome::Passed, 9)],
            &limits,
        );
        first.merge(second, &limits);
        assert_eq!(names(&first.slowest), ["d", "a"]);
    }

    #[test]
    fn merging_into_an_empty_report_gives_the_other() {
        let limits = Limits::default();
        let only = report(&[case("a", Outcome::Failed, 7)], &limits);
        let mut merged = Report::default();
        merged.merge(only.clone(), &limits);
        assert_eq!(merged, only);
    }
}
