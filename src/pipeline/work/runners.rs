//! The runner a step uses: the host's local runner (shared, so its limit holds across
//! repositories), or a Kubernetes runner for the repository's `runner:` settings.

use std::path::PathBuf;

use crate::pipeline::runner::Runner;
use crate::pipeline::runner::kubernetes::KubernetesRunner;
use crate::pipeline::runner::local::LocalRunner;
use crate::repo_config::{Runner as RunnerConfig, RunnerKind};
use crate::settings::Settings;

pub struct Runners {
    local: LocalRunner,
    kubeconfig: Option<PathBuf>,
}

impl Runners {
    pub fn new(settings: &Settings) -> Self {
        Self {
            local: LocalRunner::new(settings.step_concurrency()),
            kubeconfig: settings.kubeconfig.clone(),
        }
    }

    /// The runner for `kind`; the error says why it cannot be had (no cluster access).
    pub async fn get(
        &self,
        kind: RunnerKind,
        config: &RunnerConfig,
    ) -> Result<Box<dyn Runner + '_>, String> {
        match kind {
            RunnerKind::Local => Ok(Box::new(self.local.clone())),
            RunnerKind::Kubernetes => {
                let client = crate::deploy::kubernetes::connect(self.kubeconfig.as_deref(), None)
                    .await
                    .map_err(|e| {
                        format!("cannot reach the cluster for the kubernetes runner: {e}")
                    })?;
                Ok(Box::new(KubernetesRunner::new(client, config)))
            }
        }
    }
}
