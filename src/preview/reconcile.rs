//! The preview reconciler, on a timer: destroys previews past their TTL, retries destroys
//! that failed, and wakes previews waiting for a slot when one is free. (Deploys left
//! unfinished by a process that died need nothing here: their lease lapses and the executor
//! claims them again.)

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::work::EXPIRED;
use crate::app::AppContext;
use crate::github::InstallationId;
use crate::store::previews::{Preview, PreviewStatus};
use crate::store::{duration_ms, now_ms};

pub async fn run(ctx: Arc<AppContext>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(ctx.settings.reconcile_interval) => {}
            () = shutdown.cancelled() => return,
        }
        if let Err(err) = sweep(&ctx).await {
            warn!(error = format!("{err:#}"), "reconciling previews failed");
        }
    }
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
            .installation(InstallationId(sample.installation_id as u64));
        let loaded = ctx
            .configs
            .get(&gh, &ctx.store, &repository, &sample.default_branch)
            .await?;
        let settings = loaded
            .usable()
            .and_then(|c| c.preview_environment())
            .and_then(|(_, env)| env.preview().cloned());
        for preview in &previews {
            woke |= retry_failed_destroy(ctx, preview).await?;
            if let Some(ttl) = settings.as_ref().and_then(|s| s.ttl) {
                woke |= expire(ctx, preview, Duration::from(ttl), now).await?;
            }
        }
        if let Some(max_active) = settings.as_ref().and_then(|s| s.max_active) {
            woke |= wake_waiting(ctx, &previews, max_active).await?;
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
            .wake_preview_any(&preview.repository, preview.pr)
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

/// Wakes the longest-waiting queued previews into the free slots.
pub(super) async fn wake_waiting(
    ctx: &AppContext,
    previews: &[Preview],
    max_active: u32,
) -> anyhow::Result<bool> {
    let holding = previews
        .iter()
        .filter(|p| p.wants_up() && p.status().holds_slot())
        .count();
    let free = (max_active as usize).saturating_sub(holding);
    let waiting = previews.iter().filter(|p| {
        p.wants_up() && p.status() == PreviewStatus::Queued && p.generation == p.done_generation
    });
    let mut woke = false;
    for preview in waiting.take(free) {
        ctx.store
            .wake_preview(&preview.repository, preview.pr)
            .await?;
        woke = true;
    }
    Ok(woke)
}
