//! `drift:` — comparing live environments with Git.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::repo_config::values::{Duration, JsonPointer};

/// How often live environments are compared with Git, and what to do about differences. Read
/// by the drift sweep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    /// How often each branch-bound environment is compared, at least 1m. Default 10m.
    #[serde(default = "ten_minutes")]
    pub every: Duration,
    /// `warn` (report drift; the default) or `heal` (report it and re-apply Git's version).
    #[serde(default)]
    pub mode: DriftMode,
    /// Differences that are not drift, e.g. replicas set by an autoscaler.
    #[serde(default)]
    pub ignore: Vec<DriftIgnore>,
    /// How the `gitferry/drift` check of a pull request concludes when its environment has
    /// drifted: `neutral` (the default: information) or `fail` (to block merging onto ground
    /// that is not what Git says).
    #[serde(default)]
    pub on_pr: DriftOnPr,
}

/// The pull request check's conclusion when the environment has drifted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftOnPr {
    #[default]
    Neutral,
    Fail,
}

impl Drift {
    /// Whether a drifted environment (or one that could not be checked) fails the pull
    /// request's `gitferry/drift` check.
    pub fn fails_pull_requests(&self) -> bool {
        self.on_pr == DriftOnPr::Fail
    }
}

impl Default for Drift {
    fn default() -> Self {
        Self {
            every: ten_minutes(),
            mode: DriftMode::default(),
            ignore: Vec::new(),
            on_pr: DriftOnPr::default(),
        }
    }
}

fn ten_minutes() -> Duration {
    Duration::from_mins(10)
}

/// What to do about drift.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftMode {
    /// Report it (check run `gitferry/drift`, notifications).
    #[default]
    Warn,
    /// Report it and apply Git's version again.
    Heal,
}

/// A difference to ignore: a field (by JSON pointer) of objects of a kind (and name).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftIgnore {
    /// The object kind, e.g. `Deployment`.
    pub kind: String,
    /// Only the object with this name. Default: every object of the kind.
    #[serde(default)]
    pub name: Option<String>,
    /// The field, as a JSON pointer: `/spec/replicas`.
    pub path: JsonPointer,
}
