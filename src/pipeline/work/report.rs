//! Telling GitHub about a step run: its check run `gitferry/<step>`, the sticky comment's
//! tests section, the notifications once the head's pipeline is over, and telling the head's
//! flow the step is done (a deploy waiting for it may go). Everything here is idempotent (the check run is
//! found by its external id, the section is rewritten whole, notifications are deduplicated),
//! so a report that failed half-way is simply made again.

use sha2::{Digest, Sha256};

use super::Work;
use crate::flow::{Head, executor::Flow};
use crate::junit::{self, Report};
use crate::notify::{self, Message};
use crate::pipeline::render::{self, StepStatus, StepView};
use crate::pipeline::summary::StepSummary;
use crate::repo_config::{NotifyEvent, RepoConfig};
use crate::report::checks::{CheckStatus, Conclusion, check_name};
use crate::report::{CheckRunSpec, Section, update_section, upsert_check_run};
use crate::store::now_ms;
use crate::store::pipeline::{PipelineStep, StepConclusion, StepState};

/// What only the process that ran the step has: the parsed report (for annotations).
#[derive(Default)]
pub(super) struct Details {
    pub report: Option<Report>,
}

pub(super) fn conclusion(step: StepConclusion) -> Conclusion {
    match step {
        StepConclusion::Success => Conclusion::Success,
        StepConclusion::Failure => Conclusion::Failure,
        StepConclusion::TimedOut => Conclusion::TimedOut,
        StepConclusion::Cancelled => Conclusion::Cancelled,
        StepConclusion::Skipped => Conclusion::Skipped,
    }
}

fn status_of(run: &PipelineStep) -> StepStatus<'_> {
    match (run.state(), run.conclusion()) {
        (StepState::Waiting, _) => StepStatus::WaitingForDeploy,
        (StepState::Due, _) => StepStatus::Queued,
        (StepState::Running, _) => StepStatus::Running,
        (_, Some(done)) => StepStatus::Finished {
            conclusion: conclusion(done),
            reason: run.reason.as_deref(),
        },
        (_, None) => StepStatus::Running,
    }
}

fn summary_of(run: &PipelineStep) -> Option<StepSummary> {
    run.summary
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}

/// The newest attempt of each step.
fn latest(runs: &[PipelineStep]) -> Vec<&PipelineStep> {
    let mut newest: Vec<&PipelineStep> = Vec::new();
    for run in runs {
        match newest.iter_mut().find(|r| r.step == run.step) {
            Some(slot) if slot.attempt < run.attempt => *slot = run,
            Some(_) => {}
            None => newest.push(run),
        }
    }
    newest
}

impl Work<'_> {
    fn prefix(config: Option<&RepoConfig>) -> String {
        config.map_or_else(|| "/".to_owned(), |c| c.commands.prefix.as_str().to_owned())
    }

    fn check_spec(&self, run: &PipelineStep, view: &StepView<'_>, summary: String) -> CheckRunSpec {
        let mut spec = CheckRunSpec::new(
            &check_name(&run.step),
            &run.sha,
            &run.id,
            match view.status {
                StepStatus::Finished { conclusion, .. } => CheckStatus::Completed(conclusion),
                StepStatus::Running => CheckStatus::InProgress,
                _ => CheckStatus::Queued,
            },
            &render::check_title(view),
            &summary,
        );
        spec.details_url = self.log_url(run);
        spec
    }

    /// The run's log link, derived again from its id (the store keeps only the token's
    /// hash); `None` before the run started.
    fn log_url(&self, run: &PipelineStep) -> Option<String> {
        self.ctx.run_links.shown(&run.id, &run.token_hash)
    }

    /// The run started: its check run says so, with the live log's link.
    pub(super) async fn report_started(&self, config: &RepoConfig) -> anyhow::Result<()> {
        let run = self
            .ctx
            .store
            .pipeline_step(&self.run.id)
            .await?
            .unwrap_or_else(|| self.run.clone());
        let log_url = self.log_url(&run);
        let view = StepView {
            name: &run.step,
            status: StepStatus::Running,
            summary: None,
            log_url: log_url.as_deref(),
            attempt: run.attempt,
        };
        let prefix = Self::prefix(Some(config));
        let summary = render::check_summary(&view, None, &prefix);
        upsert_check_run(
            &self.gh,
            &run.repository,
            &self.check_spec(&run, &view, summary),
        )
        .await?;
        self.update_tests_section(Some(config), &run).await
    }

    /// The run is over: report it everywhere, then mark it done.
    pub(super) async fn report(&self, run: &PipelineStep, details: &Details) -> anyhow::Result<()> {
        let loaded = self.config().await?;
        let config = loaded.usable();
        let prefix = Self::prefix(config);
        let summary = summary_of(run);
        let log_url = self.log_url(run);
        let view = StepView {
            name: &run.step,
            status: status_of(run),
            summary: summary.as_ref(),
            log_url: log_url.as_deref(),
            attempt: run.attempt,
        };
        let text = render::check_summary(&view, details.report.as_ref(), &prefix);
        let mut spec = self.check_spec(run, &view, text);
        if let Some(report) = &details.report {
            spec.annotations = junit::annotations(report);
        }
        upsert_check_run(&self.gh, &run.repository, &spec).await?;
        if run.conclusion() != Some(StepConclusion::Cancelled) {
            self.update_tests_section(config, run).await?;
        }
        if let Some(config) = config {
            self.announce_if_over(config, run).await?;
        }
        self.ctx
            .store
            .finish_pipeline_report(&run.id, self.owner, now_ms())
            .await?;
        // Only once this run is done in the store: a deploy parking at the same moment
        // either sees it done, or is parked already and woken by the flow here.
        if let Some(config) = config {
            Flow::new(self.ctx, Head::of_run(run))
                .step_finished(config, run.is_after_deploy())
                .await?;
        }
        Ok(())
    }

    /// The sticky comment's tests section for the run's head (PR runs only).
    async fn update_tests_section(
        &self,
        config: Option<&RepoConfig>,
        run: &PipelineStep,
    ) -> anyhow::Result<()> {
        if run.pr <= 0 {
            return Ok(());
        }
        let runs = self
            .ctx
            .store
            .pipeline_steps_of(&run.repository, run.pr, &run.branch, &run.sha)
            .await?;
        let newest = latest(&runs);
        let summaries: Vec<Option<StepSummary>> = newest.iter().map(|r| summary_of(r)).collect();
        let log_urls: Vec<Option<String>> = newest.iter().map(|r| self.log_url(r)).collect();
        let views: Vec<StepView<'_>> = newest
            .iter()
            .zip(summaries.iter().zip(&log_urls))
            .map(|(r, (summary, log_url))| StepView {
                name: &r.step,
                status: if r.id == run.id {
                    status_of(run)
                } else {
                    status_of(r)
                },
                summary: summary.as_ref(),
                log_url: log_url.as_deref(),
                attempt: r.attempt,
            })
            .collect();
        let prefix = Self::prefix(config);
        let identity = self.ctx.identity().await?;
        update_section(
            &self.gh,
            &run.repository,
            run.pr as u64,
            &identity.bot_login(),
            Section::Tests,
            &render::tests_section(&views, &run.sha, &prefix),
        )
        .await?;
        Ok(())
    }

    /// The head's pipeline, once over, is announced.
    async fn announce_if_over(
        &self,
        config: &RepoConfig,
        run: &PipelineStep,
    ) -> anyhow::Result<()> {
        if run.pr <= 0 {
            return Ok(());
        }
        let mut runs = self
            .ctx
            .store
            .pipeline_steps_of(&run.repository, run.pr, &run.branch, &run.sha)
            .await?;
        // This run counts as done: it is, once this report is through.
        for r in runs.iter_mut().filter(|r| r.id == run.id) {
            r.state = StepState::Done.as_str().to_owned();
        }
        let newest = latest(&runs);
        if newest.iter().all(|r| r.state() == StepState::Done) {
            self.announce(config, run, &newest).await?;
        }
        Ok(())
    }

    /// `tests_passed` or `tests_failed` for the head, once per set of runs (a `/retest` that
    /// changes the outcome is announced again).
    async fn announce(
        &self,
        config: &RepoConfig,
        run: &PipelineStep,
        newest: &[&PipelineStep],
    ) -> anyhow::Result<()> {
        let concluded: Vec<(&PipelineStep, StepConclusion)> = newest
            .iter()
            .filter_map(|r| r.conclusion().map(|c| (*r, c)))
            .collect();
        let cancelled = concluded
            .iter()
            .any(|(_, c)| *c == StepConclusion::Cancelled);
        let ran = concluded.iter().any(|(_, c)| *c != StepConclusion::Skipped);
        if cancelled || !ran {
            return Ok(());
        }
        let failed: Vec<&PipelineStep> = concluded
            .iter()
            .filter(|(_, c)| matches!(c, StepConclusion::Failure | StepConclusion::TimedOut))
            .map(|(r, _)| *r)
            .collect();
        let event = if failed.is_empty() {
            NotifyEvent::TestsPassed
        } else {
            NotifyEvent::TestsFailed
        };
        let lines: Vec<String> = concluded
            .iter()
            .map(|(r, c)| {
                let summary = summary_of(r);
                let view = StepView {
                    name: &r.step,
                    status: StepStatus::Finished {
                        conclusion: conclusion(*c),
                        reason: r.reason.as_deref(),
                    },
                    summary: summary.as_ref(),
                    log_url: None,
                    attempt: r.attempt,
                };
                format!("{}: {}", r.step, render::check_title(&view))
            })
            .collect();
        let mut links = vec![(
            "pull request".to_owned(),
            notify::pr_url(&self.ctx.settings.github_url, &run.repository, run.pr),
        )];
        if let Some(url) = newest.iter().find_map(|r| r.preview_url.clone()) {
            links.push(("preview".to_owned(), url));
        }
        // References, made links when sent: the outbox keeps no token.
        for r in failed.iter().filter(|r| self.log_url(r).is_some()) {
            links.push((
                format!("{} log", r.step),
                crate::runs::links::log_ref(&r.id),
            ));
        }
        let verdict = if failed.is_empty() {
            "passed"
        } else {
            "failed"
        };
        let message = Message {
            event: crate::notify::event_name(event),
            repository: run.repository.clone(),
            pr: u64::try_from(run.pr).ok(),
            sha: Some(run.sha.clone()),
            actor: run.actor.clone(),
            title: format!(
                "Tests {verdict} on {}#{} at {}",
                run.repository,
                run.pr,
                crate::github::short_sha(&run.sha)
            ),
            text: lines.join("\n"),
            links,
            commit_url: Some(notify::commit_url(
                &self.ctx.settings.github_url,
                &run.repository,
                &run.sha,
            )),
        };
        let secrets = &self.ctx.settings.repo_secrets;
        let message = message.masked(&crate::secrets::repo_masker(
            config,
            &run.repository,
            secrets,
        ));
        let mut ids: Vec<&str> = newest.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        let occurrence = hex::encode(&Sha256::digest(ids.join(",").as_bytes())[..8]);
        notify::queue(&self.ctx.store, config, event, &occurrence, &message).await?;
        Ok(())
    }
}
