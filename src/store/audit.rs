//! The audit log: every command and operation, allowed or refused (DESIGN.md: "who asked, who
//! approved, what SHA, when, result").
//!
//! Append-only: the application only inserts, and migration 0010 makes the database refuse
//! `UPDATE`, `DELETE` (and on PostgreSQL `TRUNCATE`) on `audit_log`, so whatever gets to run
//! SQL through gitferry's connection cannot rewrite history. Read by `gitferry audit` and
//! `GET /api/audit`, both through [`Store::audit_query`].

use serde::Serialize;

use super::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// When, in Unix epoch milliseconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub repository: String,
    pub pr: Option<i64>,
    /// The environment the operation concerned (a promotion's target, a release's, a
    /// rollback's); `None` where none applies, such as `/retest`.
    pub environment: Option<String>,
    pub sha: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub delivery_id: Option<String>,
    /// What triggered the entry (e.g. `comment:123:2` for the 2nd command of a comment):
    /// recording the same source and action twice is a no-op, so replays do not duplicate.
    pub source_id: Option<String>,
}

/// An entry as `gitferry audit --json` and `GET /api/audit` give it: `time` (`at` in RFC 3339
/// UTC, so readers need not convert epoch milliseconds), then the entry's fields in order.
#[derive(Serialize)]
pub struct AuditJson<'a> {
    pub time: String,
    #[serde(flatten)]
    pub entry: &'a AuditEntry,
}

/// Which entries [`Store::audit_query`] returns; every filter given must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFilter {
    /// `owner/name`.
    pub repository: Option<String>,
    pub environment: Option<String>,
    /// Entries at or after this time (Unix epoch milliseconds); see [`parse_since`].
    pub since_ms: Option<i64>,
    /// At most this many entries: the newest that match, so a bounded read without `since`
    /// shows what happened lately rather than the log's first days.
    pub limit: i64,
}

impl AuditFilter {
    /// What `gitferry audit` and `GET /api/audit` return unless told otherwise.
    pub const DEFAULT_LIMIT: i64 = 100;
    /// The most one API request may ask for, so one request cannot make the server hold the
    /// whole log in memory; the CLI, run by an operator, is not bound by it.
    pub const MAX_API_LIMIT: i64 = 1000;
}

impl Default for AuditFilter {
    fn default() -> Self {
        Self {
            repository: None,
            environment: None,
            since_ms: None,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// A `since` as people write it: an RFC 3339 time (`2025-01-31T09:00:00Z`, any offset), a
/// date (`2025-01-31`, midnight UTC), or a duration before `now_ms` (`2h`, `7d`, `1h 30m`).
/// Returns Unix epoch milliseconds, or a one-line reason.
pub fn parse_since(value: &str, now_ms: i64) -> Result<i64, String> {
    let value = value.trim();
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(time.timestamp_millis());
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc().timestamp_millis());
    }
    if let Ok(ago) = humantime::parse_duration(value) {
        return i64::try_from(ago.as_millis())
            .ok()
            .and_then(|ago| now_ms.checked_sub(ago))
            .ok_or_else(|| format!("since {value:?}: that is too long ago"));
    }
    Err(format!(
        "since {value:?} is neither an RFC 3339 time (2025-01-31T09:00:00Z), a date \
         (2025-01-31) nor a duration ago (2h, 7d)"
    ))
}

impl AuditEntry {
    /// The entry as `gitferry audit --json` and `GET /api/audit` give it.
    pub fn as_json(&self) -> AuditJson<'_> {
        AuditJson {
            time: self.time(),
            entry: self,
        }
    }

    /// `at` as RFC 3339 UTC with milliseconds, e.g. `2025-01-31T09:00:00.123Z`.
    pub fn time(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.at)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_else(|| self.at.to_string())
    }
}

const COLUMNS: &str =
    "at, actor, action, repository, pr, sha, outcome, detail, delivery_id, source_id, environment";

impl Store {
    /// Appends an entry; `false` when this source and action were already recorded.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO audit_log (at, actor, action, repository, pr, sha, outcome, detail,
                                    delivery_id, source_id, environment)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (source_id, action) DO NOTHING",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.repository)
        .bind(entry.pr)
        .bind(&entry.sha)
        .bind(&entry.outcome)
        .bind(&entry.detail)
        .bind(&entry.delivery_id)
        .bind(&entry.source_id)
        .bind(&entry.environment)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// A repository's entries, oldest first.
    pub async fn audit_entries(&self, repository: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE repository = $1 ORDER BY id");
        Ok(sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .fetch_all(self.pool())
            .await?)
    }

    /// The newest `filter.limit` entries matching `filter`, oldest first (by time, then by
    /// insertion for entries of one millisecond).
    pub async fn audit_query(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        // Only these fixed fragments make up the statement; every value is a bound parameter.
        // A condition per filter given (rather than `$1 IS NULL OR …`) lets each query use
        // the index of its filter.
        let mut conditions = Vec::new();
        let mut next = 1;
        let mut placeholder = || {
            let p = format!("${next}");
            next += 1;
            p
        };
        if filter.repository.is_some() {
            conditions.push(format!("repository = {}", placeholder()));
        }
        if filter.environment.is_some() {
            conditions.push(format!("environment = {}", placeholder()));
        }
        if filter.since_ms.is_some() {
            conditions.push(format!("at >= {}", placeholder()));
        }
        let limit = placeholder();
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                 SELECT id, {COLUMNS} FROM audit_log {condition}
                  ORDER BY at DESC, id DESC LIMIT {limit}
             ) AS newest
              ORDER BY at, id"
        );
        let mut query = sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql));
        if let Some(repository) = &filter.repository {
            query = query.bind(repository.clone());
        }
        if let Some(environment) = &filter.environment {
            query = query.bind(environment.clone());
        }
        if let Some(since) = filter.since_ms {
            query = query.bind(since);
        }
        Ok(query
            .bind(filter.limit.max(0))
            .fetch_all(self.pool())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::TestStore;

    const HOUR: i64 = 3_600_000;
    const T0: i64 = 1_738_314_000_000; // 2025-01-31T09:00:00Z

    fn entry(at: i64, repository: &str, environment: Option<&str>, source: &str) -> AuditEntry {
        AuditEntry {
            at,
            actor: "dora".into(),
            action: "command:promote production".into(),
            repository: repository.into(),
            pr: Some(7),
            sha: Some("abc1234def".into()),
            outcome: "allowed".into(),
            detail: None,
            delivery_id: Some("d-1".into()),
            source_id: Some(source.into()),
            environment: environment.map(str::to_owned),
        }
    }

    /// Five entries over five hours, inserted out of time order.
    async fn seed(store: &Store) {
        for e in [
            entry(T0 + 2 * HOUR, "octocat/shop", Some("production"), "s3"),
            entry(T0, "octocat/shop", None, "s1"),
            entry(T0 + HOUR, "octocat/shop", Some("staging"), "s2"),
            entry(T0 + 3 * HOUR, "octocat/blog", Some("production"), "s4"),
            entry(T0 + 4 * HOUR, "octocat/shop", Some("production"), "s5"),
        ] {
            assert!(store.record_audit(&e).await.expect("insert"));
        }
    }

    fn sources(entries: &[AuditEntry]) -> Vec<&str> {
        entries
            .iter()
            .map(|e| e.source_id.as_deref().unwrap_or("-"))
            .collect()
    }

    #[tokio::test]
    async fn audit_query_filters_by_repository_environment_and_time_oldest_first() {
        for db in TestStore::all().await {
            let store = &db.store;
            seed(store).await;
            let query = |filter: AuditFilter| async move {
                let entries = store.audit_query(&filter).await.expect("query");
                sources(&entries)
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            let all = query(AuditFilter::default()).await;
            assert_eq!(all, ["s1", "s2", "s3", "s4", "s5"], "{}", db.dialect);
            let shop = query(AuditFilter {
                repository: Some("octocat/shop".into()),
                ..AuditFilter::default()
            })
            .await;
            assert_eq!(shop, ["s1", "s2", "s3", "s5"], "{}", db.dialect);
            let production = query(AuditFilter {
                environment: Some("production".into()),
                ..AuditFilter::default()
            })
            .await;
            assert_eq!(production, ["s3", "s4", "s5"], "{}", db.dialect);
            let shop_production_lately = query(AuditFilter {
                repository: Some("octocat/shop".into()),
                environment: Some("production".into()),
                since_ms: Some(T0 + 3 * HOUR),
                ..AuditFilter::default()
            })
            .await;
            assert_eq!(shop_production_lately, ["s5"], "{}", db.dialect);
            let since = query(AuditFilter {
                since_ms: Some(T0 + HOUR),
                ..AuditFilter::default()
            })
            .await;
            assert_eq!(since, ["s2", "s3", "s4", "s5"], "{}", db.dialect);
            let nowhere = query(AuditFilter {
                environment: Some("preview".into()),
                ..AuditFilter::default()
            })
            .await;
            assert!(nowhere.is_empty(), "{}", db.dialect);
            let full = store
                .audit_query(&AuditFilter {
                    since_ms: Some(T0 + 4 * HOUR),
                    ..AuditFilter::default()
                })
                .await
                .expect("query");
            assert_eq!(
                full,
                [entry(
                    T0 + 4 * HOUR,
                    "octocat/shop",
                    Some("production"),
                    "s5"
                )],
                "every field, the environment included, comes back: {}",
                db.dialect
            );
        }
    }

    #[tokio::test]
    async fn a_limited_audit_query_keeps_the_newest_entries_in_time_order() {
        for db in TestStore::all().await {
            seed(&db.store).await;
            let entries = db
                .store
                .audit_query(&AuditFilter {
                    limit: 2,
                    ..AuditFilter::default()
                })
                .await
                .expect("query");
            assert_eq!(sources(&entries), ["s4", "s5"], "{}", db.dialect);
            let entries = db
                .store
                .audit_query(&AuditFilter {
                    repository: Some("octocat/shop".into()),
                    limit: 3,
                    ..AuditFilter::default()
                })
                .await
                .expect("query");
            assert_eq!(sources(&entries), ["s2", "s3", "s5"], "{}", db.dialect);
        }
    }

    /// An attacker who gets SQL run through gitferry's own pool (an injection, a compromised
    /// dependency) tries to rewrite history: change an outcome, erase a refusal, replace an
    /// entry by colliding with it, empty the table. The database refuses every one, and the
    /// log reads as before.
    #[tokio::test]
    async fn an_attacker_with_sql_through_the_apps_pool_cannot_rewrite_history() {
        for db in TestStore::all().await {
            let store = &db.store;
            seed(store).await;
            let before = store
                .audit_query(&AuditFilter::default())
                .await
                .expect("query");
            let mut attacks = vec![
                "UPDATE audit_log SET outcome = 'allowed', actor = 'nobody'",
                "UPDATE audit_log SET detail = NULL WHERE source_id = 's3'",
                "DELETE FROM audit_log WHERE source_id = 's3'",
                "DELETE FROM audit_log",
                "INSERT INTO audit_log (at, actor, action, repository, outcome, source_id)
                 VALUES (0, 'mallory', 'command:promote production', 'octocat/shop', 'forged', 's3')
                 ON CONFLICT (source_id, action) DO UPDATE SET outcome = 'forged'",
            ];
            match db.dialect {
                "sqlite" => attacks.extend([
                    "INSERT OR REPLACE INTO audit_log (id, at, actor, action, repository, outcome)
                     VALUES (1, 0, 'mallory', 'forged', 'octocat/shop', 'forged')",
                    "REPLACE INTO audit_log (at, actor, action, repository, outcome, source_id)
                     VALUES (0, 'mallory', 'command:promote production', 'octocat/shop',
                             'forged', 's3')",
                ]),
                _ => attacks.push("TRUNCATE audit_log"),
            }
            for attack in attacks {
                let result = sqlx::raw_sql(sqlx::AssertSqlSafe(attack.to_owned()))
                    .execute(store.pool())
                    .await;
                // The SQLite upsert and REPLACE of an existing (source, action) are skipped
                // rather than refused: either way, nothing changes.
                if let Err(err) = &result {
                    assert!(
                        err.to_string().contains("append-only"),
                        "{}: {attack}: {err}",
                        db.dialect
                    );
                } else {
                    assert!(
                        db.dialect == "sqlite" && attack.contains("'s3'"),
                        "{}: accepted: {attack}",
                        db.dialect
                    );
                }
                let after = store
                    .audit_query(&AuditFilter::default())
                    .await
                    .expect("query");
                assert_eq!(after, before, "{}: {attack}", db.dialect);
            }
            // Appending still works, and a replay is still a quiet no-op.
            let next = entry(T0 + 5 * HOUR, "octocat/shop", None, "s6");
            assert!(store.record_audit(&next).await.expect("append"));
            assert!(!store.record_audit(&next).await.expect("replay"));
        }
    }

    #[test]
    fn since_reads_times_dates_and_durations_ago() {
        let now = T0 + 48 * HOUR;
        assert_eq!(parse_since("2025-01-31T09:00:00Z", now), Ok(T0));
        assert_eq!(parse_since("2025-01-31T10:00:00+01:00", now), Ok(T0));
        assert_eq!(parse_since("2025-01-31", now), Ok(T0 - 9 * HOUR));
        assert_eq!(parse_since("2h", now), Ok(now - 2 * HOUR));
        assert_eq!(parse_since("7d", now), Ok(now - 7 * 24 * HOUR));
        assert_eq!(parse_since(" 1h 30m ", now), Ok(now - 90 * 60_000));
        let err = parse_since("yesterday", now).expect_err("not a time");
        assert!(err.contains("RFC 3339") && err.contains("2h"), "{err}");
        assert!(parse_since("", now).is_err());
        assert!(parse_since("2025-13-01", now).is_err());
        assert!(parse_since("600000000y", now).is_err());
    }

    #[test]
    fn json_entries_carry_a_readable_time() {
        let entry = entry(T0 + 123, "octocat/shop", Some("staging"), "s1");
        let text = serde_json::to_string(&entry.as_json()).expect("JSON");
        assert!(
            text.starts_with(r#"{"time":"2025-01-31T09:00:00.123Z","at":1738314000123,"#),
            "time first, then the fields in order: {text}"
        );
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(json["time"], "2025-01-31T09:00:00.123Z");
        assert_eq!(json["at"], T0 + 123);
        assert_eq!(json["environment"], "staging");
        assert_eq!(json["detail"], serde_json::Value::Null);
    }
}
