//! One drift check, made by the executor: the environment compared at the base (its live
//! objects against what Git declares there, or its provider's `status` command), and for a
//! pull request what its head would change (Git against Git). Published as the
//! `gitferry/drift` check run on the head and the drift section of the sticky comment.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::publish::{self, Findings, Part};
use super::{Options, compare, unserved};
use crate::app::AppContext;
use crate::checkout::Checkout;
use crate::deploy::{DeployError, Provider, Request, Target, providers};
use crate::environments::target;
use crate::github::{InstallationClient, InstallationId};
use crate::jobs::Heartbeat;
use crate::repo_config::{DriftMode, Environment, RepoConfig};
use crate::runs::RunLog;
use crate::store::drift::{DriftCheck, Finished};
use crate::store::now_ms;

/// How long a claim holds; renewed while the check runs.
pub const LEASE: Duration = Duration::from_secs(60);

pub async fn process(
    ctx: Arc<AppContext>,
    check: DriftCheck,
    owner: &str,
    stop: CancellationToken,
) {
    let cancel = stop.child_token();
    let heartbeat = {
        let (ctx, id, owner, cancel) = (
            Arc::clone(&ctx),
            check.id.clone(),
            owner.to_owned(),
            cancel.clone(),
        );
        tokio::spawn(async move {
            Heartbeat::new(LEASE)
                .cancel_when_lost("drift check", &cancel, |until| {
                    ctx.store.renew_drift_lease(&id, &owner, until)
                })
                .await;
        })
    };
    let gh = ctx
        .github
        .installation(InstallationId::from_stored(check.installation_id));
    let result = make(&ctx, &gh, &check, owner, &cancel).await;
    heartbeat.abort();
    if let Err(err) = result {
        warn!(repository = %check.repository, environment = %check.environment,
              error = format!("{err:#}"), "drift check failed");
        let _ = ctx
            .store
            .finish_drift_check(&check.id, owner, &Finished::bare("error"), now_ms())
            .await;
    }
}

async fn make(
    ctx: &AppContext,
    gh: &InstallationClient,
    check: &DriftCheck,
    owner: &str,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let loaded = ctx
        .configs
        .get(gh, &ctx.store, &check.repository, &check.default_branch)
        .await?;
    let Some((config, env)) = loaded.usable().and_then(|config| {
        config
            .environments
            .get(&check.environment)
            .map(|env| (config, env))
    }) else {
        ctx.store
            .finish_drift_check(
                &check.id,
                owner,
                &Finished::bare("no environment"),
                now_ms(),
            )
            .await?;
        return Ok(());
    };
    let checker = Checker {
        ctx,
        gh,
        check,
        env,
        cancel,
        log: RunLog::default(),
    };
    let findings = checker.findings(config).await;
    let outcome = findings.outcome();
    let fingerprint = findings.fingerprint();
    let report = publish::full_report(check, &findings);
    let finished = Finished {
        outcome,
        fingerprint: fingerprint.as_deref(),
        report: Some(&report),
    };
    // A newer ask took the row: this result is stale and not shown.
    if !ctx
        .store
        .finish_drift_check(&check.id, owner, &finished, now_ms())
        .await?
    {
        return Ok(());
    }
    if check.pr > 0 {
        publish::on_pull_request(ctx, gh, config, check, &findings).await?;
    } else {
        super::issue::on_environment(ctx, gh, config, check, &findings).await?;
        if outcome == "drifted" && config.drift.mode == DriftMode::Heal {
            super::heal::heal(ctx, gh, check, &checker).await?;
        }
    }
    info!(repository = %check.repository, environment = %check.environment, pr = check.pr,
          outcome, "drift check made");
    Ok(())
}

/// One check's inputs.
pub(super) struct Checker<'a> {
    ctx: &'a AppContext,
    gh: &'a InstallationClient,
    check: &'a DriftCheck,
    pub(super) env: &'a Environment,
    cancel: &'a CancellationToken,
    log: RunLog,
}

impl Checker<'_> {
    async fn findings(&self, config: &RepoConfig) -> Findings {
        let check = self.check;
        let provider =
            match providers::build(&self.env.deploy, &self.ctx.settings, &check.repository).await {
                Ok(provider) => provider,
                Err(err) => {
                    let part = Part::Error(err.to_string());
                    return Findings {
                        changes: (check.pr > 0).then(|| part.clone()),
                        drift: part,
                    };
                }
            };
        let options = Options {
            ignore: config.drift.ignore.iter().map(Into::into).collect(),
            ..Options::default()
        };
        // The base is unpacked once, for what it declares, the cluster and `status`.
        let (base, checkout) = match self.at(&check.base_sha).await {
            Ok(at) => at,
            Err(err) => {
                let part = Part::Error(err);
                return Findings {
                    changes: (check.pr > 0).then(|| part.clone()),
                    drift: part,
                };
            }
        };
        let provider = provider.as_ref();
        let at_base = self.request(&base, &checkout);
        let desired_base = provider.desired(at_base).await.map_err(|e| e.to_string());
        let drift = match &desired_base {
            Ok(Some(desired)) => self.drift(provider, at_base, desired, &options).await,
            Ok(None) => status(provider, at_base).await,
            Err(err) => Part::Error(err.clone()),
        };
        let changes = if check.pr > 0 {
            Some(self.changes(provider, &desired_base).await)
        } else {
            None
        };
        Findings { changes, drift }
    }

    /// Part 2: the environment against what Git declares at the base.
    async fn drift(
        &self,
        provider: &dyn Provider,
        at_base: Request<'_>,
        desired: &[Value],
        options: &Options,
    ) -> Part {
        match provider.observe(at_base).await {
            Ok(observed) => {
                let options = Options {
                    namespace: at_base.target.namespace.clone(),
                    ..options.clone()
                };
                let report = compare(desired, &observed.objects, &options);
                Part::Objects(unserved::named(provider, desired, report).await)
            }
            Err(err) => Part::Error(err.to_string()),
        }
    }

    /// Part 1: what the head declares against what the base declares.
    async fn changes(
        &self,
        provider: &dyn Provider,
        desired_base: &Result<Option<Vec<Value>>, String>,
    ) -> Part {
        let base = match desired_base {
            Ok(Some(base)) => base,
            Ok(None) => return Part::NotApplicable,
            Err(err) => return Part::Error(err.clone()),
        };
        match self.desired(provider, &self.check.head_sha).await {
            Ok(Some(head)) => Part::Objects(super::changes(&head, base, &Options::default())),
            Ok(None) => Part::NotApplicable,
            Err(err) => Part::Error(err),
        }
    }

    /// What Git declares at `sha`; `None` for a provider without objects.
    async fn desired(
        &self,
        provider: &dyn Provider,
        sha: &str,
    ) -> Result<Option<Vec<Value>>, String> {
        let (target, checkout) = self.at(sha).await?;
        provider
            .desired(self.request(&target, &checkout))
            .await
            .map_err(|e| e.to_string())
    }

    fn target(&self, sha: &str) -> Result<Target, DeployError> {
        let check = self.check;
        target::at(
            &check.repository,
            &check.environment,
            self.env,
            sha,
            &check.branch,
        )
    }

    /// The environment at `sha`: its target, and a checkout of the commit.
    pub(super) async fn at(&self, sha: &str) -> Result<(Target, Checkout), String> {
        let target = self.target(sha).map_err(|e| e.to_string())?;
        Ok((target, self.checkout(sha).await?))
    }

    /// A checkout of `sha` (the commit's tarball, fetched once per process and commit).
    async fn checkout(&self, sha: &str) -> Result<Checkout, String> {
        let bytes = self
            .ctx
            .tarballs
            .get(self.gh, &self.check.repository, sha)
            .await
            .map_err(|e| format!("cannot fetch {sha}: {e}"))?;
        Checkout::unpack(bytes, &self.ctx.settings.work_dir(), &self.ctx.sandbox)
            .await
            .map_err(|e| e.to_string())
    }

    pub(super) fn request<'r>(&'r self, target: &'r Target, checkout: &'r Checkout) -> Request<'r> {
        Request {
            target,
            workspace: checkout.workspace(),
            log: &self.log,
            cancel: self.cancel,
        }
    }
}

/// The provider's `status` command, run in a checkout of the base.
async fn status(provider: &dyn Provider, at_base: Request<'_>) -> Part {
    match provider.status_check(at_base).await {
        Ok(Some(status)) => Part::Status(status),
        Ok(None) => Part::NotApplicable,
        Err(err) => Part::Error(err.to_string()),
    }
}
