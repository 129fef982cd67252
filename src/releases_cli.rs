//! `gitferry releases`: an environment's releases, newest first, and which one is its last
//! good release (what `/rollback` returns to).

use anyhow::Context;

use crate::server;
use crate::settings::Settings;
use crate::store::releases::{Release, ReleaseState};

/// How the list is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One aligned line per release.
    Text,
    /// One JSON array.
    Json,
}

pub async fn list(
    settings: &Settings,
    repository: &str,
    environment: Option<&str>,
    limit: i64,
    format: Format,
) -> anyhow::Result<()> {
    let store = server::open_store(settings).await?;
    let releases = store
        .releases_of(repository, environment, limit)
        .await
        .with_context(|| format!("reading the releases of {repository}"))?;
    let mut good = Vec::new();
    for environment in distinct_environments(&releases) {
        if let Some(release) = store.last_good_release(repository, environment).await? {
            good.push(release.id);
        }
    }
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&json(&releases, &good))?,
        Format::Text if releases.is_empty() => match environment {
            Some(env) => format!("{repository} has no releases in {env}"),
            None => format!("{repository} has no releases"),
        },
        Format::Text => lines(&releases, &good),
    };
    println!("{text}");
    Ok(())
}

fn distinct_environments(releases: &[Release]) -> Vec<&str> {
    let mut names: Vec<&str> = releases.iter().map(|r| r.environment.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// `staging-12  abc1234  verified  2026-12-07T10:00:00Z  push by mona  (last good)`.
fn lines(releases: &[Release], good: &[String]) -> String {
    let width = releases
        .iter()
        .map(|r| r.version().len())
        .max()
        .unwrap_or(0);
    releases
        .iter()
        .map(|r| {
            let mut line = format!(
                "{:width$}  {}  {:14}  {}  {} by {}",
                r.version(),
                crate::github::short_sha(&r.sha),
                r.state,
                time(r.created_at),
                r.cause,
                r.actor.as_deref().unwrap_or("gitferry"),
            );
            if r.cause == "promotion" && r.approvers.as_deref() == Some("[]") {
                line.push_str("  (merged by hand: not approved through gitferry)");
            }
            if good.contains(&r.id) {
                line.push_str("  (last good)");
            }
            if let Some(reason) = r
                .reason
                .as_deref()
                .filter(|_| r.state() != Some(ReleaseState::Verified))
            {
                line.push_str(&format!("  — {reason}"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn json(releases: &[Release], good: &[String]) -> serde_json::Value {
    releases
        .iter()
        .map(|r| {
            serde_json::json!({
                "version": r.version(),
                "environment": r.environment,
                "sha": r.sha,
                "state": r.state,
                "cause": r.cause,
                "actor": r.actor,
                "approved_through_gitferry": r.cause != "promotion"
                    || r.approvers.as_deref() != Some("[]"),
                "reason": r.reason,
                "url": r.url,
                "created_at": time(r.created_at),
                "finished_at": r.finished_at.map(time),
                "last_good": good.contains(&r.id),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(id: &str, seq: i64, state: &str, reason: Option<&str>) -> Release {
        Release {
            id: id.into(),
            environment: "staging".into(),
            seq,
            sha: format!("{seq}{}", "a".repeat(39)),
            cause: "push".into(),
            actor: Some("mona".into()),
            state: state.into(),
            reason: reason.map(str::to_owned),
            created_at: 1_796_680_800_000,
            ..Release::default()
        }
    }

    #[test]
    fn the_list_names_versions_shas_states_and_the_last_good_release() {
        let releases = [
            release("r2", 12, "failed", Some("step smoke did not pass")),
            release("r1", 11, "verified", None),
        ];
        let text = lines(&releases, &["r1".to_owned()]);
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].starts_with("staging-12  12aaaaa  failed"), "{text}");
        assert!(rows[0].ends_with("— step smoke did not pass"), "{text}");
        assert!(
            rows[1].contains("verified") && rows[1].ends_with("(last good)"),
            "{text}"
        );
        assert!(rows[1].contains("push by mona"), "{text}");
        let json = json(&releases, &["r1".to_owned()]);
        assert_eq!(json[1]["version"], "staging-11");
        assert_eq!(json[1]["last_good"], true);
        assert_eq!(json[0]["last_good"], false);
    }
}
