//! `drift.mode: heal`: after reporting drift, gitferry applies what the environment's current
//! release declares again (the provider's deploy: server-side apply with force on the fields
//! Git declares, so fields others own and Git does not set are left alone), audits it, says so
//! on the drift issue, and asks for a new check, which closes the issue once it finds the
//! environment in sync.

use tracing::{info, warn};

use super::work::Checker;
use crate::app::AppContext;
use crate::deploy::providers;
use crate::github::{InstallationClient, short_sha};
use crate::store::audit::AuditEntry;
use crate::store::drift::DriftCheck;
use crate::store::now_ms;

pub(super) async fn heal(
    ctx: &AppContext,
    gh: &InstallationClient,
    check: &DriftCheck,
    checker: &Checker<'_>,
) -> anyhow::Result<()> {
    let applied = apply(ctx, check, checker).await;
    let (outcome, detail) = match &applied {
        Ok(()) => (
            "healed",
            format!(
                "re-applied {} at {}",
                check.branch,
                short_sha(&check.base_sha)
            ),
        ),
        Err(err) => ("failed", err.clone()),
    };
    ctx.store
        .record_audit(&AuditEntry {
            at: now_ms(),
            actor: "gitferry".to_owned(),
            action: "drift heal".to_owned(),
            repository: check.repository.clone(),
            pr: None,
            environment: Some(check.environment.clone()),
            sha: Some(check.base_sha.clone()),
            outcome: outcome.to_owned(),
            detail: Some(detail.clone()),
            delivery_id: None,
            source_id: Some(format!("drift-heal:{}", check.id)),
        })
        .await?;
    let issue = ctx
        .store
        .environment_drift(&check.repository, &check.environment)
        .await?
        .and_then(|d| d.issue_number);
    let said = match &applied {
        Ok(()) => format!(
            "`drift.mode: heal`: gitferry applied what `{}` declares (`{}`) again. The next \
             check closes this issue if the environment is in sync.",
            check.branch,
            short_sha(&check.base_sha)
        ),
        Err(err) => format!("`drift.mode: heal`: applying Git's version again failed: {err}"),
    };
    if let Some(number) = issue {
        let _: Option<serde_json::Value> = gh
            .create_issue_comment(&check.repository, number as u64, &said)
            .await?;
    }
    if applied.is_ok() {
        info!(repository = %check.repository, environment = %check.environment, "drift healed");
        let subject = super::ask::Subject {
            repository: &check.repository,
            installation_id: check.installation_id,
            environment: &check.environment,
            pr: 0,
            head_sha: &check.base_sha,
            base_sha: &check.base_sha,
            branch: &check.branch,
            default_branch: &check.default_branch,
            requested_by: None,
        };
        super::ask::submit(ctx, &subject).await?;
    } else {
        warn!(repository = %check.repository, environment = %check.environment, "healing failed");
    }
    Ok(())
}

/// The provider's deploy of the current release, in a fresh checkout.
async fn apply(ctx: &AppContext, check: &DriftCheck, checker: &Checker<'_>) -> Result<(), String> {
    let provider = providers::build(&checker.env.deploy, &ctx.settings, &check.repository)
        .await
        .map_err(|e| e.to_string())?;
    let (target, checkout) = checker.at(&check.base_sha).await?;
    provider
        .apply(checker.request(&target, &checkout))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}
