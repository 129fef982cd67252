//! The preview reconciler, a periodic tick (`preview.reconcile`): destroys previews past their TTL, retries destroys
//! that failed, and wakes previews waiting for a slot when one is free. (Deploys left
//! unfinished by a process that died need nothing here: their lease lapses and the executor
//! claims them again.)

use std::sync::Arc;
use std::time::Duration;

use super::render::{self, PreviewView, ViewState};
use super::work::EXPIRED;
use crate::app::AppContext;
use crate::github::{InstallationClient, InstallationId};
use crate::jobs::{Scheduler, Tick};
use crate::report::{Section, update_section};
use crate::settings::Settings;
use crate::store::previews::{Preview, PreviewStatus};
use crate::store::{duration_ms, now_ms};

/// The reconcile pass as a tick, every `GITFERRY_RECONCILE_INTERVAL`, on one replica at a time.
pub fn register(ticks: &mut Scheduler<Arc<AppContext>>, settings: &Settings) {
    ticks.register(Tick::new(
        "preview.reconcile",
        settings.reconcile_interval,
        |ctx: Arc<AppContext>, _held| async move { sweep(&ctx).await },
    ));
}

/// One pass over every repository with previews.
pub async fn sweep(ctx: &AppContext) -> anyhow::Result<()> {
    let now = now_ms();
    let mut woke = false;
    for repository in ctx.store.preview_repositories().await? {
        let previews = ctx.store.previews_of(&repository).await?;
        let Some(sample) = previews.first() else {
            continue;
        };
        let gh = ctx
            .github
            .installation(InstallationId::from_stored(sample.installation_id));
        let loaded = ctx
            .configs
            .get(&gh, &ctx.store, &repository, &sample.default_branch)
            .await?;
        let settings = loaded
            .usable()
            .and_then(|c| c.preview_environment())
            .and_then(|(_, env)| env.preview().cloned());
        let prefix = loaded
            .usable()
            .map_or_else(|| "/".to_owned(), |c| c.commands.prefix.clone());
        for preview in &previews {
            woke |= retry_failed_destroy(ctx, preview).await?;
            if let Some(ttl) = settings.as_ref().and_then(|s| s.ttl) {
                woke |= expire(ctx, preview, Duration::from(ttl), now).await?;
            }
        }
        if let Some(max_active) = settings.as_ref().and_then(|s| s.max_active) {
            hand_over_slots(ctx, &gh, &repository, max_active, &prefix).await?;
        }
    }
    if woke {
        ctx.previews.wake();
    }
    Ok(())
}

async fn retry_failed_destroy(ctx: &AppContext, preview: &Preview) -> anyhow::Result<bool> {
    let failed_down = !preview.wants_up()
        && preview.status() == PreviewStatus::Failed
        && preview.generation == preview.done_generation;
    if failed_down {
        ctx.store
            .make_preview_due(&preview.repository, preview.pr)
            .await?;
    }
    Ok(failed_down)
}

async fn expire(
    ctx: &AppContext,
    preview: &Preview,
    ttl: Duration,
    now: i64,
) -> anyhow::Result<bool> {
    let idle = preview.wants_up()
        && matches!(
            preview.status(),
            PreviewStatus::Ready | PreviewStatus::Failed
        )
        && preview.generation == preview.done_generation
        && now - preview.touched_at > duration_ms(ttl);
    if idle {
        let reason = format!(
            "{EXPIRED} after {} without activity",
            humantime::format_duration(ttl)
        );
        ctx.store
            .want_preview_down(&preview.repository, preview.pr, &reason, now)
            .await?;
    }
    Ok(idle)
}

/// Gives free slots to the longest-waiting previews, one atomic store update each, and
/// redraws the place in line of those still waiting. `true` when one was woken.
pub(super) async fn hand_over_slots(
    ctx: &AppContext,
    gh: &InstallationClient,
    repository: &str,
    max_active: u32,
    prefix: &str,
) -> anyhow::Result<bool> {
    let mut woke = false;
    while ctx
        .store
        .wake_next_queued_preview(repository, i64::from(max_active), now_ms())
        .await?
        .is_some()
    {
        woke = true;
    }
    if !woke {
        return Ok(false);
    }
    ctx.previews.wake();
    let identity = ctx.identity().await?;
    let waiting = ctx.store.previews_of(repository).await?;
    let waiting = waiting
        .iter()
        .filter(|p| p.wants_up() && p.status() == PreviewStatus::Queued);
    for (index, preview) in waiting.enumerate() {
        let view = PreviewView {
            state: ViewState::Queued {
                position: index + 1,
                max_active,
            },
            sha: &preview.head_sha,
            url: None,
            log_url: None,
            prefix,
            age: None,
        };
        update_section(
            gh,
            repository,
            preview.pr as u64,
            &identity.bot_login(),
            Section::Preview,
            &render::section(&view),
        )
        .await?;
    }
    Ok(true)
}
