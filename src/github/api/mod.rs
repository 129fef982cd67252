//! Typed calls: one function per GitHub endpoint a feature uses, so that REST paths are
//! written here and nowhere else, and callers get types instead of JSON.
//!
//! This module grows as features move onto it (issue: "one typed GitHub API").

mod pulls;

pub use pulls::{Conditional, PullSnapshot};
