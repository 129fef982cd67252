//! Where a pipeline step's command runs: [`local`] (child processes on the gitferry host) or
//! [`kubernetes`] (one Job per step). Both take a [`StepRun`] and return how the command ended;
//! the executor then reads the step's JUnit reports from the run's workspace (the Kubernetes
//! runner copies them there from the pod), so reports are found and parsed in one place.

pub mod kubernetes;
pub mod local;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::deploy::{BoxFuture, Workspace};
use crate::runs::RunLog;

/// One step to run.
pub struct StepRun<'a> {
    /// The run's id (16 hex characters): names the Kubernetes Job, keys the log.
    pub id: &'a str,
    /// `owner/name`.
    pub repository: &'a str,
    /// The commit under test.
    pub sha: &'a str,
    /// The step's name from the config (`[a-z0-9-_]`).
    pub step: &'a str,
    /// The command: program and arguments (from the default branch's config; never a shell
    /// string).
    pub argv: &'a [String],
    /// The working directory relative to the repository root (validated: no `..`, not
    /// absolute); `None` is the root.
    pub dir: Option<&'a str>,
    /// Every variable the command gets beyond the runner's minimal environment: the step's
    /// `env` (secrets resolved), and the `GITFERRY_*` values.
    pub env: &'a [(String, String)],
    pub timeout: Duration,
    /// The step's JUnit report globs, relative to the repository root.
    pub junit: &'a [String],
    /// Local: the commit's files, where the command runs. Kubernetes: an empty folder the
    /// runner writes the reports it brings back into (at their paths relative to the root).
    pub workspace: &'a Workspace,
    /// Kubernetes: a short-lived URL of the commit's tarball the pod downloads the source
    /// from. `None` for the local runner.
    pub source_url: Option<&'a str>,
    /// What the command prints goes here as it arrives (capped), with the runner's own notes.
    pub log: &'a RunLog,
    /// Cancelled by a newer push or a shutdown: the runner stops the command (kills its process
    /// group, deletes its Job) and returns [`RunnerError::Cancelled`].
    pub cancel: &'a CancellationToken,
}

/// How a command that ran to its end ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Exited with status 0.
    pub success: bool,
    /// In words, for the check run: `exit status 1`, `killed by signal 9 (SIGKILL)`.
    pub description: String,
}

/// Why a step did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("did not finish within {}", humantime::format_duration(*.after))]
    Timeout { after: Duration },
    #[error("cancelled")]
    Cancelled,
    /// The command could not be started, or the runner lost it (a cluster error, a missing
    /// program): the text says which, in words a developer can act on.
    #[error("{0}")]
    Failed(String),
}

/// A place steps run. `dyn`-compatible so the executor can pick one per step.
pub trait Runner: Send + Sync {
    fn run<'a>(&'a self, run: StepRun<'a>) -> BoxFuture<'a, Result<Exit, RunnerError>>;
}
