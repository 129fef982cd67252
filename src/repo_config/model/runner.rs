//! `runner:` — where pipeline steps run.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where pipeline steps run. Read by the pipeline runner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Runner {
    /// `local` (child processes on the gitferry host, the default) or `kubernetes` (one Job per
    /// step).
    #[serde(default)]
    pub kind: RunnerKind,
    /// Kubernetes runner: the namespace the Jobs run in. Default `gitferry-runs`.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Kubernetes runner: the container image steps run in (required when any step runs on
    /// Kubernetes).
    #[serde(default)]
    pub image: Option<String>,
    /// How many steps of this repository may run at once, 1 to 64. Default 2.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// Kubernetes runner: the service account of the Jobs' pods. Default: the namespace's
    /// `default`.
    #[serde(default)]
    pub service_account: Option<String>,
}

impl Default for Runner {
    fn default() -> Self {
        Self {
            kind: RunnerKind::default(),
            namespace: default_namespace(),
            image: None,
            concurrency: default_concurrency(),
            service_account: None,
        }
    }
}

fn default_namespace() -> String {
    "gitferry-runs".to_owned()
}

fn default_concurrency() -> u32 {
    2
}

/// A kind of runner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunnerKind {
    /// Child processes on the gitferry host.
    #[default]
    Local,
    /// A Kubernetes Job per step.
    Kubernetes,
}
