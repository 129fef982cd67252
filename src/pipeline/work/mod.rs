//! One claimed step run: run it (a `running` run) or tell GitHub how it ended (a `reporting`
//! run). The outcome is recorded before it is reported, and a run whose report failed is only
//! reported again, never run again.

mod env;
mod report;
mod runners;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use runners::Runners;

use super::compare::{self, BaseResult};
use super::executor;
use super::reports::{self, Collected};
use super::runner::{Exit, RunnerError, StepRun};
use super::summary;
use crate::app::AppContext;
use crate::checkout::Checkout;
use crate::config_source::Loaded;
use crate::deploy::Workspace;
use crate::github::{InstallationClient, InstallationId};
use crate::jobs::Heartbeat;
use crate::junit::Limits;
use crate::repo_config::{RunnerKind, Step};
use crate::runs::RunLog;
use crate::store::pipeline::{PipelineStep, StepConclusion, StepOutcome};
use crate::store::{duration_ms, now_ms};

/// How long after an attempt that gave up (GitHub or the store unavailable) it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

pub async fn process(
    ctx: Arc<AppContext>,
    runners: Arc<Runners>,
    run: PipelineStep,
    owner: &str,
    stop: CancellationToken,
) {
    let cancel = stop.child_token();
    ctx.pipeline.track(run.id.clone(), cancel.clone());
    let work = Work {
        ctx: &ctx,
        runners: &runners,
        gh: ctx
            .github
            .installation(InstallationId::from_stored(run.installation_id)),
        run: &run,
        owner,
        cancel: &cancel,
        stop: &stop,
    };
    let result = if run.state() == crate::store::pipeline::StepState::Reporting {
        work.report(&run, &report::Details::default()).await
    } else {
        work.execute().await
    };
    ctx.pipeline.untrack(&run.id);
    if let Err(err) = result {
        warn!(
            repository = %run.repository,
            step = %run.step,
            sha = %run.sha,
            error = format!("{err:#}"),
            "pipeline work failed; it is tried again shortly"
        );
        if let Err(err) = ctx
            .store
            .shorten_pipeline_lease(&run.id, owner, now_ms() + duration_ms(RETRY_AFTER))
            .await
        {
            warn!(error = %err, "cannot schedule the step's retry; it waits for its lease");
        }
    }
}

struct Work<'a> {
    ctx: &'a AppContext,
    runners: &'a Runners,
    gh: InstallationClient,
    run: &'a PipelineStep,
    owner: &'a str,
    /// Superseded, or shutting down.
    cancel: &'a CancellationToken,
    /// Shutting down only.
    stop: &'a CancellationToken,
}

/// What running a step produced, before it is recorded.
struct Ran {
    conclusion: StepConclusion,
    reason: Option<String>,
    exit: Option<String>,
    collected: Collected,
    /// Secrets the step did not get because the head comes from a fork.
    withheld: Vec<String>,
}

impl Work<'_> {
    async fn config(&self) -> anyhow::Result<Arc<Loaded>> {
        Ok(self
            .ctx
            .configs
            .get(
                &self.gh,
                &self.ctx.store,
                &self.run.repository,
                &self.run.default_branch,
            )
            .await?)
    }

    async fn execute(&self) -> anyhow::Result<()> {
        let loaded = self.config().await?;
        let step = loaded
            .usable()
            .and_then(|c| c.step(&self.run.step))
            .cloned();
        let Some((config, step)) = loaded.usable().zip(step) else {
            let reason = "the step is no longer in the config on the default branch";
            return self
                .conclude_without_running(StepConclusion::Skipped, reason)
                .await;
        };
        let from_fork = env::head_is_a_forks(&self.gh, self.run).await?;
        self.issue_log_link().await?;
        self.report_started(config).await?;

        let log = RunLog::default();
        let heartbeat = tokio::spawn(heartbeat(
            self.ctx.store.clone(),
            self.run.id.clone(),
            self.owner.to_owned(),
            log.clone(),
            self.cancel.clone(),
        ));
        let kind = step.runner.unwrap_or(config.runner.kind);
        let ran = self.run_step(config, &step, kind, &log, from_fork).await;
        heartbeat.abort();
        let ran = match ran {
            Some(ran) => ran,
            None => {
                // Shutting down: the run is given back and runs again after the restart.
                self.ctx
                    .store
                    .release_pipeline_step(&self.run.id, self.owner)
                    .await?;
                return Ok(());
            }
        };
        let base = self.base().await?;
        let report = ran.collected.report.as_ref();
        let mut summary = summary::summarize(
            report,
            ran.collected.errors.clone(),
            base.as_ref(),
            ran.exit.clone(),
            &log.text(),
        );
        summary.withheld_secrets = ran.withheld.clone();
        let summary_json = serde_json::to_string(&summary)?;
        let failed = report.map(compare::failed_ids);
        let outcome = StepOutcome {
            conclusion: ran.conclusion,
            reason: ran.reason.as_deref(),
            summary: Some(&summary_json),
            failed_tests: failed.as_deref(),
            log: &log.text(),
        };
        if !self
            .ctx
            .store
            .record_pipeline_outcome(&self.run.id, self.owner, &outcome, now_ms())
            .await?
        {
            warn!(step = %self.run.step, "lost the lease of a step run; its outcome is dropped");
            return Ok(());
        }
        self.ctx.metrics.pipeline_step(
            match kind {
                RunnerKind::Local => "local",
                RunnerKind::Kubernetes => "kubernetes",
            },
            ran.conclusion.as_str(),
            self.started_secs(),
        );
        info!(
            repository = %self.run.repository,
            step = %self.run.step,
            sha = %self.run.sha,
            conclusion = ran.conclusion.as_str(),
            "step finished"
        );
        let recorded = self
            .ctx
            .store
            .pipeline_step(&self.run.id)
            .await?
            .unwrap_or_else(|| self.run.clone());
        let details = report::Details {
            report: ran.collected.report,
        };
        self.report(&recorded, &details).await
    }

    fn started_secs(&self) -> f64 {
        let started = self.run.started_at.unwrap_or_else(now_ms);
        (now_ms() - started).max(0) as f64 / 1000.0
    }

    /// Gives the run its log link: the store keeps its token's hash, and every later report
    /// (by any process) derives the link again ([`crate::runs::RunLinks`]).
    async fn issue_log_link(&self) -> anyhow::Result<()> {
        let issued = self.ctx.run_links.issue(&self.run.id);
        self.ctx
            .store
            .set_pipeline_log_link(&self.run.id, self.owner, &issued.token_hash)
            .await?;
        Ok(())
    }

    /// Runs the step; `None` when gitferry is shutting down.
    async fn run_step(
        &self,
        config: &crate::repo_config::RepoConfig,
        step: &Step,
        kind: RunnerKind,
        log: &RunLog,
        from_fork: bool,
    ) -> Option<Ran> {
        let failed = |reason: String| Ran {
            conclusion: StepConclusion::Failure,
            reason: Some(reason),
            exit: None,
            collected: Collected::default(),
            withheld: Vec::new(),
        };
        let secrets = &self.ctx.settings.repo_secrets;
        let read = |name: &str| secrets.read(&self.run.repository, name);
        let step_env = match env::variables(step, self.run, from_fork, read) {
            Ok(step_env) => step_env,
            Err(err) => return Some(failed(err.to_string())),
        };
        if let Some(note) = step_env.withheld_note() {
            log.line(note);
        }
        let prepared = match self.prepare(kind, log).await {
            Ok(prepared) => prepared,
            Err(reason) => return Some(failed(reason)),
        };
        let masker = step_env.masker(prepared.source_url.as_deref());
        log.mask_with(masker.clone());
        let vars = step_env.vars;
        let runner = match self.runners.get(kind, &config.runner).await {
            Ok(runner) => runner,
            Err(reason) => return Some(failed(reason)),
        };
        let junit: Vec<String> = step.junit.iter().map(|g| g.as_str().to_owned()).collect();
        let result = runner
            .run(StepRun {
                id: &self.run.id,
                repository: &self.run.repository,
                sha: &self.run.sha,
                step: &self.run.step,
                argv: step.run.as_slice(),
                dir: step.dir.as_ref().map(|d| d.as_str()),
                env: &vars,
                timeout: step.timeout.into(),
                junit: &junit,
                workspace: prepared.checkout.workspace(),
                source_url: prepared.source_url.as_deref(),
                log,
                cancel: self.cancel,
            })
            .await;
        let mut ran = match result {
            Err(RunnerError::Cancelled) if self.stop.is_cancelled() => return None,
            Err(RunnerError::Cancelled) => Ran {
                conclusion: StepConclusion::Cancelled,
                reason: Some("a newer push or the pull request's closing superseded it".into()),
                exit: None,
                collected: Collected::default(),
                withheld: Vec::new(),
            },
            Err(RunnerError::Timeout { after }) => Ran {
                conclusion: StepConclusion::TimedOut,
                reason: Some(format!(
                    "did not finish within {}; its processes were stopped",
                    humantime::format_duration(after)
                )),
                exit: Some(format!(
                    "timed out after {}",
                    humantime::format_duration(after)
                )),
                collected: collect(prepared.checkout.workspace(), &junit)
                    .await
                    .masked(&masker),
                withheld: Vec::new(),
            },
            Err(RunnerError::Failed(reason)) => failed(masker.mask(&reason).into_owned()),
            Ok(exit) => self.concluded(
                exit,
                collect(prepared.checkout.workspace(), &junit)
                    .await
                    .masked(&masker),
            ),
        };
        log.line(format!("gitferry: {}", ran.conclusion.as_str()));
        ran.withheld = step_env.withheld;
        Some(ran)
    }

    fn concluded(&self, exit: Exit, collected: Collected) -> Ran {
        let (conclusion, reason) = crate::pipeline::verdict::verdict(&exit, &collected);
        Ran {
            conclusion,
            reason,
            exit: Some(exit.description),
            collected,
            withheld: Vec::new(),
        }
    }

    /// The workspace the runner gets: the commit's files (local), or an empty folder and the
    /// archive's link (Kubernetes, whose pod fetches the source itself).
    async fn prepare(&self, kind: RunnerKind, log: &RunLog) -> Result<Prepared, String> {
        let work_dir = self.ctx.settings.work_dir();
        let (repo, sha) = (&self.run.repository, &self.run.sha);
        match kind {
            RunnerKind::Local => {
                let bytes = self
                    .ctx
                    .tarballs
                    .get(&self.gh, repo, sha)
                    .await
                    .map_err(|e| format!("cannot fetch the commit {sha}: {e}"))?;
                log.line(format!("fetched {sha} ({} KB)", bytes.len() / 1024));
                let checkout = Checkout::unpack(bytes, &work_dir, &self.ctx.sandbox)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Prepared {
                    checkout,
                    source_url: None,
                })
            }
            RunnerKind::Kubernetes => {
                let url = self
                    .gh
                    .tarball_url(repo, sha)
                    .await
                    .map_err(|e| format!("cannot get a link to the commit {sha}: {e}"))?;
                let checkout =
                    Checkout::empty(&work_dir, &self.ctx.sandbox).map_err(|e| e.to_string())?;
                Ok(Prepared {
                    checkout,
                    source_url: Some(url),
                })
            }
        }
    }

    /// The base branch's last run of this step, for PR runs.
    async fn base(&self) -> anyhow::Result<Option<BaseResult>> {
        if self.run.pr == 0 || self.run.base_ref.is_empty() {
            return Ok(None);
        }
        let found = self
            .ctx
            .store
            .base_pipeline_result(&self.run.repository, &self.run.base_ref, &self.run.step)
            .await?;
        Ok(found.map(|(sha, failed)| BaseResult::new(&self.run.base_ref, &sha, failed.as_deref())))
    }

    async fn conclude_without_running(
        &self,
        conclusion: StepConclusion,
        reason: &str,
    ) -> anyhow::Result<()> {
        let outcome = StepOutcome {
            conclusion,
            reason: Some(reason),
            summary: None,
            failed_tests: None,
            log: "",
        };
        if self
            .ctx
            .store
            .record_pipeline_outcome(&self.run.id, self.owner, &outcome, now_ms())
            .await?
        {
            let recorded = self
                .ctx
                .store
                .pipeline_step(&self.run.id)
                .await?
                .unwrap_or_else(|| self.run.clone());
            self.report(&recorded, &report::Details::default()).await?;
        }
        Ok(())
    }
}

struct Prepared {
    /// Removed when dropped, after the step.
    checkout: Checkout,
    source_url: Option<String>,
}

/// Reads the step's reports off the async threads.
async fn collect(workspace: &Workspace, globs: &[String]) -> Collected {
    if globs.is_empty() {
        return Collected::default();
    }
    let root = workspace.root().to_owned();
    let globs = globs.to_vec();
    tokio::task::spawn_blocking(move || reports::collect(&root, &globs, &Limits::default()))
        .await
        .unwrap_or_else(|err| Collected::failed(format!("reading the reports failed: {err}")))
}

/// Renews the lease and saves the log so far (so its link shows progress); cancels the step
/// when the run was superseded by another process's webhook or the lease was lost.
async fn heartbeat(
    store: crate::store::Store,
    id: String,
    owner: String,
    log: RunLog,
    cancel: CancellationToken,
) {
    let (store, id, owner, log) = (&store, id.as_str(), owner.as_str(), &log);
    Heartbeat::new(executor::LEASE)
        .every(HEARTBEAT)
        .cancel_when_lost("a pipeline step", &cancel, |until| async move {
            let cancel_requested = store
                .renew_pipeline_lease(id, owner, until, Some(&log.text()))
                .await?;
            Ok(cancel_requested == Some(false))
        })
        .await;
}

/// How often a running step's lease is renewed and its log saved.
const HEARTBEAT: Duration = Duration::from_secs(5);
