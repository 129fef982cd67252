//! The pipeline: the steps of a repository's config run on each pull request's head (and on
//! pushes to the default branch, so PR failures can be compared with the base), reported as
//! one check run per step and the sticky comment's tests section.
//!
//! | file | responsibility |
//! |---|---|
//! | `runner/` | where a step's command runs: `local` processes or `kubernetes` Jobs |
//! | `compare.rs` | test ids, and which failures are new compared with the base branch |
//! | `summary.rs` | `StepSummary`: what is stored of a finished run and shown later |
//! | `render.rs` | check-run titles and summaries, the sticky comment's tests section |

pub mod compare;
pub mod render;
pub mod runner;
pub mod summary;

#[cfg(test)]
mod tests;
