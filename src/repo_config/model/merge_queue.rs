//! `merge_queue:` — merging approved pull requests in order, tested together.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::repo_config::values::Duration;

/// The merge queue: approved pull requests are batched, tested on a temporary branch, and the
/// tested commit lands. Without this section there is no queue. Read by the queue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeQueue {
    /// Base branches whose pull requests go through the queue.
    pub branches: Vec<String>,
    /// At most this many pull requests are tested together, 1 to 32. Default 4.
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// How many batches are tested at once, 1 to 8. Default 1.
    #[serde(default = "default_parallel")]
    pub parallel: u32,
    /// How the batch lands: merge (default), squash or rebase.
    #[serde(default)]
    pub method: MergeMethod,
    /// Check runs that must pass on the batch, e.g. `gitferry/unit`. Default: every pipeline
    /// step's check run.
    #[serde(default)]
    pub checks: Vec<String>,
    /// A batch still untested after this long fails. Default 1h.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
}

fn default_batch_size() -> u32 {
    4
}

fn default_parallel() -> u32 {
    1
}

fn default_timeout() -> Duration {
    Duration::from_mins(60)
}

/// How a tested batch lands on the base branch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MergeMethod {
    #[default]
    Merge,
    Squash,
    Rebase,
}
