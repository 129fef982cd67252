//! The webhooks that can open or close a promotion's gate: a review of a promotion pull
//! request, another app's check run or status on a candidate, the pull request closing.
//! gitferry's own check runs and statuses (`gitferry/…`) are skipped: the gate writes one, and
//! reacting to it would go round in a circle.

use std::sync::Arc;

use super::promotion::Settle;
use crate::app::AppContext;
use crate::router::{Event, HandlerError, Router};
use crate::store::now_ms;
use crate::store::promotions::Promotion;

pub fn register(router: &mut Router) {
    router.on("pull_request_review", on_review);
    router.on("check_run.completed", on_check_run);
    router.on("status", on_status);
    router.on("pull_request.closed", on_closed);
}

async fn on_review(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let review = event.pull_request_review()?;
    let repo = &review.repository.full_name;
    if let Some(promotion) = ctx
        .store
        .promotion_of_pull(repo, review.pull_request.number)
        .await?
    {
        settle(&ctx, &event, &promotion).await?;
    }
    Ok(())
}

async fn on_check_run(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let check = event.check_run()?;
    if is_gitferrys(&check.check_run.name) {
        return Ok(());
    }
    let repo = check.repository.full_name.clone();
    on_candidate(&ctx, &event, &repo, &check.check_run.head_sha).await
}

async fn on_status(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let status = event.status()?;
    if is_gitferrys(&status.context) {
        return Ok(());
    }
    let repo = status.repository.full_name.clone();
    on_candidate(&ctx, &event, &repo, &status.sha).await
}

async fn on_closed(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let closed = event.pull_request()?;
    let repo = &closed.repository.full_name;
    ctx.store
        .close_promotion(repo, closed.pull_request.number, now_ms())
        .await?;
    Ok(())
}

fn is_gitferrys(name: &str) -> bool {
    name.starts_with("gitferry/")
}

/// A check on `sha` concluded: the open promotions proposing it look again.
async fn on_candidate(
    ctx: &AppContext,
    event: &Event,
    repo: &str,
    sha: &str,
) -> Result<(), HandlerError> {
    for promotion in ctx.store.open_promotions_at(repo, sha).await? {
        settle(ctx, event, &promotion).await?;
    }
    Ok(())
}

async fn settle(
    ctx: &AppContext,
    event: &Event,
    promotion: &Promotion,
) -> Result<(), HandlerError> {
    let loaded = event.config(ctx).await?;
    let Some(config) = loaded.usable() else {
        return Ok(());
    };
    let gh = ctx.github.installation(event.installation()?);
    Settle {
        ctx,
        gh: &gh,
        config,
        promotion,
        delivery_id: Some(&event.delivery_id),
    }
    .run()
    .await?;
    Ok(())
}
