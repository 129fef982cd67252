//! The PR reporting surface every feature uses (DESIGN.md, "On the PR"): the sticky comment
//! and check runs, and the Markdown that goes in them.
//!
//! Both are idempotent (principle 2): the sticky comment is found again by a hidden marker and
//! edited in place only when its text changes; a check run is found again by its name and
//! `external_id` on its commit and updated in place, never sent an annotation twice. All
//! traffic goes through `github::Client` (principle 5). Decisions are pure functions
//! ([`sticky_sync::plan`], [`checks::plan_check_run`]) with thin executors around them
//! (principle 3).
//!
//! | file | responsibility |
//! |---|---|
//! | `markdown.rs` | typed Markdown building blocks and escaping |
//! | `units.rs` | counting characters as GitHub's limits do |
//! | `blocks.rs` | which fences and `<details>` blocks are open at a line |
//! | `split.rs` | splitting a long body without breaking a fence or `<details>` block |
//! | `sticky.rs` | `StickyComment`: sections, markers, rendering and parsing back |
//! | `sticky_sync.rs` | planning and applying the sticky comment's writes |
//! | `checks/` | check runs: spec, plan, upsert, `check_run` webhook routing data |
//! | `deployments.rs` | GitHub Deployments (previews and releases) and their statuses |
//!
//! A feature reports like this:
//!
//! ```ignore
//! use gitferry::report::{Section, markdown, update_section};
//! let body = format!("{}\n\n{}", markdown::heading(3, "Tests"), markdown::details("Log", &log));
//! update_section(&gh, "acme/shop", pr, &app_login, Section::Tests, &body).await?;
//! ```

mod blocks;
pub mod checks;
pub mod deployments;
pub mod markdown;
pub mod split;
pub mod sticky;
pub mod sticky_sync;
mod turns;
pub mod units;

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod split_props;
#[cfg(test)]
mod sticky_tests;

pub use checks::{CheckRunId, CheckRunSpec, upsert_check_run};
pub use split::split;
pub use sticky::{COMMENT_LIMIT, Section, StickyComment};
pub use sticky_sync::{
    CommentAction, CommentId, ExistingComment, SyncOutcome, edit_sticky, list_comments, plan,
    sync_sticky, update_section,
};
