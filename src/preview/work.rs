//! One unit of preview work, claimed by the executor: deploy the head (or park the preview:
//! waiting for a fork approval or a free slot), or destroy it. Each deploy or destroy is a
//! run with a stored log; GitHub hears of it through a Deployment, the `gitferry/preview`
//! check run and the sticky comment.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::deployments::{self, State};
use super::render::{self, PreviewView, ViewState};
use super::{decide, executor, providers, reconcile, runs};
use crate::app::AppContext;
use crate::checkout::Checkout;
use crate::config_source::Loaded;
use crate::deploy::{DeployError, DeployLog, Request, Target, namespace};
use crate::github::{InstallationClient, InstallationId};
use crate::repo_config::{Deploy, Environment, RepoConfig, TemplateValues};
use crate::report::checks::{CheckStatus, Conclusion, check_name};
use crate::report::{CheckRunSpec, Section, update_section, upsert_check_run};
use crate::store::previews::{Preview, PreviewOutcome, PreviewRun, PreviewStatus};
use crate::store::{duration_ms, now_ms};

/// A `want_preview_down` reason starting with this marks a TTL expiry.
pub const EXPIRED: &str = "expired";

/// Errors that end this attempt without an outcome: the lease lapses and the work is taken
/// again later (GitHub or the store being unavailable is no reason to report a failure).
type Attempt = anyhow::Result<()>;

pub async fn process(ctx: Arc<AppContext>, preview: Preview, owner: &str, stop: CancellationToken) {
    let cancel = stop.child_token();
    ctx.previews
        .track(&preview.repository, preview.pr, cancel.clone());
    let heartbeat = tokio::spawn(heartbeat(
        Arc::clone(&ctx),
        preview.clone(),
        owner.to_owned(),
        cancel.clone(),
    ));
    let work = Work {
        ctx: &ctx,
        gh: ctx
            .github
            .installation(InstallationId(preview.installation_id as u64)),
        preview: &preview,
        owner,
        cancel: &cancel,
        stop: &stop,
    };
    let result = if preview.wants_up() {
        work.deploy().await
    } else {
        work.destroy().await
    };
    heartbeat.abort();
    ctx.previews.untrack(&preview.repository, preview.pr);
    if let Err(err) = result {
        let error = format!("{err:#}");
        warn!(
            repository = %preview.repository,
            pr = preview.pr,
            error,
            "preview work failed; it is tried again shortly"
        );
        retry_soon(&ctx, &preview, owner, &error).await;
    }
}

/// How long after an attempt that gave up (GitHub or the store unavailable beyond the
/// client's own retries) the preview is tried again.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// Ends the attempt's run as failed (never left running) and lets the lease lapse in
/// [`RETRY_AFTER`] instead of the whole lease, so the preview is taken up again soon.
async fn retry_soon(ctx: &AppContext, preview: &Preview, owner: &str, error: &str) {
    let reason = format!("could not finish ({error}); trying again");
    let ended = ctx
        .store
        .fail_running_preview_runs(&preview.repository, preview.pr, "", &reason, now_ms())
        .await;
    let shortened = ctx
        .store
        .renew_preview_lease(
            &preview.repository,
            preview.pr,
            owner,
            now_ms() + duration_ms(RETRY_AFTER),
        )
        .await;
    if let Err(err) = ended.and(shortened) {
        warn!(error = %err, "cannot schedule the preview's retry; it waits for its lease");
    }
}

/// Renews the lease, and cancels the work when the preview is wanted differently meanwhile
/// (a push, a destroy; possibly written by another process) or the lease was lost.
async fn heartbeat(
    ctx: Arc<AppContext>,
    preview: Preview,
    owner: String,
    cancel: CancellationToken,
) {
    loop {
        tokio::time::sleep(executor::LEASE / 3).await;
        let until = now_ms() + duration_ms(executor::LEASE);
        match ctx
            .store
            .renew_preview_lease(&preview.repository, preview.pr, &owner, until)
            .await
        {
            Ok(Some(generation)) if generation == preview.generation => {}
            Ok(_) => {
                cancel.cancel();
                return;
            }
            Err(err) => warn!(error = %err, "renewing a preview lease failed"),
        }
    }
}

struct Work<'a> {
    ctx: &'a AppContext,
    gh: InstallationClient,
    preview: &'a Preview,
    owner: &'a str,
    /// Superseded or shutting down.
    cancel: &'a CancellationToken,
    /// Shutting down only.
    stop: &'a CancellationToken,
}

/// The environment a preview deploys to, from the default branch's config.
struct Setup<'a> {
    config: &'a RepoConfig,
    name: &'a str,
    env: &'a Environment,
}

/// An outcome that keeps what is deployed as it is.
fn unchanged(preview: &Preview, status: PreviewStatus) -> PreviewOutcome<'_> {
    PreviewOutcome {
        status,
        deployed_sha: preview.deployed_sha.as_deref(),
        namespace: preview.namespace.as_deref(),
        url: preview.url.as_deref(),
        deployment_id: preview.deployment_id,
        run_id: preview.run_id.as_deref(),
        reason: preview.reason.as_deref(),
    }
}

impl Work<'_> {
    fn repo(&self) -> &str {
        &self.preview.repository
    }

    async fn deploy(&self) -> Attempt {
        let loaded = self.config().await?;
        let Some(setup) = setup_of(&loaded) else {
            let outcome = PreviewOutcome {
                reason: Some("the config on the default branch has no preview environment"),
                ..unchanged(self.preview, PreviewStatus::Failed)
            };
            self.finish(&outcome).await?;
            return Ok(());
        };
        let Some(settings) = setup.env.preview() else {
            return Ok(());
        };
        let preview = self.preview;
        if !decide::may_deploy(
            settings,
            preview.is_fork(),
            &preview.head_sha,
            preview.approved_sha.as_deref(),
        ) {
            return self
                .park(
                    &setup,
                    PreviewStatus::AwaitingApproval,
                    ViewState::AwaitingApproval,
                )
                .await;
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
            return self.park(&setup, PreviewStatus::Queued, state).await;
        }
        self.run_deploy(&setup).await
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
        setup: &Setup<'_>,
        status: PreviewStatus,
        state: ViewState<'_>,
    ) -> Attempt {
        // Reported first, recorded after: if GitHub fails, the work stays due and is retried.
        let view = self.view(setup, state, None, None);
        self.section(&view).await?;
        let title = match status {
            PreviewStatus::Queued => "Waiting for a free preview slot",
            _ => "Waiting for a maintainer's approval",
        };
        self.check(CheckStatus::Queued, title, &render::section(&view), None)
            .await?;
        self.finish(&unchanged(self.preview, status)).await?;
        Ok(())
    }

    async fn run_deploy(&self, setup: &Setup<'_>) -> Attempt {
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
        let deployment =
            deployments::create(&self.gh, self.repo(), preview.pr, sha, &run.id).await?;
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
        let view = self.view(setup, ViewState::Deploying, None, Some(&run.log_url));
        self.section(&view).await?;
        self.check(
            CheckStatus::InProgress,
            "Deploying the preview",
            &render::section(&view),
            Some(&run.log_url),
        )
        .await?;

        let log = DeployLog::default();
        let target = self.target(setup, sha);
        let result = match &target {
            Ok(target) => self.apply(setup, target, &log).await,
            Err(err) => Err(DeployError::InvalidNamespace {
                rendered: err.0.clone(),
                reason: err.1.clone(),
            }),
        };
        let namespace = target.as_ref().ok().and_then(|t| t.namespace.clone());
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
                    ..self.view(setup, ViewState::Ready, url.as_deref(), Some(&run.log_url))
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
                let reason = err.to_string();
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
                    setup,
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
    async fn superseded(&self, run: &StartedRun, log: &DeployLog, deployment: i64) -> Attempt {
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
        setup: &Setup<'_>,
        target: &Target,
        log: &DeployLog,
    ) -> Result<crate::deploy::Applied, DeployError> {
        let checkout = self.checkout(&target.sha, log).await?;
        let provider = providers::build(&setup.env.deploy, &self.ctx.settings).await?;
        log.line(format!(
            "deploying {} at {} with the {} provider",
            self.repo(),
            target.sha,
            providers::name(&setup.env.deploy)
        ));
        let request = Request {
            target,
            workspace: checkout.workspace(),
            log,
            cancel: self.cancel,
        };
        provider.apply(request).await
    }

    async fn checkout(&self, sha: &str, log: &DeployLog) -> Result<Checkout, DeployError> {
        let workspace_error = |what: String| DeployError::Settings(what);
        let bytes = self
            .gh
            .tarball(self.repo(), sha)
            .await
            .map_err(|e| workspace_error(format!("cannot fetch the commit {sha}: {e}")))?;
        log.line(format!("fetched {sha} ({} KB)", bytes.len() / 1024));
        Checkout::unpack(bytes, &self.ctx.settings.work_dir())
            .await
            .map_err(|e| workspace_error(e.to_string()))
    }

    async fn destroy(&self) -> Attempt {
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
        let setup = setup_of(&loaded);
        let has_resources = preview.deployed_sha.is_some()
            || matches!(
                preview.status(),
                PreviewStatus::Deploying | PreviewStatus::Failed
            );
        let Some(setup) = setup.filter(|_| has_resources) else {
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
        let log = DeployLog::default();
        let result = match self.target(&setup, &sha) {
            Ok(target) => self.tear_down(&setup, &target, &log).await,
            Err(err) => Err(DeployError::InvalidNamespace {
                rendered: err.0,
                reason: err.1,
            }),
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
                let ttl = setup
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
                let view = self.view(&setup, state, None, Some(&run.log_url));
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
                self.hand_over_slot(&setup).await
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
    async fn hand_over_slot(&self, setup: &Setup<'_>) -> Attempt {
        let Some(max_active) = setup.env.preview().and_then(|p| p.max_active) else {
            return Ok(());
        };
        let prefix = setup.config.commands.prefix.as_str();
        reconcile::hand_over_slots(self.ctx, &self.gh, self.repo(), max_active, prefix).await?;
        Ok(())
    }

    async fn tear_down(
        &self,
        setup: &Setup<'_>,
        target: &Target,
        log: &DeployLog,
    ) -> Result<(), DeployError> {
        let checkout = match self.checkout(&target.sha, log).await {
            Ok(checkout) => checkout,
            Err(err) => {
                log.line(format!("{err}; destroying from an empty working directory"));
                Checkout::empty(&self.ctx.settings.work_dir())
                    .map_err(|e| DeployError::Settings(e.to_string()))?
            }
        };
        let provider = providers::build(&setup.env.deploy, &self.ctx.settings).await?;
        provider
            .destroy(Request {
                target,
                workspace: checkout.workspace(),
                log,
                cancel: self.cancel,
            })
            .await
    }

    /// The values a deploy gets. `Err((rendered, reason))` when the namespace template gives
    /// no usable name.
    fn target(&self, setup: &Setup<'_>, sha: &str) -> Result<Target, (String, String)> {
        let preview = self.preview;
        let values = TemplateValues {
            pr: u64::try_from(preview.pr).ok(),
            sha,
            branch: &preview.head_ref,
            env: setup.name,
        };
        let rendered = match &setup.env.deploy {
            Deploy::Kubernetes(k) => k.namespace.render(&values),
            Deploy::Command(_) => {
                let name = preview.repository.rsplit('/').next().unwrap_or("preview");
                format!("{name}-pr-{}", preview.pr)
            }
        };
        let namespace = namespace::dns_label(&rendered).map_err(|err| match err {
            DeployError::InvalidNamespace { rendered, reason } => (rendered, reason),
            other => (rendered.clone(), other.to_string()),
        })?;
        Ok(Target {
            repository: preview.repository.clone(),
            environment: setup.name.to_owned(),
            pr: u64::try_from(preview.pr).ok(),
            sha: sha.to_owned(),
            branch: preview.head_ref.clone(),
            base: Some(preview.base_ref.clone()),
            namespace: Some(namespace),
            url: setup.env.url.as_ref().map(|t| t.render(&values)),
        })
    }

    async fn config(&self) -> anyhow::Result<Arc<Loaded>> {
        Ok(self
            .ctx
            .configs
            .get(
                &self.gh,
                &self.ctx.store,
                self.repo(),
                &self.preview.default_branch,
            )
            .await?)
    }

    async fn finish(&self, outcome: &PreviewOutcome<'_>) -> anyhow::Result<bool> {
        Ok(self
            .ctx
            .store
            .finish_preview_work(
                self.repo(),
                self.preview.pr,
                self.owner,
                self.preview.generation,
                outcome,
                now_ms(),
            )
            .await?)
    }

    fn view<'v>(
        &'v self,
        setup: &'v Setup<'_>,
        state: ViewState<'v>,
        url: Option<&'v str>,
        log_url: Option<&'v str>,
    ) -> PreviewView<'v> {
        PreviewView {
            state,
            sha: &self.preview.head_sha,
            url,
            log_url,
            prefix: setup.config.commands.prefix.as_str(),
            age: None,
        }
    }

    async fn section(&self, view: &PreviewView<'_>) -> Attempt {
        let identity = self.ctx.identity().await?;
        update_section(
            &self.gh,
            self.repo(),
            self.preview.pr as u64,
            &identity.bot_login(),
            Section::Preview,
            &render::section(view),
        )
        .await?;
        Ok(())
    }

    async fn check(
        &self,
        status: CheckStatus,
        title: &str,
        summary: &str,
        details_url: Option<&str>,
    ) -> Attempt {
        let mut spec = CheckRunSpec::new(
            &check_name("preview"),
            &self.preview.head_sha,
            &format!("preview/pr-{}", self.preview.pr),
            status,
            title,
            summary,
        );
        spec.details_url = details_url.map(str::to_owned);
        upsert_check_run(&self.gh, self.repo(), &spec).await?;
        Ok(())
    }

    async fn start_run(&self, operation: &'static str, sha: &str) -> anyhow::Result<StartedRun> {
        let (id, token) = runs::new_id_and_token()?;
        self.ctx
            .store
            .start_preview_run(&PreviewRun {
                id: id.clone(),
                token_hash: runs::token_hash(&token),
                repository: self.repo().to_owned(),
                pr: self.preview.pr,
                operation: operation.to_owned(),
                sha: sha.to_owned(),
                generation: self.preview.generation,
                state: "running".to_owned(),
                reason: None,
                log: String::new(),
                started_at: now_ms(),
                finished_at: None,
            })
            .await?;
        let log_url = runs::log_url(&self.ctx.settings.public_url(), &id, &token);
        Ok(StartedRun {
            id,
            operation,
            log_url,
            started: std::time::Instant::now(),
        })
    }

    async fn end_run(
        &self,
        run: &StartedRun,
        state: &str,
        reason: Option<&str>,
        log: &DeployLog,
    ) -> Attempt {
        self.ctx
            .store
            .update_preview_run(&run.id, state, reason, &log.text(), Some(now_ms()))
            .await?;
        self.ctx
            .metrics
            .preview_run(run.operation, state, run.started.elapsed().as_secs_f64());
        Ok(())
    }
}

struct StartedRun {
    id: String,
    operation: &'static str,
    log_url: String,
    started: std::time::Instant,
}

fn setup_of(loaded: &Loaded) -> Option<Setup<'_>> {
    let config = loaded.usable()?;
    let (name, env) = config.preview_environment()?;
    Some(Setup { config, name, env })
}
