//! One unit of preview work, claimed by the executor: deploy the head (or park the preview:
//! waiting for a fork approval or a free slot), or destroy it. Each deploy or destroy is a
//! run with a stored log; GitHub hears of it through a Deployment, the `gitferry/preview`
//! check run and the sticky comment.
//!
//! An `Err` from this work ends the attempt without an outcome: the lease lapses and the work
//! is taken again later (GitHub or the store being unavailable is no reason to report a
//! failure).

mod deploy;
mod destroy;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::executor;
use super::render::{self, PreviewView, ViewState};
use crate::app::AppContext;
use crate::checkout::Checkout;
use crate::config_source::Loaded;
use crate::deploy::{DeployError, Target, namespace};
use crate::github::{InstallationClient, InstallationId};
use crate::jobs::Heartbeat;
use crate::repo_config::{Deploy, Environment, RepoConfig, TemplateValues};
use crate::report::checks::{CheckStatus, check_name};
use crate::report::{CheckRunSpec, Section, update_section, upsert_check_run};
use crate::runs::RunLog;
use crate::store::previews::{Preview, PreviewOutcome, PreviewRun, PreviewStatus};
use crate::store::{duration_ms, now_ms};

/// A `want_preview_down` reason starting with this marks a TTL expiry.
pub const EXPIRED: &str = "expired";

pub async fn process(ctx: Arc<AppContext>, preview: Preview, owner: &str, stop: CancellationToken) {
    let cancel = stop.child_token();
    ctx.previews
        .track((preview.repository.clone(), preview.pr), cancel.clone());
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
            .installation(InstallationId::from_stored(preview.installation_id)),
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
    ctx.previews
        .untrack(&(preview.repository.clone(), preview.pr));
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
    let (store, preview, owner) = (&ctx.store, &preview, owner.as_str());
    Heartbeat::new(executor::LEASE)
        .cancel_when_lost("preview work", &cancel, |until| async move {
            let current = store
                .renew_preview_lease(&preview.repository, preview.pr, owner, until)
                .await?;
            Ok(current == Some(preview.generation))
        })
        .await;
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
struct PreviewEnv<'a> {
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

    async fn checkout(&self, sha: &str, log: &RunLog) -> Result<Checkout, DeployError> {
        let workspace_error = |what: String| DeployError::Settings(what);
        let bytes = self
            .ctx
            .tarballs
            .get(&self.gh, self.repo(), sha)
            .await
            .map_err(|e| workspace_error(format!("cannot fetch the commit {sha}: {e}")))?;
        log.line(format!("fetched {sha} ({} KB)", bytes.len() / 1024));
        Checkout::unpack(bytes, &self.ctx.settings.work_dir(), &self.ctx.sandbox)
            .await
            .map_err(|e| workspace_error(e.to_string()))
    }

    /// The values a deploy gets; [`DeployError::InvalidNamespace`] when the namespace
    /// template gives no usable name.
    fn target(&self, preview_env: &PreviewEnv<'_>, sha: &str) -> Result<Target, DeployError> {
        let preview = self.preview;
        let values = TemplateValues {
            pr: u64::try_from(preview.pr).ok(),
            sha,
            branch: &preview.head_ref,
            env: preview_env.name,
        };
        let rendered = match &preview_env.env.deploy {
            Deploy::Kubernetes(k) => k.namespace.render(&values),
            Deploy::Command(_) => {
                let name = preview.repository.rsplit('/').next().unwrap_or("preview");
                format!("{name}-pr-{}", preview.pr)
            }
        };
        let namespace = namespace::dns_label(&rendered)?;
        Ok(Target {
            repository: preview.repository.clone(),
            environment: preview_env.name.to_owned(),
            pr: u64::try_from(preview.pr).ok(),
            sha: sha.to_owned(),
            branch: preview.head_ref.clone(),
            base: Some(preview.base_ref.clone()),
            namespace: Some(namespace),
            url: preview_env.env.url.as_ref().map(|t| t.render(&values)),
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
        preview_env: &'v PreviewEnv<'_>,
        state: ViewState<'v>,
        url: Option<&'v str>,
        log_url: Option<&'v str>,
    ) -> PreviewView<'v> {
        PreviewView {
            state,
            sha: &self.preview.head_sha,
            url,
            log_url,
            prefix: preview_env.config.commands.prefix.as_str(),
            age: None,
        }
    }

    async fn section(&self, view: &PreviewView<'_>) -> anyhow::Result<()> {
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
    ) -> anyhow::Result<()> {
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
        let id = crate::runs::new_id()?;
        let issued = self.ctx.run_links.issue(&id);
        self.ctx
            .store
            .start_preview_run(&PreviewRun {
                id: id.clone(),
                token_hash: issued.token_hash,
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
                log_expired_at: None,
            })
            .await?;
        Ok(StartedRun {
            id,
            operation,
            log_url: issued.url,
            started: std::time::Instant::now(),
        })
    }

    async fn end_run(
        &self,
        run: &StartedRun,
        state: &str,
        reason: Option<&str>,
        log: &RunLog,
    ) -> anyhow::Result<()> {
        log.flush();
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

fn preview_env_of(loaded: &Loaded) -> Option<PreviewEnv<'_>> {
    let config = loaded.usable()?;
    let (name, env) = config.preview_environment()?;
    Some(PreviewEnv { config, name, env })
}
