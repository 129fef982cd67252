//! Preview environments, one per pull request (DESIGN.md, "What gitferry does", 1–2).
//!
//! The webhook side (`events`, and `/preview` in `commands`) records what is wanted in the
//! store; the executor claims what is due and deploys or destroys through a
//! `deploy::Provider`; the reconciler expires idle previews and hands out free slots. Every
//! outcome goes to the PR as a Deployment, the `gitferry/preview` check run and the sticky
//! comment's preview section, with the run's log behind a tokened link.
//!
//! | file | responsibility |
//! |---|---|
//! | `decide.rs` | which PRs get a preview; fork approval (pure) |
//! | `events.rs` | `pull_request` webhooks → what is wanted, and the head's flow |
//! | `ask.rs` | what `/preview` may ask of it: deploy, destroy |
//! | `executor.rs` | the background loop, leases, in-process wake-up and supersede |
//! | `work/` | one unit of work: `deploy.rs` (or parking it), `destroy.rs`, and what both use |
//! | `reconcile.rs` | TTL expiry, retrying failed destroys, free slots (a tick) |
//! | `resync.rs` | re-reading open previews' PRs from GitHub, for lost webhooks (a tick) |
//! | `render.rs` | the sticky section's text (pure) |

pub mod ask;
pub mod decide;
pub mod events;
pub mod executor;
pub mod reconcile;
pub mod render;
pub mod resync;
mod work;

pub use executor::Signals;
pub use work::EXPIRED;
