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
    /// Kubernetes runner: the service account of the Jobs' pods, whose token is then mounted
    /// (give it only what the steps need). Default: none; the namespace's `default` account
    /// without a mounted token, so a step cannot talk to the cluster.
    #[serde(default)]
    pub service_account: Option<String>,
    /// Kubernetes runner: the CPU and memory each step's container requests and may use at
    /// most. Default: requests `cpu: 250m, memory: 256Mi`, limits `cpu: "2", memory: 2Gi`.
    #[serde(default)]
    pub resources: Resources,
}

/// `runner.resources`: Kubernetes quantities (`250m`, `2`, `512Mi`, `2Gi`); each unset value
/// takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves for a step. Default `cpu: 250m, memory: 256Mi`.
    #[serde(default = "default_requests")]
    pub requests: Quantities,
    /// The most a step may use: CPU beyond it is throttled, memory beyond it kills the step.
    /// Default `cpu: "2", memory: 2Gi`.
    #[serde(default = "default_limits")]
    pub limits: Quantities,
}

/// A CPU and a memory quantity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantities {
    /// CPU cores: `250m` (a quarter), `2`.
    pub cpu: String,
    /// Bytes: `256Mi`, `2Gi`.
    pub memory: String,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            requests: default_requests(),
            limits: default_limits(),
        }
    }
}

fn default_requests() -> Quantities {
    Quantities {
        cpu: "250m".to_owned(),
        memory: "256Mi".to_owned(),
    }
}

fn default_limits() -> Quantities {
    Quantities {
        cpu: "2".to_owned(),
        memory: "2Gi".to_owned(),
    }
}

impl Default for Runner {
    fn default() -> Self {
        Self {
            kind: RunnerKind::default(),
            namespace: default_namespace(),
            image: None,
            concurrency: default_concurrency(),
            service_account: None,
            resources: Resources::default(),
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
