//! Folding cases into a [`Report`] as they stream past, keeping memory bounded whatever the
//! report's size: totals are counters, failures stop being kept at a limit, and the slowest
//! cases live in a fixed-size min-heap.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::model::{Case, Limits, Outcome, Report};

/// A case in the slowest-cases heap, ordered by time and then by arrival (earlier wins ties),
/// so the result does not depend on the heap's internals.
struct BySlowness {
    case: Case,
    seq: u64,
}

impl BySlowness {
    fn key(&self) -> (std::time::Duration, Reverse<u64>) {
        (self.case.time, Reverse(self.seq))
    }
}

impl PartialEq for BySlowness {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for BySlowness {}
impl PartialOrd for BySlowness {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for BySlowness {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

pub(crate) struct Collector<'l> {
    limits: &'l Limits,
    report: Report,
    slowest: BinaryHeap<Reverse<BySlowness>>,
    seq: u64,
}

impl<'l> Collector<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Self {
        Collector {
            limits,
            report: Report::default(),
            slowest: BinaryHeap::with_capacity(limits.slowest + 1),
            seq: 0,
        }
    }

    pub(crate) fn suite(&mut self) {
        self.report.suites += 1;
    }

    pub(crate) fn case(&mut self, case: Case) {
        let totals = &mut self.report.totals;
        totals.tests += 1;
        match case.outcome {
            Outcome::Passed => totals.passed += 1,
            Outcome::Skipped => totals.skipped += 1,
            Outcome::Failed => totals.failed += 1,
            Outcome::Error => {
                totals.failed += 1;
                totals.errors += 1;
            }
        }
        if case.is_flaky() {
            totals.flaky += 1;
        }
        self.seq += 1;
        if self.limits.slowest > 0 && case.outcome != Outcome::Skipped {
            let fits = self.slowest.len() < self.limits.slowest
                || self
                    .slowest
                    .peek()
                    .is_some_and(|Reverse(min)| case.time > min.case.time);
            if fits {
                let entry = BySlowness {
                    case: case.clone(),
                    seq: self.seq,
                };
                self.slowest.push(Reverse(entry));
                if self.slowest.len() > self.limits.slowest {
                    self.slowest.pop();
                }
            }
        }
        if case.outcome.is_failure() {
            if self.report.failures.len() < self.limits.max_failures {
                self.report.failures.push(case);
            } else {
                self.report.failures_dropped += 1;
            }
        }
    }

    /// The report, with `wall_time` (the report's own time attribute) if it had one.
    pub(crate) fn finish(
        mut self,
        wall_time: Option<std::time::Duration>,
        case_time: std::time::Duration,
    ) -> Report {
        self.report.totals.time = wall_time.unwrap_or(case_time);
        let mut slowest: Vec<BySlowness> = self.slowest.into_iter().map(|r| r.0).collect();
        slowest.sort_by(|a, b| b.cmp(a));
        self.report.slowest = slowest.into_iter().map(|s| s.case).collect();
        self.report
    }
}
