//! What a scheduled sweep found, told where people look: **one GitHub issue per drifted
//! environment**, "Drift in <env>", edited in place while the drift lasts and closed with a
//! comment once it is gone; a `drift_detected` notification when the set of drifted objects
//! and fields changes (not on every sweep); and the gauge `gitferry_drift_objects`.
//!
//! A sweep that could not compare (the cluster unreachable, a render failing) changes nothing:
//! an error is not "in sync", and it does not close an open issue.

use super::publish::{Findings, Part};
use super::render::{self, View};
use crate::app::AppContext;
use crate::github::{InstallationClient, short_sha};
use crate::notify::{self, Message};
use crate::repo_config::{NotifyEvent, RepoConfig};
use crate::store::drift::{DriftCheck, EnvironmentDrift};
use crate::store::now_ms;

/// GitHub's limit for an issue body is 65,536 characters; the head and foot need the rest.
const BODY_LIMIT: usize = 60_000;

/// The issue's title for `environment`.
pub fn title(environment: &str) -> String {
    format!("Drift in {environment}")
}

pub async fn on_environment(
    ctx: &AppContext,
    gh: &InstallationClient,
    config: &RepoConfig,
    check: &DriftCheck,
    findings: &Findings,
) -> anyhow::Result<()> {
    let repo = &check.repository;
    let env = &check.environment;
    let drifted = match &findings.drift {
        Part::Error(_) => return Ok(()),
        Part::Objects(report) => i64::try_from(report.not_in_sync().count()).unwrap_or(i64::MAX),
        Part::Status(status) => i64::from(status.drifted),
        Part::NotApplicable => 0,
    };
    let before = ctx.store.environment_drift(repo, env).await?;
    let fingerprint = findings.fingerprint();
    let mut issue = before.as_ref().and_then(|b| b.issue_number);
    let mut body = body(check, findings);
    if let Some(link) = ctx.run_links.shown(&check.id, &check.token_hash) {
        body.push_str(&format!("\n[The full report]({link})\n"));
    }
    match (drifted > 0, issue) {
        (true, Some(number)) => {
            gh.update_issue(repo, number as u64, &body, Some("open"))
                .await?;
        }
        (true, None) => {
            issue = gh
                .create_issue(repo, &title(env), &body)
                .await?
                .and_then(|created| i64::try_from(created.number).ok());
        }
        (false, Some(number)) => {
            let gone = format!(
                "The drift is gone: **{env}** matches `{}` (`{}`) again as of this sweep.",
                check.branch,
                short_sha(&check.base_sha)
            );
            let _: Option<serde_json::Value> =
                gh.create_issue_comment(repo, number as u64, &gone).await?;
            gh.update_issue(repo, number as u64, &body, Some("closed"))
                .await?;
            issue = None;
        }
        (false, None) => {}
    }
    let changed =
        fingerprint.is_some() && fingerprint != before.as_ref().and_then(|b| b.fingerprint.clone());
    if changed {
        announce(
            ctx,
            config,
            check,
            fingerprint.as_deref().unwrap_or_default(),
            drifted,
        )
        .await?;
    }
    ctx.store
        .record_environment_drift(&EnvironmentDrift {
            repository: repo.clone(),
            environment: env.clone(),
            fingerprint,
            drifted,
            issue_number: issue,
            checked_at: now_ms(),
        })
        .await?;
    ctx.metrics.drift(repo, env, drifted);
    Ok(())
}

/// The issue's body: what differs, against which release.
fn body(check: &DriftCheck, findings: &Findings) -> String {
    let head = format!(
        "gitferry compares **{}** with its current release (`{}`, on `{}`) on a schedule. \
         This issue is edited while the drift lasts and closed when it is gone.\n\n",
        check.environment,
        short_sha(&check.base_sha),
        check.branch
    );
    let report = match &findings.drift {
        Part::Objects(report) => render::markdown_as(report, BODY_LIMIT, View::Drift),
        Part::Status(status) => format!(
            "Its `status` command reports drift:\n\n```\n{}\n```",
            status.output.chars().take(BODY_LIMIT).collect::<String>()
        ),
        Part::NotApplicable | Part::Error(_) => String::new(),
    };
    format!("{head}{report}\n")
}

/// `drift_detected`, once per set of drifted objects and fields.
async fn announce(
    ctx: &AppContext,
    config: &RepoConfig,
    check: &DriftCheck,
    fingerprint: &str,
    drifted: i64,
) -> anyhow::Result<()> {
    let message = Message {
        event: notify::event_name(NotifyEvent::DriftDetected),
        repository: check.repository.clone(),
        pr: None,
        sha: Some(check.base_sha.clone()),
        actor: None,
        title: format!("Drift in {} ({})", check.environment, check.repository),
        text: format!(
            "{drifted} object{} of {} differ from what `{}` declares.",
            if drifted == 1 { "" } else { "s" },
            check.environment,
            check.branch
        ),
        links: Vec::new(),
        commit_url: Some(notify::commit_url(
            &ctx.settings.github_url,
            &check.repository,
            &check.base_sha,
        )),
    };
    let masker = crate::secrets::repo_masker(config, &check.repository, &ctx.settings.repo_secrets);
    let occurrence = format!("drift:{}:{fingerprint}", check.environment);
    notify::queue(
        &ctx.store,
        config,
        NotifyEvent::DriftDetected,
        &occurrence,
        &message.masked(&masker),
    )
    .await?;
    Ok(())
}
