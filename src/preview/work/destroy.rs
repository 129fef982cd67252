//! Destroying a preview, and handing its slot to the next one waiting.

use std::time::Duration;

use tracing::error;

use super::{EXPIRED, PreviewEnv, Work, preview_env_of, unchanged};
use crate::checkout::Checkout;
use crate::deploy::providers;
use crate::deploy::{DeployError, Request, Target};
use crate::preview::reconcile;
use crate::preview::render::ViewState;
use crate::report::deployments::{self, State};
use crate::runs::RunLog;
use crate::store::previews::{PreviewOutcome, PreviewStatus};

impl Work<'_> {
    pub(super) async fn destroy(&self) -> anyhow::Result<()> {
        let preview = self.preview;
        let expired = preview
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with(EXPIRED));
        let final_status = if expired {
            PreviewStatus::Expired
        } else {
            PreviewStatus::Destroyed
        };
        let reason = preview.reason.clone().unwrap_or_else(|| "closed".into());
        let loaded = self.config().await?;
        let preview_env = preview_env_of(&loaded);
        let has_resources = preview.deployed_sha.is_some()
            || matches!(
                preview.status(),
                PreviewStatus::Deploying | PreviewStatus::Failed
            );
        let Some(preview_env) = preview_env.filter(|_| has_resources) else {
            let gone = PreviewOutcome {
                status: final_status,
                deployed_sha: None,
                url: None,
                reason: Some(&reason),
                ..unchanged(preview, final_status)
            };
            self.finish(&gone).await?;
            return Ok(());
        };
        let sha = preview
            .deployed_sha
            .clone()
            .unwrap_or_else(|| preview.head_sha.clone());
        let run = self.start_run("destroy", &sha).await?;
        let log = RunLog::default();
        let secrets = &self.ctx.settings.repo_secrets;
        log.mask_with(crate::secrets::repo_masker(
            preview_env.config,
            self.repo(),
            secrets,
        ));
        let result = match self.target(&preview_env, &sha) {
            Ok(target) => self.tear_down(&preview_env, &target, &log).await,
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => {
                // Reported first, recorded after (see `run_deploy`).
                self.end_run(&run, "success", None, &log).await?;
                if let Some(deployment) = preview.deployment_id {
                    deployments::set_status(
                        &self.gh,
                        self.repo(),
                        deployment,
                        State::Inactive,
                        None,
                        Some(&run.log_url),
                        "destroyed",
                    )
                    .await?;
                }
                let ttl = preview_env
                    .env
                    .preview()
                    .and_then(|p| p.ttl)
                    .map(|ttl| humantime::format_duration(Duration::from(ttl)).to_string())
                    .unwrap_or_default();
                let state = if expired {
                    ViewState::Expired { ttl: &ttl }
                } else {
                    ViewState::Destroyed { reason: &reason }
                };
                let view = self.view(&preview_env, state, None, Some(&run.log_url));
                self.section(&view).await?;
                let gone = PreviewOutcome {
                    status: final_status,
                    deployed_sha: None,
                    url: None,
                    run_id: Some(&run.id),
                    reason: Some(&reason),
                    ..unchanged(preview, final_status)
                };
                if !self.finish(&gone).await? {
                    return Ok(());
                }
                self.hand_over_slot(&preview_env).await
            }
            Err(DeployError::Cancelled) => {
                self.end_run(&run, "superseded", Some("interrupted"), &log)
                    .await?;
                self.ctx
                    .store
                    .release_preview(self.repo(), preview.pr, self.owner)
                    .await?;
                Ok(())
            }
            Err(err) => {
                let why = format!("destroy failed: {err}");
                log.line(&why);
                self.end_run(&run, "failure", Some(&why), &log).await?;
                let failed = PreviewOutcome {
                    run_id: Some(&run.id),
                    reason: Some(&why),
                    ..unchanged(preview, PreviewStatus::Failed)
                };
                self.finish(&failed).await?;
                error!(repository = %self.repo(), pr = preview.pr, error = %err, "preview destroy failed; retried by the reconciler");
                Ok(())
            }
        }
    }

    /// A destroyed preview frees a slot: the longest-waiting preview starts now rather than
    /// at the reconciler's next pass.
    async fn hand_over_slot(&self, preview_env: &PreviewEnv<'_>) -> anyhow::Result<()> {
        let Some(max_active) = preview_env.env.preview().and_then(|p| p.max_active) else {
            return Ok(());
        };
        let prefix = preview_env.config.commands.prefix.as_str();
        reconcile::hand_over_slots(self.ctx, &self.gh, self.repo(), max_active, prefix).await?;
        Ok(())
    }

    async fn tear_down(
        &self,
        preview_env: &PreviewEnv<'_>,
        target: &Target,
        log: &RunLog,
    ) -> Result<(), DeployError> {
        let checkout = match self.checkout(&target.sha, log).await {
            Ok(checkout) => checkout,
            Err(err) => {
                log.line(format!("{err}; destroying from an empty working directory"));
                Checkout::empty(&self.ctx.settings.work_dir(), &self.ctx.sandbox)
                    .map_err(|e| DeployError::Settings(e.to_string()))?
            }
        };
        let provider =
            providers::build(&preview_env.env.deploy, &self.ctx.settings, self.repo()).await?;
        provider
            .destroy(Request {
                target,
                workspace: checkout.workspace(),
                log,
                cancel: self.cancel,
            })
            .await
    }
}
