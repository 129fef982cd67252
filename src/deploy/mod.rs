//! Deploy providers: how an environment instance (a PR's preview, a branch's environment) is
//! brought up, torn down and looked at. Everything above this module (previews, promotion,
//! drift) talks to a cluster or a deploy script only through [`Provider`].
//!
//! A provider gets a [`Target`] (what to deploy: repository, environment, PR, sha, branch,
//! namespace) and a [`Workspace`] (the commit's files, unpacked from its tarball), and writes
//! what it does to a [`RunLog`] that ends up behind the run's link on the PR. Values from
//! the pull request (branch names, titles) never reach a shell: commands are argument lists,
//! and the values go to them as `GITFERRY_*` environment variables.

pub mod command;
pub mod kubernetes;
pub mod namespace;
pub mod providers;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::runs::RunLog;
use crate::sandbox::Confinement;

/// A boxed future, so that [`Provider`] can be used as `dyn Provider`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One environment instance to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `owner/name`.
    pub repository: String,
    /// The environment's name in the config (e.g. `preview`, `staging`).
    pub environment: String,
    /// The pull request, for previews.
    pub pr: Option<u64>,
    /// The commit being deployed (or, for destroy, the last one deployed).
    pub sha: String,
    /// The branch as GitHub names it (raw, not slugged): the PR's head ref or the environment's
    /// branch.
    pub branch: String,
    /// The pull request's base branch, for previews.
    pub base: Option<String>,
    /// The namespace, already rendered from its template and made DNS-safe
    /// ([`namespace::dns_label`]). `None` when the config names none (command provider).
    pub namespace: Option<String>,
    /// The environment's URL rendered from the config's `url` template, if it has one.
    pub url: Option<String>,
}

impl Target {
    /// The values a deploy, destroy or status command gets as environment variables. Never
    /// interpolated into a command line: a branch named `$(touch /tmp/pwned)` is just bytes.
    pub fn environment_variables(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("GITFERRY_REPOSITORY", self.repository.clone()),
            ("GITFERRY_ENV", self.environment.clone()),
            ("GITFERRY_SHA", self.sha.clone()),
            ("GITFERRY_SHORT_SHA", self.sha.chars().take(7).collect()),
            ("GITFERRY_REF", self.branch.clone()),
        ];
        if let Some(pr) = self.pr {
            vars.push(("GITFERRY_PR", pr.to_string()));
        }
        if let Some(base) = &self.base {
            vars.push(("GITFERRY_BASE_REF", base.clone()));
        }
        if let Some(namespace) = &self.namespace {
            vars.push(("GITFERRY_NAMESPACE", namespace.clone()));
        }
        if let Some(url) = &self.url {
            vars.push(("GITFERRY_URL", url.clone()));
        }
        vars
    }
}

/// The files of the commit being deployed, unpacked into a fresh directory.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The repository's root (the tarball's single top-level folder).
    pub root: PathBuf,
    /// How commands run in it are confined (see `sandbox`).
    confinement: Confinement,
}

impl Workspace {
    /// A workspace whose commands are not confined: for tests and tools that run nothing from
    /// a repository. gitferry's own runs get theirs from [`crate::checkout::Checkout`], with
    /// [`Workspace::confined`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::confined(root, Confinement::unconfined())
    }

    pub fn confined(root: impl Into<PathBuf>, confinement: Confinement) -> Self {
        Self {
            root: root.into(),
            confinement,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn confinement(&self) -> &Confinement {
        &self.confinement
    }
}

/// What one provider operation is given.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub target: &'a Target,
    pub workspace: &'a Workspace,
    pub log: &'a RunLog,
    /// Cancelled when a newer push supersedes this deploy, or on shutdown: the provider stops
    /// (killing its child processes) and returns [`DeployError::Cancelled`].
    pub cancel: &'a CancellationToken,
}

/// A successful deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The environment's address: the command's `GITFERRY_URL=` output line, else the
    /// configured template's (see [`Target::url`]).
    pub url: Option<String>,
    /// What was applied, one line per object or step, for the PR comment and the log.
    pub summary: Vec<String>,
}

/// What is live, for drift reports and `/preview` status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Live objects (kubernetes) as JSON, or the status command's output as one string value.
    pub objects: Vec<serde_json::Value>,
}

/// Why a provider operation failed. The text is what the PR and the deployment status show,
/// so it says what happened in words a developer can act on.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("`{command}` did not finish within {}", humantime::format_duration(*.after))]
    Timeout { command: String, after: Duration },
    #[error("`{command}` failed ({status}){}", tail_suffix(.output_tail))]
    CommandFailed {
        command: String,
        status: String,
        output_tail: String,
    },
    #[error("cannot run `{command}`: {reason}")]
    Spawn { command: String, reason: String },
    #[error("the manifests cannot be used: {0}")]
    Manifests(String),
    #[error(
        "the namespace template renders to {rendered:?}, which is not a valid namespace: {reason}"
    )]
    InvalidNamespace { rendered: String, reason: String },
    /// Checked manifests that ask for more than the environment's pod security level or the
    /// operator's allow-list permit (see `deploy::kubernetes::policy`).
    #[error("the manifests were refused: {0}")]
    Refused(String),
    /// An existing namespace gitferry did not create, or created for someone else.
    #[error("gitferry will not use namespace {namespace}: {reason}")]
    ForeignNamespace { namespace: String, reason: String },
    #[error("the Kubernetes API refused: {0}")]
    Cluster(String),
    #[error("cannot reach the cluster: {0}")]
    ClusterAccess(String),
    #[error("the deploy settings are incomplete: {0}")]
    Settings(String),
    #[error("superseded by a newer request")]
    Cancelled,
}

/// The one place where a child process's failure becomes a deploy failure.
impl From<crate::process::ProcessError> for DeployError {
    fn from(error: crate::process::ProcessError) -> Self {
        use crate::process::ProcessError;
        match error {
            ProcessError::Spawn { command, reason } => DeployError::Spawn { command, reason },
            ProcessError::Sandbox { command, source } => DeployError::Spawn {
                command,
                reason: source.to_string(),
            },
            ProcessError::Timeout { command, after, .. } => DeployError::Timeout { command, after },
            ProcessError::Cancelled { .. } => DeployError::Cancelled,
            // The output was streamed into the log as far as it could be read.
            ProcessError::Io { command, source } => DeployError::CommandFailed {
                command,
                status: format!("its output could not be read: {source}"),
                output_tail: String::new(),
            },
            ProcessError::OutputTooLarge { command, limit } => DeployError::CommandFailed {
                command,
                status: format!("more than {limit} bytes of output"),
                output_tail: String::new(),
            },
        }
    }
}

fn tail_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", tail.trim())
    }
}

/// A way to deploy. Implementations must be idempotent: `apply` twice with the same target is
/// a redeploy, `destroy` of something already gone succeeds. That is what lets a deploy
/// interrupted by a restart simply be run again.
pub trait Provider: Send + Sync {
    /// Deploys (or redeploys) the target from the workspace.
    fn apply<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, DeployError>>;

    /// Tears the target down and returns once it is gone.
    fn destroy<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<(), DeployError>>;

    /// Reads what is live.
    fn observe<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Observed, DeployError>>;

    /// What the workspace's manifests declare, exactly as a deploy of the target would apply
    /// them (namespaced, with gitferry's labels), without touching the cluster: what drift
    /// and change reports compare. `None` for a provider without objects (the command
    /// provider), whose [`Provider::status_check`] is its drift check.
    fn desired<'a>(
        &'a self,
        request: Request<'a>,
    ) -> BoxFuture<'a, Result<Option<Vec<serde_json::Value>>, DeployError>>;

    /// Which of `kinds` (`(apiVersion, kind)`) the cluster does not serve (a resource whose
    /// CustomResourceDefinition is not installed): a drift report names them per object
    /// instead of calling them missing. Empty for a provider without a cluster.
    fn unserved<'a>(
        &'a self,
        kinds: Vec<(String, String)>,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, DeployError>>;

    /// The provider's own drift check, when it has one: the command provider's `status`
    /// command, which exits 0 in sync and 2 drifted (as `terraform plan -detailed-exitcode`
    /// does); anything else is an error.
    fn status_check<'a>(
        &'a self,
        request: Request<'a>,
    ) -> BoxFuture<'a, Result<Option<StatusCheck>, DeployError>>;
}

/// What a `status` command said about drift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCheck {
    pub drifted: bool,
    /// Its output: the drift report, shown as it is.
    pub output: String,
}
