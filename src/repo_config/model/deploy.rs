//! `environments.<name>.deploy` — how an environment is deployed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::repo_config::load::at_key;
use crate::repo_config::values::{Argv, Duration, EnvVarName, RepoPath, Template};

/// How to deploy the environment, chosen by `provider`. Read by the deploy providers.
//
// Deserialized through `RawDeploy` (every key of every provider) rather than serde's
// internally tagged enums: those buffer the input, and a wrong value deep inside would be
// reported at `deploy` instead of at its own key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawDeploy")]
#[schemars(!try_from, tag = "provider", rename_all = "snake_case")]
pub enum Deploy {
    /// Apply Kubernetes manifests into a namespace (server-side apply, field manager
    /// `gitferry`).
    Kubernetes(KubernetesDeploy),
    /// Run commands you provide; they get the pull request's values as `GITFERRY_*`
    /// environment variables.
    Command(CommandDeploy),
}

/// `provider: kubernetes`.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct KubernetesDeploy {
    /// The folder of manifests (YAML) to apply, taken from the commit being deployed.
    pub manifests: RepoPath,
    /// The namespace to deploy into; a template such as `shop-pr-{pr}`.
    pub namespace: Template,
    /// A command that renders the manifests instead of reading them as they are, e.g.
    /// `[kustomize, build, deploy/preview]`; its standard output is applied.
    pub render: Option<Argv>,
    /// The context to use in the kubeconfig. Default: its current context.
    pub context: Option<String>,
    /// The name of a variable of the gitferry process that holds a kubeconfig path. Default:
    /// gitferry's own cluster settings.
    pub kubeconfig: Option<EnvVarName>,
    /// Delete objects that were applied before but are no longer in the manifests. Default
    /// true.
    #[schemars(default = "yes")]
    pub prune: bool,
    /// The Pod Security Standard the environment's namespace enforces (`restricted`,
    /// `baseline` or `privileged`), and which the manifests are checked against before
    /// anything is applied. Default `restricted`. Only `privileged` lets a pull request's
    /// manifests run privileged containers or reach the node (host namespaces, `hostPath`,
    /// `hostPort`, Service `externalIPs`): give it only to environments whose every author you
    /// trust with the node.
    #[schemars(default = "restricted")]
    pub pod_security: PodSecurity,
}

/// A Pod Security Standard level
/// (<https://kubernetes.io/docs/concepts/security/pod-security-standards/>).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PodSecurity {
    /// No restrictions: privileged containers, host namespaces and host paths are allowed.
    Privileged,
    /// Known privilege escalations are refused (privileged containers, host namespaces,
    /// `hostPath`, `hostPort`, capabilities beyond the default set).
    Baseline,
    /// Baseline plus current hardening practice (only `NET_BIND_SERVICE` may be added, no
    /// privilege escalation).
    #[default]
    Restricted,
}

impl PodSecurity {
    /// The level as Kubernetes' `pod-security.kubernetes.io/*` labels spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Privileged => "privileged",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Restricted => "restricted",
        }
    }
}

fn restricted() -> PodSecurity {
    PodSecurity::Restricted
}

/// `provider: command`.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CommandDeploy {
    /// The command that deploys, e.g. `[./scripts/deploy.sh]`.
    pub deploy: Argv,
    /// The command that tears the environment down (required for preview environments).
    pub destroy: Option<Argv>,
    /// A command that prints the environment's live state, for drift reports.
    pub status: Option<Argv>,
    /// How long each command may run. Default 30m.
    #[schemars(default = "thirty_minutes")]
    pub timeout: Duration,
}

fn yes() -> bool {
    true
}

fn thirty_minutes() -> Duration {
    Duration::from_mins(30)
}

/// The provider names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Kubernetes,
    Command,
}

/// `deploy` as written: every provider's keys, checked against `provider` afterwards.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploy {
    provider: Provider,
    manifests: Option<RepoPath>,
    namespace: Option<Template>,
    render: Option<Argv>,
    context: Option<String>,
    kubeconfig: Option<EnvVarName>,
    prune: Option<bool>,
    pod_security: Option<PodSecurity>,
    deploy: Option<Argv>,
    destroy: Option<Argv>,
    status: Option<Argv>,
    timeout: Option<Duration>,
}

impl TryFrom<RawDeploy> for Deploy {
    type Error = String;

    fn try_from(raw: RawDeploy) -> Result<Self, Self::Error> {
        match raw.provider {
            Provider::Kubernetes => {
                let foreign = [
                    ("deploy", raw.deploy.is_some()),
                    ("destroy", raw.destroy.is_some()),
                    ("status", raw.status.is_some()),
                    ("timeout", raw.timeout.is_some()),
                ];
                if let Some((key, _)) = foreign.into_iter().find(|(_, set)| *set) {
                    return Err(at_key(
                        key,
                        format!("`{key}` belongs to the command provider, not to kubernetes"),
                    ));
                }
                let manifests = raw.manifests.ok_or(
                    "the kubernetes provider needs `manifests` (the folder of manifests to apply)",
                )?;
                let namespace = raw
                    .namespace
                    .ok_or("the kubernetes provider needs `namespace` (e.g. \"shop-pr-{pr}\")")?;
                Ok(Deploy::Kubernetes(KubernetesDeploy {
                    manifests,
                    namespace,
                    render: raw.render,
                    context: raw.context,
                    kubeconfig: raw.kubeconfig,
                    prune: raw.prune.unwrap_or(true),
                    pod_security: raw.pod_security.unwrap_or_default(),
                }))
            }
            Provider::Command => {
                let foreign = [
                    ("manifests", raw.manifests.is_some()),
                    ("namespace", raw.namespace.is_some()),
                    ("render", raw.render.is_some()),
                    ("context", raw.context.is_some()),
                    ("kubeconfig", raw.kubeconfig.is_some()),
                    ("prune", raw.prune.is_some()),
                    ("pod_security", raw.pod_security.is_some()),
                ];
                if let Some((key, _)) = foreign.into_iter().find(|(_, set)| *set) {
                    return Err(at_key(
                        key,
                        format!("`{key}` belongs to the kubernetes provider, not to command"),
                    ));
                }
                let deploy = raw
                    .deploy
                    .ok_or("the command provider needs `deploy` (the command that deploys)")?;
                Ok(Deploy::Command(CommandDeploy {
                    deploy,
                    destroy: raw.destroy,
                    status: raw.status,
                    timeout: raw.timeout.unwrap_or_else(thirty_minutes),
                }))
            }
        }
    }
}
