//! Deploying a preview's head, or parking it (waiting for a fork approval or a free slot).

use crate::github::short_sha;
use tracing::{info, warn};

use super::{PreviewEnv, StartedRun, Work, preview_env_of, unchanged};
use crate::deploy::providers;
use crate::deploy::{Applied, DeployError, Request, Target};
use crate::flow::executor::{Flow, Next};
use crate::flow::{Gate, Head};
use crate::notify::{self, Message};
use crate::preview::decide;
use crate::preview::render::{self, PreviewView, ViewState};
use crate::repo_config::NotifyEvent;
use crate::report::checks::{CheckStatus, Conclusion};
use crate::report::deployments::{self, DeploymentSpec, State};
use crate::runs::RunLog;
use crate::store::now_ms;
use crate::store::previews::{PreviewOutcome, PreviewStatus};

impl Work<'_> {
    pub(super) async fn deploy(&self) -> anyhow::Result<()> {
        let loaded = self.config().await?;
        let Some(preview_env) = preview_env_of(&loaded) else {
            let reason = "the config on the default branch has no preview environment";
            self.flow().not_deployed(reason).await?;
            let outcome = PreviewOutcome {
                reason: Some(reason),
                ..unchanged(self.preview, PreviewStatus::Failed)
            };
            self.finish(&outcome).await?;
            return Ok(());
        };
        let Some(settings) = preview_env.env.preview() else {
            return Ok(());
        };
        let preview = self.preview;
        let approved = decide::may_deploy(
            settings,
            preview.is_fork(),
            &preview.head_sha,
            preview.approved_sha.as_deref(),
        );
        let flow = self.flow();
        match flow.deploy_due(preview_env.config, approved).await? {
            Next::Deploy => {}
            Next::WaitForApproval => {
                return self
                    .park(
                        &preview_env,
                        PreviewStatus::AwaitingApproval,
                        ViewState::AwaitingApproval,
                    )
                    .await;
            }
            Next::WaitForSteps(steps) => {
                let state = ViewState::AwaitingSteps { steps: &steps };
                self.park(&preview_env, PreviewStatus::AwaitingSteps, state)
                    .await?;
                flow.parked(preview_env.config).await?;
                return Ok(());
            }
            Next::Block(steps) => {
                return self
                    .blocked(&preview_env, &Gate::blocked_reason(&steps))
                    .await;
            }
        }
        if let Some(max_active) = settings.max_active
            && !preview.status().holds_slot()
            && !self
                .ctx
                .store
                .take_preview_slot(
                    self.repo(),
                    preview.pr,
                    self.owner,
                    i64::from(max_active),
                    now_ms(),
                )
                .await?
        {
            let state = ViewState::Queued {
                position: self.place_in_line().await?,
                max_active,
            };
            return self.park(&preview_env, PreviewStatus::Queued, state).await;
        }
        self.run_deploy(&preview_env).await
    }

    /// 1 + the previews waiting for a slot that asked before this one.
    async fn place_in_line(&self) -> anyhow::Result<usize> {
        let me = self.preview;
        let all = self.ctx.store.previews_of(self.repo()).await?;
        let ahead = all.iter().filter(|p| {
            p.pr != me.pr
                && p.wants_up()
                && p.status() == PreviewStatus::Queued
                && (p.requested_at, p.pr) < (me.requested_at, me.pr)
        });
        Ok(ahead.count() + 1)
    }

    async fn park(
        &self,
        preview_env: &PreviewEnv<'_>,
        status: PreviewStatus,
        state: ViewState<'_>,
    ) -> anyhow::Result<()> {
        // Reported first, recorded after: if GitHub fails, the work stays due and is retried.
        let view = self.view(preview_env, state, None, None);
        self.section(&view).await?;
        let title = match status {
            PreviewStatus::Queued => "Waiting for a free preview slot",
            PreviewStatus::AwaitingSteps => "Waiting for the steps before the deploy",
            _ => "Waiting for a maintainer's approval",
        };
        self.check(CheckStatus::Queued, title, &render::section(&view), None)
            .await?;
        self.finish(&unchanged(self.preview, status)).await?;
        Ok(())
    }

    async fn run_deploy(&self, preview_env: &PreviewEnv<'_>) -> anyhow::Result<()> {
        let preview = self.preview;
        let sha = preview.head_sha.as_str();
        let run = self.start_run("deploy", sha).await?;
        self.ctx
            .store
            .fail_running_preview_runs(
                self.repo(),
                preview.pr,
                &run.id,
                "gitferry stopped during this run; it was started again",
                now_ms(),
            )
            .await?;
        let deployment = {
            let environment = deployments::preview_environment(preview.pr);
            let description = format!("gitferry preview of #{}", preview.pr);
            let spec = DeploymentSpec {
                sha,
                environment: &environment,
                transient: true,
                production: false,
                description: &description,
                run_id: &run.id,
            };
            deployments::create(&self.gh, self.repo(), &spec).await?
        };
        deployments::set_status(
            &self.gh,
            self.repo(),
            deployment,
            State::InProgress,
            None,
            Some(&run.log_url),
            "deploying",
        )
        .await?;
        let deploying = PreviewOutcome {
            deployment_id: Some(deployment),
            run_id: Some(&run.id),
            reason: None,
            ..unchanged(preview, PreviewStatus::Deploying)
        };
        self.ctx
            .store
            .mark_preview(self.repo(), preview.pr, self.owner, &deploying, now_ms())
            .await?;
        let view = self.view(preview_env, ViewState::Deploying, None, Some(&run.log_url));
        self.section(&view).await?;
        self.check(
            CheckStatus::InProgress,
            "Deploying the preview",
            &render::section(&view),
            Some(&run.log_url),
        )
        .await?;

        let log = RunLog::default();
        let secrets = &self.ctx.settings.repo_secrets;
        let masker = crate::secrets::repo_masker(preview_env.config, self.repo(), secrets);
        log.mask_with(masker.clone());
        let target = self.target(preview_env, sha);
        let namespace = target.as_ref().ok().and_then(|t| t.namespace.clone());
        let result = match target {
            Ok(target) => self.apply(preview_env, &target, &log).await,
            Err(err) => Err(err),
        };
        match result {
            Ok(applied) => {
                // Reported first, recorded after: should GitHub fail, the work stays due and
                // is done (and reported) again, rather than recorded and never shown.
                if !self.still_current().await? {
                    return self.superseded(&run, &log, deployment).await;
                }
                // The log is complete: store it before its link is shown as final.
                self.end_run(&run, "success", None, &log).await?;
                let url = applied.url.clone();
                // What is now in the cluster is a fact whatever happens next: a close arriving
                // before this work finishes must destroy this commit's resources, not the last.
                let deployed = PreviewOutcome {
                    deployed_sha: Some(sha),
                    namespace: namespace.as_deref(),
                    url: url.as_deref(),
                    ..deploying.clone()
                };
                self.ctx
                    .store
                    .mark_preview(self.repo(), preview.pr, self.owner, &deployed, now_ms())
                    .await?;
                deployments::set_status(
                    &self.gh,
                    self.repo(),
                    deployment,
                    State::Success,
                    url.as_deref(),
                    Some(&run.log_url),
                    "the preview is ready",
                )
                .await?;
                let age = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
                let view = PreviewView {
                    age: Some(&age),
                    ..self.view(
                        preview_env,
                        ViewState::Ready,
                        url.as_deref(),
                        Some(&run.log_url),
                    )
                };
                self.section(&view).await?;
                self.check(
                    CheckStatus::Completed(Conclusion::Success),
                    "The preview is ready",
                    &render::section(&view),
                    Some(&run.log_url),
                )
                .await?;
                self.retire_previous_deployment(deployment).await;
                self.announce(
                    preview_env,
                    NotifyEvent::PreviewReady,
                    &run,
                    "is ready",
                    format!("Deployed `{}` of `{}`.", short_sha(sha), preview.head_ref),
                    url.as_deref(),
                )
                .await?;
                self.flow()
                    .deployed(preview_env.config, url.as_deref())
                    .await?;
                let ready = PreviewOutcome {
                    status: PreviewStatus::Ready,
                    deployed_sha: Some(sha),
                    namespace: namespace.as_deref(),
                    url: url.as_deref(),
                    deployment_id: Some(deployment),
                    run_id: Some(&run.id),
                    reason: None,
                };
                self.finish(&ready).await?;
                info!(repository = %self.repo(), pr = preview.pr, sha, "preview ready");
                Ok(())
            }
            Err(DeployError::Cancelled) if self.stop.is_cancelled() => {
                log.line("gitferry is stopping; this deploy is taken up again after the restart");
                // The restarted deploy gets a deployment of its own; this one must not stay
                // `in_progress` (GitHub never retires a transient environment's by itself).
                if let Err(err) = deployments::set_status(
                    &self.gh,
                    self.repo(),
                    deployment,
                    State::Inactive,
                    None,
                    Some(&run.log_url),
                    "interrupted by a gitferry restart; deployed again after it",
                )
                .await
                {
                    warn!(error = %err, "cannot retire an interrupted deployment");
                }
                self.end_run(
                    &run,
                    "failure",
                    Some("interrupted by a gitferry restart"),
                    &log,
                )
                .await?;
                self.ctx
                    .store
                    .release_preview(self.repo(), preview.pr, self.owner)
                    .await?;
                Ok(())
            }
            Err(DeployError::Cancelled) => self.superseded(&run, &log, deployment).await,
            Err(err) => {
                // The error quotes the command's last lines, kept apart from the log.
                let reason = masker.mask(&err.to_string()).into_owned();
                log.line(format!("failed: {reason}"));
                if !self.still_current().await? {
                    return self.superseded(&run, &log, deployment).await;
                }
                self.end_run(&run, "failure", Some(&reason), &log).await?;
                deployments::set_status(
                    &self.gh,
                    self.repo(),
                    deployment,
                    State::Failure,
                    None,
                    Some(&run.log_url),
                    &reason,
                )
                .await?;
                let view = self.view(
                    preview_env,
                    ViewState::Failed { reason: &reason },
                    None,
                    Some(&run.log_url),
                );
                self.section(&view).await?;
                self.check(
                    CheckStatus::Completed(Conclusion::Failure),
                    "The preview deploy failed",
                    &render::section(&view),
                    Some(&run.log_url),
                )
                .await?;
                self.retire_previous_deployment(deployment).await;
                self.announce(
                    preview_env,
                    NotifyEvent::PreviewFailed,
                    &run,
                    "failed to deploy",
                    format!("The deploy of `{}` failed: {reason}", short_sha(sha)),
                    None,
                )
                .await?;
                self.flow()
                    .not_deployed("the preview deploy failed")
                    .await?;
                let failed = PreviewOutcome {
                    status: PreviewStatus::Failed,
                    deployed_sha: Some(sha),
                    namespace: namespace.as_deref(),
                    deployment_id: Some(deployment),
                    run_id: Some(&run.id),
                    reason: Some(&reason),
                    url: preview.url.as_deref(),
                };
                self.finish(&failed).await?;
                Ok(())
            }
        }
    }

    /// A step before the deploy did not pass: this head is not deployed, and the steps that
    /// would have tested it are skipped, saying why.
    async fn blocked(&self, preview_env: &PreviewEnv<'_>, reason: &str) -> anyhow::Result<()> {
        let view = self.view(preview_env, ViewState::Blocked { reason }, None, None);
        self.section(&view).await?;
        self.check(
            CheckStatus::Completed(Conclusion::Skipped),
            "Not deployed: a step before the deploy did not pass",
            &render::section(&view),
            None,
        )
        .await?;
        let outcome = PreviewOutcome {
            reason: Some(reason),
            ..unchanged(self.preview, PreviewStatus::Blocked)
        };
        self.finish(&outcome).await?;
        Ok(())
    }

    /// The flow of the preview's head (its steps, before and after the deploy).
    fn flow(&self) -> Flow<'_> {
        Flow::new(self.ctx, Head::of_preview(self.preview))
    }

    /// Queues the config's notifications for this run's outcome (sent in the background).
    async fn announce(
        &self,
        preview_env: &PreviewEnv<'_>,
        event: NotifyEvent,
        run: &StartedRun,
        what: &str,
        text: String,
        preview_url: Option<&str>,
    ) -> anyhow::Result<()> {
        let preview = self.preview;
        let pr_url = notify::pr_url(
            &self.ctx.settings.github_url,
            &preview.repository,
            preview.pr,
        );
        let mut links = Vec::new();
        if let Some(url) = preview_url {
            links.push(("preview".to_owned(), url.to_owned()));
        }
        links.push(("pull request".to_owned(), pr_url));
        // A reference, made a link when sent: the outbox keeps no token.
        links.push((
            "deploy log".to_owned(),
            crate::runs::links::log_ref(&run.id),
        ));
        let message = Message {
            event: notify::event_name(event),
            repository: preview.repository.clone(),
            pr: u64::try_from(preview.pr).ok(),
            sha: Some(preview.head_sha.clone()),
            actor: None,
            title: format!("Preview of {}#{} {what}", preview.repository, preview.pr),
            text,
            links,
            commit_url: Some(notify::commit_url(
                &self.ctx.settings.github_url,
                &preview.repository,
                &preview.head_sha,
            )),
        };
        let secrets = &self.ctx.settings.repo_secrets;
        let message = message.masked(&crate::secrets::repo_masker(
            preview_env.config,
            self.repo(),
            secrets,
        ));
        notify::queue(
            &self.ctx.store,
            preview_env.config,
            event,
            &run.id,
            &message,
        )
        .await?;
        Ok(())
    }

    /// Whether the preview is still wanted as this work found it (no push or destroy since).
    async fn still_current(&self) -> anyhow::Result<bool> {
        let now = self.ctx.store.preview(self.repo(), self.preview.pr).await?;
        Ok(now.is_some_and(|p| p.generation == self.preview.generation))
    }

    /// The deployment of the deploy before this one goes `inactive`: GitHub does not retire a
    /// transient environment's older deployments by itself, and two would look live.
    async fn retire_previous_deployment(&self, current: i64) {
        let Some(previous) = self.preview.deployment_id.filter(|id| *id != current) else {
            return;
        };
        if let Err(err) = deployments::set_status(
            &self.gh,
            self.repo(),
            previous,
            State::Inactive,
            None,
            None,
            "replaced by a newer deploy",
        )
        .await
        {
            warn!(error = %err, deployment = previous, "cannot retire the previous deployment");
        }
    }

    /// A newer push (or a destroy) came while this deploy ran: its result is not the
    /// preview's, and says so everywhere it was shown.
    async fn superseded(
        &self,
        run: &StartedRun,
        log: &RunLog,
        deployment: i64,
    ) -> anyhow::Result<()> {
        log.line("superseded by a newer request; this result is discarded");
        self.end_run(run, "superseded", Some("superseded by a newer push"), log)
            .await?;
        // The preview goes back to what it was before this work (notably its deployment, which
        // the newer deploy retires once it succeeds); this one's is retired just below.
        self.ctx
            .store
            .mark_preview(
                self.repo(),
                self.preview.pr,
                self.owner,
                &unchanged(self.preview, self.preview.status()),
                now_ms(),
            )
            .await?;
        self.ctx
            .store
            .release_preview(self.repo(), self.preview.pr, self.owner)
            .await?;
        deployments::set_status(
            &self.gh,
            self.repo(),
            deployment,
            State::Inactive,
            None,
            Some(&run.log_url),
            "superseded by a newer push",
        )
        .await?;
        self.check(
            CheckStatus::Completed(Conclusion::Skipped),
            "Superseded by a newer push",
            "A newer commit was pushed while this one was deploying; its preview is deployed \
             instead.",
            Some(&run.log_url),
        )
        .await
    }

    async fn apply(
        &self,
        preview_env: &PreviewEnv<'_>,
        target: &Target,
        log: &RunLog,
    ) -> Result<Applied, DeployError> {
        let checkout = self.checkout(&target.sha, log).await?;
        let provider =
            providers::build(&preview_env.env.deploy, &self.ctx.settings, self.repo()).await?;
        log.line(format!(
            "deploying {} at {} with the {} provider",
            self.repo(),
            target.sha,
            providers::name(&preview_env.env.deploy)
        ));
        let request = Request {
            target,
            workspace: checkout.workspace(),
            log,
            cancel: self.cancel,
        };
        provider.apply(request).await
    }
}
