//! Check runs: one helper to create and update them idempotently, and the names that route
//! the `check_run` webhooks a run's buttons and "Re-run" send.
//!
//! | file | responsibility |
//! |---|---|
//! | `spec.rs` | `CheckRunSpec` and its parts; checking and clamping to GitHub's limits |
//! | `plan.rs` | the requests for a spec, 50 annotations each, none sent twice (pure) |
//! | `upsert.rs` | `upsert_check_run`: find the run, plan, send |
//! | `events.rs` | check names: `gitferry/<feature>`, and the feature of a name |

mod events;
mod plan;
mod spec;
mod upsert;

#[cfg(test)]
mod tests;

pub use events::{CHECK_PREFIX, check_name, feature_of};
pub use plan::{
    ANNOTATIONS_PER_REQUEST, CheckRunPlan, ExistingRun, FirstWrite, missing_annotations,
    plan_check_run,
};
pub use spec::{
    Action, Annotation, AnnotationLevel, CheckRunId, CheckRunSpec, CheckStatus, Conclusion,
    InvalidCheckRun, MAX_ACTIONS, MAX_ANNOTATIONS, MAX_OUTPUT_TEXT,
};
pub use upsert::upsert_check_run;
