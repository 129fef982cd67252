//! Drift and change reports waiting to be made (`0014_drift.sql`), claimed under a lease (see
//! [`crate::jobs::LeasedQueue`]) by the drift executor, and what each environment's last sweep
//! found.

use std::sync::LazyLock;

use super::{Store, StoreError};
use crate::jobs::{ClaimSql, Holder, LeasedQueue};

/// A report to make: the environment compared at `base_sha` (its current release, or a pull
/// request's base), and for a pull request what `head_sha` would change.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DriftCheck {
    pub id: String,
    pub repository: String,
    pub installation_id: i64,
    pub environment: String,
    /// 0 for the scheduled sweep.
    pub pr: i64,
    pub head_sha: String,
    pub base_sha: String,
    /// The environment's branch.
    pub branch: String,
    /// Where the config is read from.
    pub default_branch: String,
    pub requested_by: Option<String>,
    pub outcome: Option<String>,
    pub fingerprint: Option<String>,
    /// The hash of its report link's token (see `runs::RunLinks::issue`).
    pub token_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// What to ask for.
#[derive(Clone, Copy, Debug)]
pub struct DriftAsk<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub repository: &'a str,
    pub installation_id: i64,
    pub environment: &'a str,
    pub pr: i64,
    pub head_sha: &'a str,
    pub base_sha: &'a str,
    pub branch: &'a str,
    pub default_branch: &'a str,
    pub requested_by: Option<&'a str>,
}

const COLUMNS: &str = "id, repository, installation_id, environment, pr, head_sha, base_sha, \
                       branch, default_branch, requested_by, outcome, fingerprint, token_hash, \
                       created_at, updated_at, finished_at";

const QUEUE: LeasedQueue = LeasedQueue {
    table: "drift_checks",
    key: &["id"],
    holder: Holder::Token("lease_owner"),
    due: "c.due = 1 AND (c.lease_owner IS NULL OR c.lease_until < $2)",
    order: "c.updated_at, c.id",
    on_claim: "",
    held: "",
    returning: COLUMNS,
};

struct Statements {
    claim: ClaimSql,
    renew: String,
    /// Binds `(outcome, fingerprint, now, report)`, then the id and the token.
    finish: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements {
    claim: QUEUE.claim(),
    renew: QUEUE.renew(),
    finish: QUEUE.update_held(
        "outcome = $1, fingerprint = $2, updated_at = $3, finished_at = $3, report = $4,
         due = 0, lease_owner = NULL, lease_until = NULL",
        4,
    ),
});

/// How a check ended.
#[derive(Clone, Copy, Debug)]
pub struct Finished<'a> {
    pub outcome: &'a str,
    pub fingerprint: Option<&'a str>,
    /// The whole report, for `/runs/<id>`.
    pub report: Option<&'a str>,
}

impl Finished<'_> {
    /// An ending without findings (no environment, an error).
    pub fn bare(outcome: &str) -> Finished<'_> {
        Finished {
            outcome,
            fingerprint: None,
            report: None,
        }
    }
}

impl Store {
    /// Asks for a report. A newer ask for the same environment and pull request replaces the
    /// older one, even one being made: its worker loses the row (and its result is dropped).
    pub async fn ask_drift_check(&self, ask: &DriftAsk<'_>, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drift_checks (id, repository, installation_id, environment, pr,
                                       head_sha, base_sha, branch, default_branch,
                                       requested_by, token_hash, due, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, 1, $11, $11)
             ON CONFLICT (repository, environment, pr) DO UPDATE
                SET id = excluded.id, installation_id = excluded.installation_id,
                    token_hash = excluded.token_hash, report = NULL, finished_at = NULL,
                    head_sha = excluded.head_sha, base_sha = excluded.base_sha,
                    branch = excluded.branch, default_branch = excluded.default_branch,
                    requested_by = excluded.requested_by, due = 1, lease_owner = NULL,
                    lease_until = NULL, updated_at = excluded.updated_at",
        )
        .bind(ask.id)
        .bind(ask.repository)
        .bind(ask.installation_id)
        .bind(ask.environment)
        .bind(ask.pr)
        .bind(ask.head_sha)
        .bind(ask.base_sha)
        .bind(ask.branch)
        .bind(ask.default_branch)
        .bind(ask.requested_by)
        .bind(now)
        .bind(ask.token_hash)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Takes the report asked for longest ago, under a lease.
    pub async fn claim_drift_check(
        &self,
        lease_owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<DriftCheck>, StoreError> {
        Ok(
            sqlx::query_as::<_, DriftCheck>(SQL.claim.get(self.dialect()))
                .bind(lease_until)
                .bind(now)
                .bind(lease_owner)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Extends the lease; `false` when it was lost (a newer ask took the row).
    pub async fn renew_drift_lease(
        &self,
        id: &str,
        lease_owner: &str,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sqlx::AssertSqlSafe(SQL.renew.as_str()))
            .bind(lease_until)
            .bind(id)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the outcome while the worker holds the lease; `false` when it no longer does
    /// (a newer ask replaced this one: its result is not to be shown).
    pub async fn finish_drift_check(
        &self,
        id: &str,
        lease_owner: &str,
        finished: &Finished<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sqlx::AssertSqlSafe(SQL.finish.as_str()))
            .bind(finished.outcome)
            .bind(finished.fingerprint)
            .bind(now)
            .bind(finished.report)
            .bind(id)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The check `id` and its whole report, for `/runs/<id>`.
    pub async fn drift_report(
        &self,
        id: &str,
    ) -> Result<Option<(DriftCheck, Option<String>)>, StoreError> {
        let check = sqlx::query_as::<_, DriftCheck>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM drift_checks WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(check) = check else {
            return Ok(None);
        };
        let (report,): (Option<String>,) =
            sqlx::query_as("SELECT report FROM drift_checks WHERE id = $1")
                .bind(id)
                .fetch_one(self.pool())
                .await?;
        Ok(Some((check, report)))
    }

    /// The last report of the environment for pull request `pr` (0: the sweep).
    pub async fn drift_check(
        &self,
        repository: &str,
        environment: &str,
        pr: i64,
    ) -> Result<Option<DriftCheck>, StoreError> {
        Ok(sqlx::query_as::<_, DriftCheck>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM drift_checks
              WHERE repository = $1 AND environment = $2 AND pr = $3"
        )))
        .bind(repository)
        .bind(environment)
        .bind(pr)
        .fetch_optional(self.pool())
        .await?)
    }
}

/// What the last sweep of an environment found.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct EnvironmentDrift {
    pub repository: String,
    pub environment: String,
    /// Of the drifted objects and fields; `None` in sync.
    pub fingerprint: Option<String>,
    /// How many objects drifted.
    pub drifted: i64,
    /// The open "Drift in <env>" issue.
    pub issue_number: Option<i64>,
    pub checked_at: i64,
}

impl Store {
    /// The environment's last sweep, if it had one.
    pub async fn environment_drift(
        &self,
        repository: &str,
        environment: &str,
    ) -> Result<Option<EnvironmentDrift>, StoreError> {
        Ok(sqlx::query_as::<_, EnvironmentDrift>(
            "SELECT repository, environment, fingerprint, drifted, issue_number, checked_at
               FROM drift_environments WHERE repository = $1 AND environment = $2",
        )
        .bind(repository)
        .bind(environment)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Records what a sweep found.
    pub async fn record_environment_drift(
        &self,
        found: &EnvironmentDrift,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drift_environments (repository, environment, fingerprint, drifted,
                                             issue_number, checked_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (repository, environment) DO UPDATE
                SET fingerprint = excluded.fingerprint, drifted = excluded.drifted,
                    issue_number = excluded.issue_number, checked_at = excluded.checked_at",
        )
        .bind(&found.repository)
        .bind(&found.environment)
        .bind(&found.fingerprint)
        .bind(found.drifted)
        .bind(found.issue_number)
        .bind(found.checked_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// When each environment's sweep was last asked for: `(repository, environment, at)`.
    pub async fn drift_sweeps(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT repository, environment, updated_at FROM drift_checks WHERE pr = 0",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::TestStore;

    fn ask<'a>(id: &'a str, head: &'a str) -> DriftAsk<'a> {
        DriftAsk {
            id,
            token_hash: "",
            repository: "octocat/shop",
            installation_id: 1,
            environment: "staging",
            pr: 7,
            head_sha: head,
            base_sha: "base",
            branch: "latest",
            default_branch: "main",
            requested_by: Some("mona"),
        }
    }

    #[tokio::test]
    async fn a_newer_ask_takes_the_row_from_the_worker_making_the_older_report() {
        for t in TestStore::all().await {
            let s = &t.store;
            s.ask_drift_check(&ask("d1", "aaa"), 1_000).await.unwrap();
            let first = s
                .claim_drift_check("w1", 61_000, 1_000)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(first.head_sha, "aaa");
            assert!(
                s.claim_drift_check("w2", 61_000, 1_001)
                    .await
                    .unwrap()
                    .is_none(),
                "{}: one worker per report",
                t.dialect
            );
            s.ask_drift_check(&ask("d2", "bbb"), 2_000).await.unwrap();
            assert!(!s.renew_drift_lease("d1", "w1", 90_000).await.unwrap());
            assert!(
                !s.finish_drift_check("d1", "w1", &Finished::bare("drifted"), 2_001)
                    .await
                    .unwrap(),
                "{}: the older report is dropped",
                t.dialect
            );
            let second = s
                .claim_drift_check("w2", 62_000, 2_002)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (second.id.as_str(), second.head_sha.as_str()),
                ("d2", "bbb")
            );
            assert!(
                s.finish_drift_check(
                    "d2",
                    "w2",
                    &Finished {
                        outcome: "in_sync",
                        fingerprint: None,
                        report: Some("all in sync"),
                    },
                    2_003
                )
                .await
                .unwrap()
            );
            let kept = s
                .drift_check("octocat/shop", "staging", 7)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(kept.outcome.as_deref(), Some("in_sync"));
            let (_, report) = s.drift_report("d2").await.unwrap().unwrap();
            assert_eq!(report.as_deref(), Some("all in sync"));
            assert!(
                s.claim_drift_check("w3", 70_000, 3_000)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}
