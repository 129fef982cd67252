//! The kubernetes provider: applies a commit's manifests into the environment's namespace by
//! server-side apply (field manager `gitferry`), prunes what the manifests no longer contain,
//! destroys by deleting the namespace and waiting until it is gone, and observes the live
//! objects it applied.
//!
//! The manifests come from the pull request, so they are checked before anything is written:
//! only kinds the cluster serves, only namespaced kinds, only the environment's own
//! namespace, and nothing above the environment's pod security level ([`policy`]). A PR
//! cannot create a ClusterRoleBinding, write into another namespace or run a privileged pod,
//! and an existing namespace gitferry did not create for this environment is never written
//! to or deleted: everything gitferry makes carries its ownership labels, and the namespaces
//! it creates carry Pod Security labels.

mod apply;
mod cluster;
mod destroy;
mod files;
mod kinds;
mod labels;
mod locate;
mod manifests;
mod namespaces;
mod observe;
pub mod policy;
mod prune;
mod render;

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::{Applied, BoxFuture, DeployError, Observed, Provider, Request, StatusCheck, Target};
use crate::repo_config::KubernetesDeploy;
use manifests::Manifest;
use namespaces::Polling;

/// How often a deleted namespace is looked at while it terminates.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a namespace may take to terminate before destroy gives up.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Deploys to a Kubernetes cluster through one [`kube::Client`].
pub struct KubernetesProvider {
    client: kube::Client,
    config: KubernetesDeploy,
    polling: Polling,
    /// The ClusterRoles a RoleBinding in the manifests may name (the operator's setting).
    allowed_cluster_roles: Vec<String>,
}

impl KubernetesProvider {
    pub fn new(client: kube::Client, config: KubernetesDeploy) -> Self {
        Self {
            client,
            config,
            polling: Polling {
                interval: DEFAULT_POLL_INTERVAL,
                timeout: DEFAULT_WAIT_TIMEOUT,
            },
            allowed_cluster_roles: policy::DEFAULT_ALLOWED_CLUSTER_ROLES
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        }
    }

    /// Sets the ClusterRoles a RoleBinding may name (`GITFERRY_ALLOWED_CLUSTER_ROLES`).
    #[must_use]
    pub fn with_allowed_cluster_roles(mut self, roles: Vec<String>) -> Self {
        self.allowed_cluster_roles = roles;
        self
    }

    fn policy(&self) -> policy::Policy<'_> {
        policy::Policy {
            pod_security: self.config.pod_security,
            allowed_cluster_roles: &self.allowed_cluster_roles,
        }
    }

    /// Changes how a terminating namespace is waited for (tests use milliseconds).
    #[must_use]
    pub fn with_polling(mut self, interval: Duration, timeout: Duration) -> Self {
        self.polling = Polling { interval, timeout };
        self
    }

    /// The objects to apply: the render command's output when the config has one, else the
    /// files of the manifests folder.
    async fn manifests(&self, request: Request<'_>) -> Result<Vec<Manifest>, DeployError> {
        if let Some(render) = &self.config.render {
            return render::run(render, request).await;
        }
        let root = request.workspace.root().to_path_buf();
        let folder = self.config.manifests.as_str().to_owned();
        // Up to MAX_TOTAL_BYTES of file reading and parsing: off the async workers.
        tokio::task::spawn_blocking(move || files::read(&root, &folder))
            .await
            .map_err(|e| DeployError::Manifests(format!("reading the manifests stopped: {e}")))?
    }
}

/// A client for the cluster: the kubeconfig at `kubeconfig` when given; else the in-cluster
/// service account when gitferry runs in a pod (and no `context` asks for a kubeconfig);
/// else the kubeconfig named by `KUBECONFIG` or `~/.kube/config`. `context` picks a
/// kubeconfig context other than the current one.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<kube::Client, DeployError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| {
                access(
                    &format!("cannot read the kubeconfig {}", path.display()),
                    &e,
                )
            })?;
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| access(&format!("cannot use the kubeconfig {}", path.display()), &e))?
        }
        None if context.is_none() && in_cluster => kube::Config::incluster()
            .map_err(|e| access("cannot use the in-cluster service account", &e))?,
        None if context.is_some() => {
            kube::Config::from_kubeconfig(&options).await.map_err(|e| {
                access(
                    "cannot use the kubeconfig (KUBECONFIG or ~/.kube/config)",
                    &e,
                )
            })?
        }
        None => kube::Config::infer().await.map_err(|e| {
            access(
                "found neither a kubeconfig nor an in-cluster service account",
                &e,
            )
        })?,
    };
    install_crypto_provider();
    kube::Client::try_from(config).map_err(|e| access("cannot build a Kubernetes client", &e))
}

pub use crate::tls::install_crypto_provider;

fn access(what: &str, error: &dyn std::error::Error) -> DeployError {
    DeployError::ClusterAccess(format!("{what}: {}", cluster::chain(error)))
}

/// The namespace the caller rendered for this target.
fn namespace_of(target: &Target) -> Result<&str, DeployError> {
    target.namespace.as_deref().ok_or_else(|| {
        DeployError::Settings(
            "the kubernetes provider needs a namespace, and none was rendered for this \
             environment"
                .to_owned(),
        )
    })
}

impl Provider for KubernetesProvider {
    fn apply<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, DeployError>> {
        Box::pin(apply::run(self, request))
    }

    fn destroy<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<(), DeployError>> {
        Box::pin(destroy::run(self, request))
    }

    fn observe<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Observed, DeployError>> {
        Box::pin(observe::run(self, request))
    }

    fn desired<'a>(
        &'a self,
        request: Request<'a>,
    ) -> BoxFuture<'a, Result<Option<Vec<serde_json::Value>>, DeployError>> {
        Box::pin(async move {
            let namespace = namespace_of(request.target)?;
            let owner = labels::Owner::of(request.target);
            // A commit from before the environment had manifests declares nothing (the base of
            // its first promotion): for a deploy that is an error, for a comparison it is empty.
            let folder = request
                .workspace
                .root()
                .join(self.config.manifests.as_str());
            if self.config.render.is_none() && !folder.exists() {
                return Ok(Some(Vec::new()));
            }
            let manifests = self.manifests(request).await?;
            Ok(Some(
                manifests
                    .iter()
                    .map(|m| apply::body(&m.object, namespace, &owner))
                    .collect(),
            ))
        })
    }

    fn status_check<'a>(
        &'a self,
        _request: Request<'a>,
    ) -> BoxFuture<'a, Result<Option<StatusCheck>, DeployError>> {
        Box::pin(async { Ok(None) })
    }

    fn unserved<'a>(
        &'a self,
        kinds: Vec<(String, String)>,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, DeployError>> {
        Box::pin(async move {
            let mut resolver = kinds::Kinds::new(self.client.clone());
            let mut unserved = Vec::new();
            for (api_version, kind) in kinds {
                let wanted = labels::KindRef {
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                };
                if resolver.resolve(&wanted).await?.is_none() {
                    unserved.push((api_version, kind));
                }
            }
            Ok(unserved)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreadable_kubeconfig_is_a_cluster_access_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        let Err(err) = connect(Some(&missing), None).await else {
            panic!("a missing kubeconfig gave a client");
        };
        assert!(matches!(err, DeployError::ClusterAccess(_)), "{err:?}");
        assert!(err.to_string().contains("nope.yaml"), "{err}");
    }

    #[tokio::test]
    async fn a_kubeconfig_without_the_asked_context_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1'}\n\
             users:\n- name: u\n  user: {}\ncontexts:\n- name: here\n  context: {cluster: c, user: u}\n\
             current-context: here\n",
        )
        .unwrap();
        let Err(err) = connect(Some(&path), Some("elsewhere")).await else {
            panic!("an unknown context gave a client");
        };
        assert!(matches!(err, DeployError::ClusterAccess(_)), "{err:?}");
        assert!(err.to_string().contains("elsewhere"), "{err}");
    }

    #[test]
    fn a_target_without_a_namespace_is_a_settings_error() {
        let target = Target {
            repository: "acme/shop".to_owned(),
            environment: "preview".to_owned(),
            pr: Some(1),
            sha: "abc".to_owned(),
            branch: "b".to_owned(),
            base: None,
            namespace: None,
            url: None,
        };
        assert!(matches!(
            namespace_of(&target),
            Err(DeployError::Settings(_))
        ));
    }
}
