//! The pipeline: the steps of a repository's config run on each pull request's head (and on
//! pushes to the default branch, so PR failures can be compared with the base), reported as
//! one check run per step and the sticky comment's tests section.
//!
//! Order: the steps before the deploy run first (in parallel, within `runner.concurrency`);
//! the preview deploys once they all passed (`gate`); the `after: deploy` steps then run
//! against it. A step that did not pass stops the deploy, and the steps after it are skipped
//! with the reason.
//!
//! | file | responsibility |
//! |---|---|
//! | `events.rs` | `pull_request` and `push` webhooks → runs queued or cancelled |
//! | `queue.rs` | which runs to create for a commit (pure) and creating them |
//! | `gate.rs` | whether the preview may deploy the head yet |
//! | `executor.rs` | the background loop, leases, in-process wake-up and cancel |
//! | `work/` | one run: running it, then its check run, the tests section, notifications |
//! | `runner/` | where a step's command runs: `local` processes or `kubernetes` Jobs |
//! | `reports.rs` | finding and reading a step's JUnit reports |
//! | `compare.rs` | new failures versus failures the base has too |
//! | `summary.rs` | what is kept of a finished run to show later |
//! | `render.rs` | the check run's and the tests section's text (pure) |
//! | `retest.rs` | `/retest` and the check run's Re-run |

pub mod compare;
pub mod events;
pub mod executor;
pub mod gate;
pub mod queue;
pub mod render;
pub mod reports;
pub mod retest;
pub mod runner;
pub mod summary;
pub mod verdict;
mod work;

pub use executor::Signals;

#[cfg(test)]
mod tests;
