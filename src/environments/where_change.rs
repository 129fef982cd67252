//! "Where is my change?": each merged pull request whose commits a release carries gets a
//! line in its sticky comment (in staging since …, then in production since …, and rolled
//! back from production at … when that happens). GitLab shows this on merge requests.

use std::collections::BTreeSet;

use crate::app::AppContext;
use crate::github::{InstallationClient, short_sha};
use crate::report::{Section, update_section};
use crate::store::now_ms;
use crate::store::release_pulls::ReleasedPull;
use crate::store::releases::Release;

/// At most this many commits of one release are asked about (one request each): a release
/// carrying more names the pull requests of its newest ones.
const MAX_COMMITS: usize = 100;

/// The verified `release` brought these pull requests' changes into its environment: record
/// it and tell each of them.
pub async fn released(
    ctx: &AppContext,
    gh: &InstallationClient,
    release: &Release,
) -> anyhow::Result<()> {
    let repo = &release.repository;
    let previous = ctx
        .store
        .good_release_before(repo, &release.environment, release.seq)
        .await?;
    // Since the last good release, or for the environment's first one since what its branch
    // held before (a promotion brings everything staging verified since then).
    let since = previous.map(|p| p.sha).or_else(|| {
        Some(release.before_sha.clone()).filter(|b| !b.is_empty() && !b.chars().all(|c| c == '0'))
    });
    let mut commits = match since.filter(|s| *s != release.sha) {
        Some(previous) => gh
            .compare(repo, &previous, &release.sha)
            .await?
            .commits
            .into_iter()
            .map(|c| c.sha)
            .collect(),
        None => Vec::new(),
    };
    if !commits.contains(&release.sha) {
        commits.push(release.sha.clone());
    }
    let mut prs = BTreeSet::new();
    for sha in commits.iter().rev().take(MAX_COMMITS) {
        for pull in gh.associated_pulls(repo, sha).await? {
            if pull.merged_at.is_some() {
                prs.insert(i64::try_from(pull.number).unwrap_or_default());
            }
        }
    }
    let prs: Vec<i64> = prs.into_iter().filter(|pr| *pr > 0).collect();
    let since = release.finished_at.unwrap_or_else(now_ms);
    ctx.store.record_release_pulls(release, &prs, since).await?;
    tell(ctx, gh, repo, &prs).await
}

/// Rewrites the "where is my change" section of these pull requests.
pub async fn tell(
    ctx: &AppContext,
    gh: &InstallationClient,
    repository: &str,
    prs: &[i64],
) -> anyhow::Result<()> {
    if prs.is_empty() {
        return Ok(());
    }
    let bot = ctx.identity().await?.bot_login();
    for pr in prs {
        let rows = ctx.store.released_pull(repository, *pr).await?;
        let number = u64::try_from(*pr).unwrap_or_default();
        update_section(
            gh,
            repository,
            number,
            &bot,
            Section::Releases,
            &section(&rows),
        )
        .await?;
    }
    Ok(())
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The section (pure): per environment, where the change stands now (its newest row).
pub fn section(rows: &[ReleasedPull]) -> String {
    let mut environments: Vec<&str> = Vec::new();
    for row in rows {
        if !environments.contains(&row.environment.as_str()) {
            environments.push(&row.environment);
        }
    }
    let lines: Vec<String> = environments
        .into_iter()
        .filter_map(|env| rows.iter().rev().find(|r| r.environment == env))
        .map(|row| match row.rolled_back_at {
            Some(at) => format!(
                "- Rolled back from **{}** at {} ({} had it).",
                row.environment,
                time(at),
                row.version
            ),
            None => format!(
                "- In **{}** since {} ({}, `{}`).",
                row.environment,
                time(row.since),
                row.version,
                short_sha(&row.sha)
            ),
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("### 🚢 Where this change is\n\n{}\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(env: &str, version: &str, since: i64, rolled_back_at: Option<i64>) -> ReleasedPull {
        ReleasedPull {
            pr: 7,
            environment: env.into(),
            release_id: version.into(),
            version: version.into(),
            sha: "abcdef1234567890".into(),
            since,
            rolled_back_at,
        }
    }

    #[test]
    fn each_environment_says_where_the_change_stands_now() {
        let hour = 3_600_000;
        let rows = [
            row("staging", "staging-2", 1_796_680_800_000, None),
            row(
                "production",
                "production-4",
                1_796_680_800_000 + hour,
                Some(1_796_680_800_000 + 2 * hour),
            ),
        ];
        assert_eq!(
            section(&rows),
            "### 🚢 Where this change is\n\n\
             - In **staging** since 2026-12-07 22:00 UTC (staging-2, `abcdef1`).\n\
             - Rolled back from **production** at 2026-12-08 00:00 UTC (production-4 had it).\n"
        );
        let again = [
            rows[0].clone(),
            rows[1].clone(),
            row(
                "production",
                "production-6",
                1_796_680_800_000 + 3 * hour,
                None,
            ),
        ];
        assert!(
            section(&again)
                .contains("- In **production** since 2026-12-08 01:00 UTC (production-6")
        );
        assert_eq!(section(&[]), "");
    }
}
