//! Delivers queued notifications: one HTTP POST each, retried with backoff, dead after
//! [`MAX_ATTEMPTS`]. A periodic tick (`notify.send`), so one replica sends at a time.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::{Message, channels};
use anyhow::Context as _;

use crate::app::AppContext;
use crate::inbox::backoff::retry_delay;
use crate::jobs::{Held, Scheduler, Tick};
use crate::runs::RunLinks;
use crate::settings::Settings;
use crate::store::notifications::QueuedNotification;
use crate::store::{duration_ms, now_ms};

/// Attempts before a notification is given up (about an hour of backoff from 30 s).
pub const MAX_ATTEMPTS: i64 = 8;
/// How long one POST may take; also the claim's lease.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a send failed, for the log and `last_error` (never the URL: it is a secret).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Not set, or not a variable this repository may name (the operator's allow-list).
    #[error(transparent)]
    Variable(#[from] crate::secrets::SecretError),
    #[error("the request failed: {0}")]
    Request(String),
    #[error("the channel answered {status}: {body}")]
    Refused { status: u16, body: String },
}

/// The sender as the `notify.send` tick, every `GITFERRY_POLL_INTERVAL` on one replica at a
/// time: each run sends every notification that is due.
pub fn register(ticks: &mut Scheduler<Arc<AppContext>>, settings: &Settings) -> anyhow::Result<()> {
    crate::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .build()
        .context("building the notification HTTP client")?;
    ticks.register(Tick::new(
        "notify.send",
        settings.poll_interval,
        move |ctx: Arc<AppContext>, held: Held| {
            let client = client.clone();
            async move { send_due(&ctx, &client, &held).await }
        },
    ));
    Ok(())
}

/// Sends what is due, one at a time, until nothing is (or the lease is lost).
async fn send_due(ctx: &AppContext, client: &reqwest::Client, held: &Held) -> anyhow::Result<()> {
    let retry_base = ctx.settings.notify_retry_backoff;
    while !held.stopped().is_cancelled() {
        let claimed = ctx
            .store
            .claim_notification(now_ms(), duration_ms(SEND_TIMEOUT) * 2)
            .await
            .context("claiming a notification")?;
        let Some(notification) = claimed else {
            break;
        };
        deliver(ctx, client, &notification, retry_base).await;
    }
    Ok(())
}

async fn deliver(
    ctx: &AppContext,
    client: &reqwest::Client,
    notification: &QueuedNotification,
    retry_base: Duration,
) {
    let result = send(
        client,
        &ctx.run_links,
        notification,
        &ctx.settings.repo_secrets,
    )
    .await;
    let outcome = match &result {
        Ok(()) => "sent",
        Err(_) if notification.attempts >= MAX_ATTEMPTS => "dead",
        Err(_) => "failed",
    };
    ctx.metrics.notification(&notification.channel, outcome);
    let stored = match result {
        Ok(()) => {
            info!(channel = %notification.channel, event = %notification.event, "notification sent");
            ctx.store.notification_sent(notification, now_ms()).await
        }
        Err(err) => {
            warn!(
                channel = %notification.channel,
                event = %notification.event,
                repository = %notification.repository,
                attempt = notification.attempts,
                error = %err,
                "notification not delivered"
            );
            let retry_at = (notification.attempts < MAX_ATTEMPTS).then(|| {
                let attempt = u32::try_from(notification.attempts).unwrap_or(u32::MAX);
                now_ms() + duration_ms(retry_delay(attempt, retry_base, None))
            });
            ctx.store
                .notification_failed(notification, &err.to_string(), retry_at)
                .await
        }
    };
    match stored {
        Ok(true) => {}
        // Its lease lapsed mid-send and another attempt owns the row: that one records.
        Ok(false) => warn!(
            channel = %notification.channel,
            event = %notification.event,
            "a notification's lease lapsed before its outcome was recorded"
        ),
        Err(err) => warn!(error = %err, "recording a notification's outcome failed"),
    }
}

async fn send(
    client: &reqwest::Client,
    links: &RunLinks,
    notification: &QueuedNotification,
    secrets: &crate::secrets::RepoSecrets,
) -> Result<(), SendError> {
    let variable = |name: &str| secrets.read(&notification.repository, name);
    let mut url = variable(&notification.url_var)?;
    if let Some(secret_var) = &notification.secret_var {
        url = channels::dingtalk_signed_url(&url, &variable(secret_var)?, now_ms());
    }
    let mut message: Message = serde_json::from_str(&notification.message)
        .map_err(|e| SendError::Request(format!("the stored message is unreadable: {e}")))?;
    // Log links are queued as references (the outbox keeps no token): made links only now.
    for (_, url) in &mut message.links {
        *url = links.resolve(url);
    }
    let body = channels::body(&notification.channel, &message);
    let response = client
        .post(&url)
        .json(&body)
        .send()
        .await
        // Without the URL: reqwest's errors include it, and it is a secret.
        .map_err(|e| SendError::Request(e.without_url().to_string()))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(SendError::Refused {
            status: status.as_u16(),
            body: text.chars().take(200).collect(),
        });
    }
    // DingTalk answers 200 with {"errcode": 310000, …} when it refuses (bad signature).
    if notification.channel == "dingtalk"
        && let Ok(answer) = serde_json::from_str::<serde_json::Value>(&text)
        && answer["errcode"].as_i64().is_some_and(|code| code != 0)
    {
        return Err(SendError::Refused {
            status: status.as_u16(),
            body: text.chars().take(200).collect(),
        });
    }
    Ok(())
}
