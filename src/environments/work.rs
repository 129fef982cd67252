//! One release's work, claimed by the executor: ask the flow whether it may deploy (the steps
//! before the deploy gate it), deploy it through the environment's provider, and report it
//! everywhere (a Deployment of the environment, the `gitferry/release/<env>` check run, the
//! run's log behind its link). Once the steps after the deploy conclude, the flow makes the
//! release due again and this reports the outcome.
//!
//! An `Err` from this work ends the attempt without an outcome: the lease is shortened and
//! the release is taken up again soon (GitHub or the store being unavailable is no reason to
//! call a release failed).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::announce::announce;
use super::render::{self, Stage};
use super::{executor, promote, rollback, where_change};
use crate::app::AppContext;
use crate::checkout::Checkout;
use crate::config_source::Loaded;
use crate::deploy::{DeployError, Request, Target, providers};
use crate::flow::executor::{Flow, Next};
use crate::flow::{Gate, Head};
use crate::github::{InstallationClient, InstallationId};
use crate::jobs::Heartbeat;
use crate::repo_config::{Environment, NotifyEvent, RepoConfig};
use crate::report::checks::{CheckStatus, Conclusion};
use crate::report::deployments::{self, DeploymentSpec, State};
use crate::report::{CheckRunSpec, upsert_check_run};
use crate::runs::RunLog;
use crate::store::audit::AuditEntry;
use crate::store::releases::{Release, ReleaseCause, ReleaseProgress, ReleaseState};
use crate::store::{duration_ms, now_ms};

/// How soon an attempt that gave up is tried again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn process(ctx: Arc<AppContext>, release: Release, owner: &str, stop: CancellationToken) {
    let cancel = stop.child_token();
    ctx.releases.track(release.id.clone(), cancel.clone());
    let heartbeat = tokio::spawn(heartbeat(
        Arc::clone(&ctx),
        release.id.clone(),
        owner.to_owned(),
        cancel.clone(),
    ));
    let work = Work {
        ctx: &ctx,
        gh: ctx
            .github
            .installation(InstallationId::from_stored(release.installation_id)),
        release: &release,
        owner,
        cancel: &cancel,
        stop: &stop,
    };
    let result = work.run().await;
    heartbeat.abort();
    ctx.releases.untrack(&release.id);
    if let Err(err) = result {
        warn!(
            repository = %release.repository,
            version = %release.version(),
            error = format!("{err:#}"),
            "release work failed; it is tried again shortly"
        );
        let soon = now_ms() + duration_ms(RETRY_AFTER);
        if let Err(err) = ctx
            .store
            .renew_release_lease(&release.id, owner, soon)
            .await
        {
            warn!(error = %err, "cannot schedule the release's retry; it waits for its lease");
        }
    }
}

/// Renews the lease; cancels the work when the release was superseded or the lease lost.
async fn heartbeat(ctx: Arc<AppContext>, id: String, owner: String, cancel: CancellationToken) {
    let (store, id, owner) = (&ctx.store, id.as_str(), owner.as_str());
    Heartbeat::new(executor::LEASE)
        .cancel_when_lost("release work", &cancel, |until| async move {
            let state = store.renew_release_lease(id, owner, until).await?;
            Ok(state.is_some_and(|s| s != ReleaseState::Superseded))
        })
        .await;
}

struct Work<'a> {
    ctx: &'a AppContext,
    gh: InstallationClient,
    release: &'a Release,
    owner: &'a str,
    /// Superseded or shutting down.
    cancel: &'a CancellationToken,
    /// Shutting down only.
    stop: &'a CancellationToken,
}

impl Work<'_> {
    fn repo(&self) -> &str {
        &self.release.repository
    }

    fn head(&self) -> Head<'_> {
        let r = self.release;
        Head {
            repository: &r.repository,
            pr: 0,
            installation_id: r.installation_id,
            sha: &r.sha,
            branch: &r.branch,
            base_ref: "",
            default_branch: &r.default_branch,
            actor: r.actor.as_deref(),
        }
    }

    /// The repository's config, from the default branch recorded with the release.
    async fn config(&self) -> anyhow::Result<Arc<Loaded>> {
        Ok(self
            .ctx
            .configs
            .get(
                &self.gh,
                &self.ctx.store,
                self.repo(),
                &self.release.default_branch,
            )
            .await?)
    }

    fn log_url(&self) -> Option<String> {
        self.ctx
            .run_links
            .shown(&self.release.id, &self.release.token_hash)
    }

    async fn run(&self) -> anyhow::Result<()> {
        let due_again = self.release.due == 1;
        match self.release.state() {
            // Concluded by the steps after the deploy: say so.
            Some(state @ (ReleaseState::Verified | ReleaseState::Failed)) if due_again => {
                self.report_outcome(state).await
            }
            Some(
                ReleaseState::Queued
                | ReleaseState::AwaitingSteps
                | ReleaseState::Deploying
                | ReleaseState::Blocked,
            ) => self.deploy().await,
            _ => {
                let reason = self.release.reason.as_deref();
                self.mark(self.state_now(), reason, None, None, true).await
            }
        }
    }

    fn state_now(&self) -> ReleaseState {
        self.release.state().unwrap_or(ReleaseState::Failed)
    }

    async fn deploy(&self) -> anyhow::Result<()> {
        let loaded = self.config().await?;
        let Some(config) = loaded.usable() else {
            return self
                .refuse("the config on the default branch is not valid")
                .await;
        };
        let Some(env) = config
            .environments
            .get(&self.release.environment)
            .filter(|env| env.branch() == Some(self.release.branch.as_str()))
        else {
            let reason = format!(
                "the config has no environment {} deployed from {}",
                self.release.environment, self.release.branch
            );
            return self.refuse(&reason).await;
        };
        let flow = Flow::new(self.ctx, self.head());
        match flow.deploy_due(config, true).await? {
            Next::Deploy => {}
            Next::WaitForSteps(steps) => {
                self.check(CheckStatus::Queued, &Stage::WaitingForSteps(&steps), None)
                    .await?;
                self.mark(ReleaseState::AwaitingSteps, None, None, None, true)
                    .await?;
                flow.parked(config).await?;
                return Ok(());
            }
            Next::Block(steps) => {
                let reason = Gate::blocked_reason(&steps);
                let stage = Stage::Blocked(&reason);
                self.check(CheckStatus::Completed(Conclusion::Failure), &stage, None)
                    .await?;
                return self
                    .mark(ReleaseState::Blocked, Some(&reason), None, None, true)
                    .await;
            }
            Next::WaitForApproval => {
                return self.refuse("the release waits for an approval").await;
            }
        }
        self.run_deploy(config, env, &flow).await
    }

    async fn run_deploy(
        &self,
        config: &RepoConfig,
        env: &Environment,
        flow: &Flow<'_>,
    ) -> anyhow::Result<()> {
        let release = self.release;
        let log_url = self.log_url();
        self.mark(ReleaseState::Deploying, None, None, None, false)
            .await?;
        let version = release.version();
        let description = format!("gitferry release {version}");
        let spec = DeploymentSpec {
            sha: &release.sha,
            environment: &release.environment,
            transient: false,
            production: env.production,
            description: &description,
            run_id: &release.id,
        };
        let deployment = deployments::create(&self.gh, self.repo(), &spec).await?;
        deployments::set_status(
            &self.gh,
            self.repo(),
            deployment,
            State::InProgress,
            None,
            log_url.as_deref(),
            "deploying",
        )
        .await?;
        self.check(CheckStatus::InProgress, &Stage::Deploying, None)
            .await?;

        let log = RunLog::default();
        let secrets = &self.ctx.settings.repo_secrets;
        let masker = crate::secrets::repo_masker(config, self.repo(), secrets);
        log.mask_with(masker.clone());
        log.line(format!(
            "release {version} of {} at {} to {} ({} provider)",
            self.repo(),
            release.sha,
            release.environment,
            providers::name(&env.deploy)
        ));
        let result = match self.target(env) {
            Ok(target) => self.apply(env, &target, &log).await,
            Err(err) => Err(err),
        };
        let outcome = match result {
            Ok(applied) => applied,
            Err(DeployError::Cancelled) if self.stop.is_cancelled() => {
                log.line("gitferry is stopping; this release is deployed again after the restart");
                self.store_log(&log).await?;
                self.retire(deployment, "interrupted by a gitferry restart")
                    .await;
                self.ctx
                    .store
                    .renew_release_lease(&release.id, self.owner, now_ms())
                    .await?;
                return Ok(());
            }
            Err(DeployError::Cancelled) => {
                log.line("superseded by a newer push; this release stops");
                self.store_log(&log).await?;
                self.retire(deployment, "superseded by a newer release")
                    .await;
                return Ok(());
            }
            Err(err) => {
                let reason = masker.mask(&err.to_string()).into_owned();
                log.line(format!("failed: {reason}"));
                self.store_log(&log).await?;
                deployments::set_status(
                    &self.gh,
                    self.repo(),
                    deployment,
                    State::Failure,
                    None,
                    log_url.as_deref(),
                    &reason,
                )
                .await?;
                self.check(
                    CheckStatus::Completed(Conclusion::Failure),
                    &Stage::Failed(&reason),
                    None,
                )
                .await?;
                self.mark(
                    ReleaseState::Failed,
                    Some(&reason),
                    None,
                    Some(deployment),
                    true,
                )
                .await?;
                flow.not_deployed("the release deploy failed").await?;
                let text = format!("The deploy of `{}` failed: {reason}", release.sha);
                announce(
                    self.ctx,
                    config,
                    NotifyEvent::ReleaseFailed,
                    release,
                    "failed",
                    text,
                )
                .await?;
                return Ok(());
            }
        };
        let url = outcome.url.clone();
        self.store_log(&log).await?;
        deployments::set_status(
            &self.gh,
            self.repo(),
            deployment,
            State::Success,
            url.as_deref(),
            log_url.as_deref(),
            &format!("{version} deployed"),
        )
        .await?;
        self.check(CheckStatus::InProgress, &Stage::Verifying, url.as_deref())
            .await?;
        self.mark(
            ReleaseState::Verifying,
            None,
            url.as_deref(),
            Some(deployment),
            true,
        )
        .await?;
        info!(repository = %self.repo(), version, sha = %release.sha, "release deployed");
        // The steps after the deploy verify it; with none, the flow concludes it at once.
        flow.deployed(config, url.as_deref()).await?;
        Ok(())
    }

    /// The steps after the deploy concluded: the check run and the deployment say how.
    async fn report_outcome(&self, state: ReleaseState) -> anyhow::Result<()> {
        let release = self.release;
        let reason = release
            .reason
            .as_deref()
            .unwrap_or("a step after the deploy failed");
        let (stage, conclusion) = match state {
            ReleaseState::Verified => (Stage::Verified, Conclusion::Success),
            _ => (Stage::Failed(reason), Conclusion::Failure),
        };
        self.check(
            CheckStatus::Completed(conclusion),
            &stage,
            release.url.as_deref(),
        )
        .await?;
        if let (ReleaseState::Failed, Some(deployment)) = (state, release.deployment_id) {
            deployments::set_status(
                &self.gh,
                self.repo(),
                deployment,
                State::Failure,
                release.url.as_deref(),
                self.log_url().as_deref(),
                reason,
            )
            .await?;
        }
        if state == ReleaseState::Verified {
            where_change::released(self.ctx, &self.gh, release).await?;
        }
        // What follows depends on the config (read once for all of it).
        let loaded = self.config().await?;
        if let Some(config) = loaded.usable() {
            self.announce_outcome(config, state, reason).await?;
            if state == ReleaseState::Verified {
                self.follow_promotions(config).await?;
            }
            // Before the outcome is recorded: should the rollback fail half-way, the report
            // is made again, and a rollback already made is found `AlreadyThere`.
            if state == ReleaseState::Failed {
                self.auto_rollback(config).await?;
            }
        }
        self.mark(state, release.reason.as_deref(), None, None, true)
            .await
    }

    /// Open promotion pull requests from this environment move to this release.
    async fn follow_promotions(&self, config: &RepoConfig) -> anyhow::Result<()> {
        promote::follow_upstream(self.ctx, &self.gh, config, self.release)
            .await
            .map_err(|e| anyhow::anyhow!("moving promotion pull requests: {e}"))
    }

    /// `released` or `release_failed` for the config's channels.
    async fn announce_outcome(
        &self,
        config: &RepoConfig,
        state: ReleaseState,
        reason: &str,
    ) -> anyhow::Result<()> {
        let release = self.release;
        let short = crate::github::short_sha(&release.sha);
        let (event, what, text) = match state {
            ReleaseState::Verified => (
                NotifyEvent::Released,
                "is live",
                format!("`{short}` is deployed and every step after the deploy passed."),
            ),
            _ => (
                NotifyEvent::ReleaseFailed,
                "failed",
                format!("`{short}` failed: {reason}"),
            ),
        };
        announce(self.ctx, config, event, release, what, text).await?;
        Ok(())
    }

    /// `auto_rollback: true`: a release that failed its verification goes back to the last
    /// good release, by gitferry itself. Never a rollback's own failure (that would go round
    /// in circles), and only a release that was deployed.
    async fn auto_rollback(&self, config: &RepoConfig) -> anyhow::Result<()> {
        let release = self.release;
        if release.cause == ReleaseCause::Rollback.as_str() || release.deployment_id.is_none() {
            return Ok(());
        }
        let wanted = config
            .environments
            .get(&release.environment)
            .is_some_and(|env| env.auto_rollback);
        if !wanted {
            return Ok(());
        }
        let asked = rollback::Asked {
            repository: self.repo(),
            default_branch: &release.default_branch,
            environment: &release.environment,
            named: None,
            actor: "gitferry",
        };
        let outcome = rollback::rollback(self.ctx, &self.gh, config, &asked)
            .await
            .map_err(|e| anyhow::anyhow!("automatic rollback: {e}"))?;
        info!(
            repository = %self.repo(),
            version = %release.version(),
            outcome = %outcome.reply(&release.environment),
            "automatic rollback"
        );
        Ok(())
    }

    /// The release cannot go (no such environment any more, an invalid config): failed,
    /// saying why, and nothing runs after it.
    async fn refuse(&self, reason: &str) -> anyhow::Result<()> {
        self.check(
            CheckStatus::Completed(Conclusion::Failure),
            &Stage::Failed(reason),
            None,
        )
        .await?;
        self.mark(ReleaseState::Failed, Some(reason), None, None, true)
            .await?;
        Flow::new(self.ctx, self.head())
            .not_deployed(&format!("not run: the release was not deployed ({reason})"))
            .await?;
        Ok(())
    }

    fn target(&self, env: &Environment) -> Result<Target, DeployError> {
        let release = self.release;
        super::target::at(
            &release.repository,
            &release.environment,
            env,
            &release.sha,
            &release.branch,
        )
    }

    async fn apply(
        &self,
        env: &Environment,
        target: &Target,
        log: &RunLog,
    ) -> Result<crate::deploy::Applied, DeployError> {
        let bytes = self
            .ctx
            .tarballs
            .get(&self.gh, self.repo(), &target.sha)
            .await
            .map_err(|e| DeployError::Settings(format!("cannot fetch the commit: {e}")))?;
        log.line(format!(
            "fetched {} ({} KB)",
            target.sha,
            bytes.len() / 1024
        ));
        let checkout = Checkout::unpack(bytes, &self.ctx.settings.work_dir(), &self.ctx.sandbox)
            .await
            .map_err(|e| DeployError::Settings(e.to_string()))?;
        let provider = providers::build(&env.deploy, &self.ctx.settings, self.repo()).await?;
        provider
            .apply(Request {
                target,
                workspace: checkout.workspace(),
                log,
                cancel: self.cancel,
            })
            .await
    }

    /// An interrupted or superseded deploy's deployment goes `inactive` (GitHub never retires
    /// a non-transient environment's deployments by itself, and it would look live).
    async fn retire(&self, deployment: i64, why: &str) {
        if let Err(err) = deployments::set_status(
            &self.gh,
            self.repo(),
            deployment,
            State::Inactive,
            None,
            self.log_url().as_deref(),
            why,
        )
        .await
        {
            warn!(error = %err, deployment, "cannot retire the release's deployment");
        }
    }

    async fn store_log(&self, log: &RunLog) -> anyhow::Result<()> {
        log.flush();
        self.ctx
            .store
            .store_release_log(&self.release.id, self.owner, &log.text(), now_ms())
            .await?;
        Ok(())
    }

    async fn check(
        &self,
        status: CheckStatus,
        stage: &Stage<'_>,
        url: Option<&str>,
    ) -> anyhow::Result<()> {
        let release = self.release;
        let (title, summary) = render::check(release, stage, url);
        let mut spec = CheckRunSpec::new(
            &render::check_name(&release.environment),
            &release.sha,
            &release.id,
            status,
            &title,
            &summary,
        );
        spec.details_url = self.log_url();
        upsert_check_run(&self.gh, self.repo(), &spec).await?;
        Ok(())
    }

    async fn mark(
        &self,
        state: ReleaseState,
        reason: Option<&str>,
        url: Option<&str>,
        deployment_id: Option<i64>,
        done: bool,
    ) -> anyhow::Result<()> {
        let progress = ReleaseProgress {
            state,
            reason,
            url,
            deployment_id,
            done,
        };
        let held = self
            .ctx
            .store
            .mark_release(&self.release.id, self.owner, &progress, now_ms())
            .await?;
        if held && !state.in_flight() {
            self.audit(state, reason).await?;
        }
        Ok(())
    }

    /// How the release ended, in the audit log (once per outcome, whoever reports it).
    async fn audit(&self, state: ReleaseState, reason: Option<&str>) -> anyhow::Result<()> {
        let release = self.release;
        self.ctx
            .store
            .record_audit(&AuditEntry {
                at: now_ms(),
                actor: "gitferry".to_owned(),
                action: format!("release:{}", state.as_str()),
                repository: release.repository.clone(),
                pr: None,
                environment: Some(release.environment.clone()),
                sha: Some(release.sha.clone()),
                outcome: state.as_str().to_owned(),
                detail: Some(match reason {
                    Some(reason) => format!("{}: {reason}", release.version()),
                    None => release.version(),
                }),
                delivery_id: None,
                source_id: Some(format!("release:{}", release.id)),
            })
            .await?;
        Ok(())
    }
}
