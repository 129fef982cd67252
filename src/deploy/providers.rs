//! The deploy provider an environment's config asks for.

use std::path::PathBuf;

use crate::deploy::command::CommandProvider;
use crate::deploy::kubernetes::{self, KubernetesProvider};
use crate::deploy::{DeployError, Provider};
use crate::repo_config::Deploy;
use crate::settings::Settings;

pub fn name(deploy: &Deploy) -> &'static str {
    match deploy {
        Deploy::Kubernetes(_) => "kubernetes",
        Deploy::Command(_) => "command",
    }
}

/// Builds `repository`'s provider. The kubernetes provider's cluster: the kubeconfig whose
/// path is in the variable the config names (`kubeconfig: STAGING_KUBECONFIG`, if the
/// operator's allow-list lets the repository name it), else gitferry's own cluster settings
/// (`GITFERRY_KUBECONFIG`, in-cluster, `KUBECONFIG`).
pub async fn build(
    deploy: &Deploy,
    settings: &Settings,
    repository: &str,
) -> Result<Box<dyn Provider>, DeployError> {
    match deploy {
        Deploy::Command(config) => Ok(Box::new(CommandProvider::new(config.clone()))),
        Deploy::Kubernetes(config) => {
            let path = match &config.kubeconfig {
                Some(variable) => Some(PathBuf::from(
                    settings
                        .repo_secrets
                        .read(repository, variable.as_str())
                        .map_err(|e| DeployError::Settings(format!("`kubeconfig`: {e}")))?,
                )),
                None => settings.kubeconfig.clone(),
            };
            let client = kubernetes::connect(path.as_deref(), config.context.as_deref()).await?;
            let roles = settings
                .allowed_cluster_roles
                .iter()
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
            Ok(Box::new(
                KubernetesProvider::new(client, config.clone()).with_allowed_cluster_roles(roles),
            ))
        }
    }
}
