//! The pipeline: the steps of a repository's config run on each pull request's head (and on
//! pushes to the default branch, so PR failures can be compared with the base), reported as
//! one check run per step and the sticky comment's tests section.
//!
//! Which steps run when (before the deploy, after it, skipped) is the head's `flow`: the
//! pipeline runs the steps it is given and tells the flow when each is done.
//!
//! | file | responsibility |
//! |---|---|
//! | `events.rs` | `push` webhooks to the default branch → runs queued |
//! | `executor.rs` | the background loop, leases, in-process wake-up and cancel |
//! | `work/` | one run: running it, then its check run, the tests section, notifications |
//! | `runner/` | where a step's command runs: `local` processes or `kubernetes` Jobs |
//! | `reports.rs` | finding and reading a step's JUnit reports |
//! | `compare.rs` | new failures versus failures the base has too |
//! | `summary.rs` | what is kept of a finished run to show later |
//! | `render.rs` | the check run's and the tests section's text (pure) |

pub mod compare;
pub mod events;
pub mod executor;
pub mod render;
pub mod reports;
pub mod runner;
pub mod summary;
pub mod verdict;
mod work;

pub use executor::Signals;

#[cfg(test)]
mod tests;
