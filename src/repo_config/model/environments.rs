//! `environments:` — preview and branch-bound environments, and how changes move between them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::commands::Permission;
use super::deploy::Deploy;
use crate::repo_config::load::at_key;
use crate::repo_config::values::{Duration, Template};

/// An environment: the preview environment (`pull_requests`: one instance per pull request)
/// or one bound to a branch (`branch`: deployed when the branch changes). Read by previews,
/// promotion and drift.
//
// Written flat in YAML (see `RawEnvironment`); held here with the kind made explicit, so a
// preview-only setting such as `ttl` cannot exist on a branch-bound environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawEnvironment")]
#[schemars(with = "RawEnvironment")]
pub struct Environment {
    /// Preview or branch-bound.
    pub kind: EnvironmentKind,
    /// The environment this one is promoted from (`/promote <this>`), e.g. staging for
    /// production.
    pub promote_from: Option<String>,
    /// Who must approve a promotion into this environment.
    pub approvals: Option<Approvals>,
    /// How it is deployed.
    pub deploy: Deploy,
    /// Branch-bound only: a release whose steps after the deploy fail is rolled back to the
    /// last good release by gitferry itself.
    pub auto_rollback: bool,
    /// Branch-bound only: how a rollback moves the branch.
    pub rollback: RollbackMode,
    /// Branch-bound only: GitHub marks its deployments as production ones.
    pub production: bool,
    /// Check runs or commit statuses of other apps (a security scanner) that must be green
    /// on the candidate before a promotion into this environment merges.
    pub required_checks: Vec<String>,
    /// Open (or move) the promotion pull request into this environment on its own after each
    /// verified release of `promote_from`, unless a rollback holds it.
    pub auto_promote: bool,
    /// Its address, shown on the PR and in the GitHub deployment.
    pub url: Option<Template>,
}

/// How `/rollback` moves an environment's branch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RollbackMode {
    /// A new commit on top of the branch whose tree is the good release's: history stays
    /// linear and nothing is rewritten.
    #[default]
    Commit,
    /// The branch is force-moved back to the good release's commit.
    Reset,
}

impl Environment {
    /// The preview settings, if this is the preview environment.
    pub fn preview(&self) -> Option<&Preview> {
        match &self.kind {
            EnvironmentKind::Preview(preview) => Some(preview),
            EnvironmentKind::Branch(_) => None,
        }
    }

    /// The branch, if this environment is bound to one.
    pub fn branch(&self) -> Option<&str> {
        match &self.kind {
            EnvironmentKind::Branch(branch) => Some(branch),
            EnvironmentKind::Preview(_) => None,
        }
    }
}

/// What an environment follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentKind {
    /// A preview per pull request (`pull_requests:` in YAML).
    Preview(Preview),
    /// One instance deployed from a branch's head (`branch:` in YAML).
    Branch(String),
}

/// The settings of the preview environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Which pull requests get a preview.
    pub pull_requests: PullRequests,
    /// Previews untouched for this long are destroyed. `None`: kept until the PR closes.
    pub ttl: Option<Duration>,
    /// At most this many previews at once; more wait in line. `None`: no limit.
    pub max_active: Option<u32>,
    /// What happens for pull requests from forks.
    pub forks: ForkPolicy,
}

/// `pull_requests:` — which pull requests get a preview.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PullRequests {
    /// Pull requests into these base branches get a preview.
    pub base: Vec<String>,
    /// Whether draft pull requests get one too. Default false.
    #[serde(default)]
    pub drafts: bool,
}

/// Fork pull requests run code their author wrote, so by default they wait for a maintainer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForkPolicy {
    /// Fork pull requests never get a preview.
    Never,
    /// Only after someone with write access comments `/preview` (again after each push).
    #[default]
    MaintainerApproval,
    /// Fork pull requests deploy like any other. Their code runs with your deploy settings:
    /// use only for repositories whose every contributor you trust.
    Always,
}

/// `approvals:` — who must approve a promotion into the environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Approvals {
    /// How many distinct approvals are needed, 1 to 10. Default 1.
    #[serde(default = "one")]
    pub min: u32,
    /// Approvers need at least this repository permission.
    #[serde(default)]
    pub permission: Option<Permission>,
    /// Members of these teams may approve.
    #[serde(default)]
    pub teams: Vec<String>,
    /// These users may approve.
    #[serde(default)]
    pub users: Vec<String>,
}

fn one() -> u32 {
    1
}

/// An environment as written in YAML. `pull_requests` (a preview environment) or `branch` (a
/// branch-bound one): exactly one of them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Environment",
    extend("oneOf" = [{ "required": ["pull_requests"] }, { "required": ["branch"] }])
)]
pub struct RawEnvironment {
    /// Makes this the preview environment: one instance per pull request into these bases.
    #[serde(default)]
    pull_requests: Option<PullRequests>,
    /// Makes this a branch-bound environment, deployed when the branch changes.
    #[serde(default)]
    branch: Option<String>,
    /// The environment this one is promoted from, e.g. `staging` for production. Read by
    /// `/promote`.
    #[serde(default)]
    promote_from: Option<String>,
    /// Who must approve a promotion into this environment (needs `promote_from`).
    #[serde(default)]
    approvals: Option<Approvals>,
    /// How the environment is deployed.
    deploy: Deploy,
    /// Its address (a template), shown on the PR and in the GitHub deployment.
    #[serde(default)]
    url: Option<Template>,
    /// Preview only: destroy previews untouched for this long. Default: keep until the PR
    /// closes.
    #[serde(default)]
    ttl: Option<Duration>,
    /// Preview only: at most this many previews at once; more wait in line. Default: no limit.
    #[serde(default)]
    max_active: Option<u32>,
    /// Preview only: never, maintainer_approval (default) or always.
    #[serde(default)]
    forks: Option<ForkPolicy>,
    /// Branch-bound only: roll a release whose steps after the deploy fail back to the last
    /// good release. Default: false.
    #[serde(default)]
    auto_rollback: bool,
    /// Branch-bound only: `commit` (default) commits the good release's tree on top of the
    /// branch; `reset` force-moves the branch back to its commit.
    #[serde(default)]
    rollback: Option<RollbackMode>,
    /// Branch-bound only: its GitHub deployments are production deployments. Default: false.
    #[serde(default)]
    production: bool,
    /// Check runs or statuses of other apps that must pass on the candidate before a
    /// promotion into this environment merges (needs `promote_from`).
    #[serde(default)]
    required_checks: Vec<String>,
    /// Open or move the promotion pull request after each verified release of
    /// `promote_from`, unless a rollback holds it (needs `promote_from`). Default: false.
    #[serde(default)]
    auto_promote: bool,
}

impl TryFrom<RawEnvironment> for Environment {
    type Error = String;

    fn try_from(raw: RawEnvironment) -> Result<Self, Self::Error> {
        let kind = match (raw.pull_requests, raw.branch) {
            (Some(_), Some(_)) => {
                return Err(at_key(
                    "branch",
                    "an environment has either `pull_requests` (a preview environment) or \
                     `branch`, not both",
                ));
            }
            (None, None) => {
                return Err(
                    "an environment needs `pull_requests` (a preview environment) or \
                            `branch` (one deployed from a branch)"
                        .to_owned(),
                );
            }
            (Some(_), None) if raw.auto_rollback => {
                return Err(at_key(
                    "auto_rollback",
                    "`auto_rollback` applies to branch-bound environments (`branch`) only: a \
                     preview has no release to go back to",
                ));
            }
            (Some(_), None) if raw.rollback.is_some() || raw.production => {
                let key = if raw.production {
                    "production"
                } else {
                    "rollback"
                };
                return Err(at_key(
                    key,
                    format!("`{key}` applies to branch-bound environments (`branch`) only"),
                ));
            }
            (Some(pull_requests), None) => EnvironmentKind::Preview(Preview {
                pull_requests,
                ttl: raw.ttl,
                max_active: raw.max_active,
                forks: raw.forks.unwrap_or_default(),
            }),
            (None, Some(branch)) => {
                let preview_only = [
                    ("ttl", raw.ttl.is_some()),
                    ("max_active", raw.max_active.is_some()),
                    ("forks", raw.forks.is_some()),
                ];
                if let Some((key, _)) = preview_only.into_iter().find(|(_, set)| *set) {
                    return Err(at_key(
                        key,
                        format!(
                            "`{key}` applies to the preview environment (`pull_requests`) only"
                        ),
                    ));
                }
                EnvironmentKind::Branch(branch)
            }
        };
        Ok(Environment {
            kind,
            promote_from: raw.promote_from,
            approvals: raw.approvals,
            deploy: raw.deploy,
            auto_rollback: raw.auto_rollback,
            rollback: raw.rollback.unwrap_or_default(),
            production: raw.production,
            required_checks: raw.required_checks,
            auto_promote: raw.auto_promote,
            url: raw.url,
        })
    }
}
