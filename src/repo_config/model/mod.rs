//! The typed config: one file per top-level section.

mod commands;
mod deploy;
mod drift;
mod environments;
mod merge_queue;
mod notify;
mod pipeline;
mod runner;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use commands::{
    COMMAND_NAMES, CommandRule, Commands, ENVIRONMENT_COMMANDS, Permission, RoleRule,
};
pub use deploy::{CommandDeploy, Deploy, KubernetesDeploy, PodSecurity, Provider};
pub use drift::{Drift, DriftIgnore, DriftMode, DriftOnPr};
pub use environments::{
    Approvals, Environment, EnvironmentKind, ForkPolicy, Preview, PullRequests, RollbackMode,
};
pub use merge_queue::{MergeMethod, MergeQueue};
pub use notify::{Channel, Notification, NotifyEvent};
pub use pipeline::{After, EnvValue, Step};
pub use runner::{Quantities, Resources, Runner, RunnerKind};

/// A repository's `.github/gitferry.yml`, read from the default branch only.
///
/// Every section is optional; an empty file is a valid config that enables nothing but
/// defaults. Build one with [`crate::repo_config::parse`], which also runs the checks that
/// span sections; deserializing this type directly skips them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(
    title = "gitferry repository config",
    description = "The .github/gitferry.yml of a repository that uses gitferry. It is read \
                   from the default branch only, never from a pull request's head."
)]
pub struct RepoConfig {
    /// Slash commands: their prefix and who may run each one.
    pub commands: Commands,
    /// The steps that build and test each pull request, in order.
    pub pipeline: Vec<Step>,
    /// Where pipeline steps run.
    pub runner: Runner,
    /// Environments by name: at most one preview environment, and branch-bound ones.
    pub environments: BTreeMap<String, Environment>,
    /// Comparing live environments with Git.
    pub drift: Drift,
    /// The merge queue; without this section there is none.
    pub merge_queue: Option<MergeQueue>,
    /// Messages to Slack, DingTalk or webhooks when things happen.
    pub notify: Vec<Notification>,
}

impl RepoConfig {
    /// The preview environment, if there is one: its name and settings.
    pub fn preview_environment(&self) -> Option<(&str, &Environment)> {
        self.environments
            .iter()
            .find(|(_, env)| env.preview().is_some())
            .map(|(name, env)| (name.as_str(), env))
    }

    /// The names of the branch-bound environments (what `/promote` and `/rollback` take).
    pub fn branch_environment_names(&self) -> Vec<String> {
        self.environments
            .iter()
            .filter(|(_, env)| env.branch().is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The environment deployed from `branch`, if one is (the first, should several name it).
    pub fn branch_environment(&self, branch: &str) -> Option<(&str, &Environment)> {
        self.environments
            .iter()
            .find(|(_, env)| env.branch() == Some(branch))
            .map(|(name, env)| (name.as_str(), env))
    }

    /// A pipeline step by name.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.pipeline.iter().find(|step| step.name.as_str() == name)
    }
}
