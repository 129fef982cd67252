//! Check runs: one helper to create and update them idempotently, and the routing data of the
//! `check_run` webhooks a run's buttons and "Re-run" send.
//!
//! | file | responsibility |
//! |---|---|
//! | `spec.rs` | `CheckRunSpec` and its parts; checking and clamping to GitHub's limits |
//! | `plan.rs` | the requests for a spec, 50 annotations each, none sent twice (pure) |
//! | `upsert.rs` | `upsert_check_run`: find the run, plan, send |
//! | `events.rs` | `requested_action` / `rerequested` from the raw payload; check names |

mod events;
mod plan;
mod spec;
mod upsert;

#[cfg(test)]
mod tests;

pub use events::{
    CHECK_PREFIX, RequestedAction, Rerequested, check_name, feature_of, requested_action,
    rerequested,
};
pub use plan::{
    ANNOTATIONS_PER_REQUEST, CheckRunPlan, ExistingRun, FirstWrite, missing_annotations,
    plan_check_run,
};
pub use spec::{
    Action, Annotation, AnnotationLevel, CheckRunId, CheckRunSpec, CheckStatus, Conclusion,
    InvalidCheckRun, MAX_ACTIONS, MAX_ANNOTATIONS, MAX_OUTPUT_TEXT,
};
pub use upsert::upsert_check_run;
