//! A commit on its way into an environment: the steps before the deploy → the deploy → the
//! steps after it → the outcome (DESIGN.md, "Layout").
//!
//! A pull request's preview is one instance of this flow; a branch-bound environment's release
//! is another. The decisions are one pure function ([`decide::decide`]); [`executor`] carries
//! out the step actions against the store and hands the deploy actions back to the
//! environment's worker. So the pipeline (which runs steps) and the environments (which
//! deploy) never call each other: each tells the flow what happened.
//!
//! | file | responsibility |
//! |---|---|
//! | `decide.rs` | the state machine: `decide(state, event) -> actions` (pure) |
//! | `gate.rs` | whether the steps before the deploy let it go (pure) |
//! | `head.rs` | the commit a flow carries |
//! | `steps.rs` | which step runs a head gets, and creating them |
//! | `executor.rs` | reading the state, carrying out the actions |
//! | `retest.rs` | `/retest` and a check run's Re-run |

pub mod decide;
pub mod executor;
pub mod gate;
mod head;
pub mod retest;
pub mod steps;

pub use decide::{Action, AfterDeploy, Deploy, Event, State};
pub use gate::Gate;
pub use head::Head;
