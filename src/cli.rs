//! What each `gitferry` subcommand does, apart from argument parsing (in `main.rs`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::app;
use crate::inbox::envelope::Envelope;
use crate::router::Event;
use crate::server;
use crate::settings::Settings;
use crate::store::audit::{AuditEntry, AuditFilter, AuditJson, parse_since};
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

/// What `gitferry audit` was asked for, as typed.
#[derive(Clone, Debug)]
pub struct AuditQuery {
    pub repository: Option<String>,
    pub environment: Option<String>,
    /// RFC 3339, a date or a duration ago; see [`parse_since`].
    pub since: Option<String>,
    pub limit: i64,
    /// One JSON array instead of aligned lines.
    pub json: bool,
}

/// Prints the audit entries matching `query`, oldest first.
pub async fn list_audit(settings: &Settings, query: AuditQuery) -> anyhow::Result<()> {
    // A bad `--since` is reported before the store is opened (and possibly migrated).
    let since_ms = match &query.since {
        Some(since) => Some(parse_since(since, now_ms()).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let filter = AuditFilter {
        repository: query.repository,
        environment: query.environment,
        since_ms,
        limit: query.limit,
    };
    let store = server::open_store(settings).await?;
    let entries = store.audit_query(&filter).await?;
    if query.json {
        let entries: Vec<AuditJson<'_>> = entries.iter().map(AuditEntry::as_json).collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        println!("no audit entries match");
    } else {
        print!("{}", audit_lines(&entries));
    }
    if i64::try_from(entries.len()).is_ok_and(|n| n >= filter.limit) {
        eprintln!(
            "(the newest {} entries; --since or a larger --limit shows more)",
            filter.limit
        );
    }
    Ok(())
}

/// One line per entry, columns aligned: time (UTC), actor, action, repository#pr,
/// environment, short sha, outcome, then the detail as is. `-` for what an entry lacks.
fn audit_lines(entries: &[AuditEntry]) -> String {
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| {
            let time = chrono::DateTime::from_timestamp_millis(e.at)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_else(|| e.at.to_string());
            let place = match e.pr {
                Some(pr) => format!("{}#{pr}", e.repository),
                None => e.repository.clone(),
            };
            let sha = e.sha.as_deref().map(crate::github::short_sha);
            [
                time,
                e.actor.clone(),
                e.action.clone(),
                place,
                e.environment.clone().unwrap_or_else(|| "-".to_owned()),
                sha.unwrap_or("-").to_owned(),
                e.outcome.clone(),
                e.detail.clone().unwrap_or_default(),
            ]
            .map(|field| printable(&field))
        })
        .collect();
    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, field) in widths.iter_mut().zip(row) {
            *width = (*width).max(field.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (field, width) in row.iter().zip(widths) {
            line.push_str(&format!("{field:<width$}  "));
        }
        line.push_str(&row[7]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A field fit for a terminal line: much of an entry comes from GitHub users (an unknown
/// command's name, a login, a refusal quoting them), so control characters (escape sequences
/// that could rewrite the terminal, line breaks that could forge an entry) are shown escaped.
fn printable(field: &str) -> String {
    field
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actor: &str, action: &str, environment: Option<&str>) -> AuditEntry {
        AuditEntry {
            at: 1_738_314_000_000,
            actor: actor.into(),
            action: action.into(),
            repository: "octocat/shop".into(),
            pr: Some(7),
            sha: Some("abc1234def5678".into()),
            outcome: "refused".into(),
            detail: Some("only admins may promote".into()),
            delivery_id: None,
            source_id: None,
            environment: environment.map(str::to_owned),
        }
    }

    #[test]
    fn audit_lines_are_aligned_columns_with_the_detail_last() {
        let mut release = entry("gitferry", "release", Some("production"));
        release.pr = None;
        release.sha = None;
        release.outcome = "done".into();
        release.detail = None;
        let text = audit_lines(&[entry("bob", "command:promote production", None), release]);
        assert_eq!(
            text,
            "2025-01-31T09:00:00Z  bob       command:promote production  octocat/shop#7  -           abc1234  refused  only admins may promote\n\
             2025-01-31T09:00:00Z  gitferry  release                     octocat/shop    production  -        done\n"
        );
    }

    #[test]
    fn control_characters_from_users_cannot_forge_lines_or_drive_the_terminal() {
        let text = audit_lines(&[entry("mallory", "unknown:x\u{1b}[2J\nforged", None)]);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains(r"unknown:x\u{1b}[2J\nforged"), "{text}");
    }
}
