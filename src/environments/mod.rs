//! Branch-bound environments (staging, production): a push to an environment's branch is a
//! **release**, the same `flow` as a preview's head (steps before the deploy gate it, the
//! deploy goes through the environment's provider, steps `after: deploy` verify it), recorded
//! and numbered per environment (`store::releases`). A release is `verified` when every step
//! passed; the last verified one is the environment's last good release.
//!
//! | file | responsibility |
//! |---|---|
//! | `events.rs` | `push` to an environment's branch → a release recorded, its steps queued |
//! | `executor.rs` | the background loop that claims releases' work |
//! | `work.rs` | one release: gate, deploy, report (Deployment, `gitferry/release/<env>`) |
//! | `promote.rs` | `/promote`: the one promotion PR per target, pinned to a verified release |
//! | `promotion.rs` | the promotion gate: approvals, required checks, hold; gitferry's merge |
//! | `approvals.rs` | who approved what, counted as the environment's `approvals` say (pure) |
//! | `merge.rs` | fast-forward, tree-exact commit over gitferry's rollbacks, or refusal |
//! | `start.rs` | a release recorded and started, whoever moved the branch |
//! | `target.rs` | an environment at a commit, as its provider sees it |
//! | `rollback.rs` | `/rollback`: a commit with a good release's tree, released again |
//! | `where_change.rs` | "where is my change": merged PRs told which environments run them |
//! | `render.rs` | the check run's text (pure) |
//! | `announce.rs` | `released`, `release_failed`, `rolled_back` notifications |

mod announce;
pub mod approvals;
pub mod events;
pub mod executor;
mod merge;
pub mod promote;
pub mod promotion;
pub mod promotion_events;
mod render;
pub mod rollback;
mod start;
pub mod target;
mod where_change;
mod work;

/// How the webhook side and the release executor talk within one process, by release id.
pub type Signals = crate::jobs::Signals<String>;
