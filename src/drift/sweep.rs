//! The scheduled sweep: every branch-bound environment compared with its current release, as
//! often as its repository's `drift.every` says. The tick only asks for checks (a row each, in
//! the drift queue); the drift executor makes them, so a slow cluster never holds the tick.

use std::collections::HashMap;
use std::sync::Arc;

use super::ask::Subject;
use crate::app::AppContext;
use crate::github::InstallationId;
use crate::jobs::{Scheduler, Tick};
use crate::repo_config::Deploy;
use crate::settings::Settings;
use crate::store::now_ms;

pub fn register(ticks: &mut Scheduler<Arc<AppContext>>, settings: &Settings) {
    ticks.register(Tick::new(
        "drift.sweep",
        settings.reconcile_interval,
        |ctx: Arc<AppContext>, _held| async move { sweep(&ctx).await },
    ));
}

/// One pass: asks for the check of each environment whose last one is older than its
/// repository's `drift.every`.
pub async fn sweep(ctx: &AppContext) -> anyhow::Result<()> {
    let now = now_ms();
    let asked: HashMap<(String, String), i64> = ctx
        .store
        .drift_sweeps()
        .await?
        .into_iter()
        .map(|(repository, environment, at)| ((repository, environment), at))
        .collect();
    for release in ctx.store.current_releases().await? {
        let gh = ctx
            .github
            .installation(InstallationId::from_stored(release.installation_id));
        let loaded = ctx
            .configs
            .get(
                &gh,
                &ctx.store,
                &release.repository,
                &release.default_branch,
            )
            .await?;
        let Some(config) = loaded.usable() else {
            continue;
        };
        let Some(env) = config.environments.get(&release.environment) else {
            continue;
        };
        if env.branch().is_none() || matches!(&env.deploy, Deploy::Command(c) if c.status.is_none())
        {
            continue;
        }
        let every = i64::try_from(config.drift.every.get().as_millis()).unwrap_or(i64::MAX);
        let last = asked
            .get(&(release.repository.clone(), release.environment.clone()))
            .copied();
        if last.is_some_and(|at| now.saturating_sub(at) < every) {
            continue;
        }
        let subject = Subject {
            repository: &release.repository,
            installation_id: release.installation_id,
            environment: &release.environment,
            pr: 0,
            head_sha: &release.sha,
            base_sha: &release.sha,
            branch: &release.branch,
            default_branch: &release.default_branch,
            requested_by: None,
        };
        super::ask::submit(ctx, &subject).await?;
    }
    Ok(())
}
