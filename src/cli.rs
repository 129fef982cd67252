//! What each `gitferry` subcommand does, apart from argument parsing (in `main.rs`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::app;
use crate::inbox::envelope::Envelope;
use crate::router::Event;
use crate::server;
use crate::settings::Settings;
use crate::store::{DeliveryState, now_ms, redact_url};

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let signal = server::termination_signal().context("installing signal handlers")?;
    let running = server::start(settings).await?;
    let stop = running.shutdown_token();
    tokio::spawn(async move {
        signal.await;
        tracing::info!("termination signal: draining");
        stop.cancel();
    });
    running.wait().await
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    server::open_store(settings).await?;
    println!(
        "{}: schema up to date",
        redact_url(&settings.database_url())
    );
    Ok(())
}

/// Runs the handlers for one payload in this process, without the inbox.
pub async fn receive(
    mut settings: Settings,
    event: &str,
    body: Vec<u8>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    if dry_run {
        settings.database_url = Some("sqlite::memory:".into());
    }
    let envelope = Envelope::parse(&body)?;
    let router = app::router();
    if !router.handles(event, envelope.action.as_deref()) {
        println!("gitferry does not handle {event} events: nothing to do");
        return Ok(ExitCode::SUCCESS);
    }
    let ctx = server::build_context(settings, dry_run).await?;
    let event = Event::new(
        format!("receive-{}", now_ms()),
        event.to_owned(),
        envelope.action.clone(),
        envelope.installation.as_ref().map(|i| i.id),
        envelope.repository.as_ref().map(|r| r.full_name.clone()),
        &body,
    )?;
    let key = event.key();
    match router.dispatch(Arc::clone(&ctx), Arc::new(event)).await {
        Ok(()) => {
            println!("{key}: processed");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("{key}: failed: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub async fn list_deliveries(
    settings: &Settings,
    state: Option<&str>,
    limit: i64,
) -> anyhow::Result<()> {
    let state = match state {
        None => DeliveryState::Pending,
        Some(name) => DeliveryState::parse(name).with_context(|| {
            format!(
                "unknown state {name:?}: use pending, waiting, processing, done, ignored or dead"
            )
        })?,
    };
    let store = server::open_store(settings).await?;
    let rows = store.list_deliveries(state, limit).await?;
    if rows.is_empty() {
        println!("no {} deliveries", state.as_str());
        return Ok(());
    }
    for row in rows {
        let received = chrono::DateTime::from_timestamp_millis(row.received_at)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        let what = match &row.action {
            Some(action) => format!("{}.{action}", row.event),
            None => row.event.clone(),
        };
        println!(
            "{}  {received}  {what}  {}  attempts={}{}",
            row.delivery_id,
            row.repository.as_deref().unwrap_or("-"),
            row.attempts,
            row.last_error
                .as_deref()
                .map(|e| format!("  last error: {e}"))
                .unwrap_or_default(),
        );
    }
    Ok(())
}

pub async fn retry_delivery(settings: &Settings, delivery_id: &str) -> anyhow::Result<()> {
    let store = server::open_store(settings).await?;
    store.requeue_dead_delivery(delivery_id, now_ms()).await?;
    println!("{delivery_id}: queued again; a running server will process it");
    Ok(())
}
