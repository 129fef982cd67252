//! The pipeline: the steps of a repository's config run on each pull request's head (and on
//! pushes to the default branch, so PR failures can be compared with the base), reported as
//! one check run per step and the sticky comment's tests section.
//!
//! | file | responsibility |
//! |---|---|
//! | `runner/` | where a step's command runs: `local` processes or `kubernetes` Jobs |

pub mod runner;
