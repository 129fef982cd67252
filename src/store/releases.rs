//! Releases of branch-bound environments: each push to an environment's branch, numbered per
//! environment, with who caused it and what became of it (`migrations/*/0011_releases.sql`).
//! The last `verified` release is the environment's last good one. A release is also a work
//! item, claimed under a lease (see [`crate::jobs::LeasedQueue`]) by whoever deploys it.

use std::sync::LazyLock;

use super::{Store, StoreError};
use crate::jobs::{ClaimSql, Holder, LeasedQueue};

/// What became of a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseState {
    /// Recorded; its deploy has not started.
    Queued,
    /// Waits for the steps that run before the deploy.
    AwaitingSteps,
    Deploying,
    /// Deployed; the steps after the deploy are checking it.
    Verifying,
    /// Deployed, and every step passed: a good release, one a rollback may return to.
    Verified,
    /// The deploy or a step after it failed.
    Failed,
    /// Not deployed: a step before the deploy did not pass.
    Blocked,
    /// A newer push to the branch came before this one was through.
    Superseded,
    /// Was live, and a rollback took the environment back to an earlier release.
    RolledBack,
}

impl ReleaseState {
    pub const ALL: [ReleaseState; 9] = [
        Self::Queued,
        Self::AwaitingSteps,
        Self::Deploying,
        Self::Verifying,
        Self::Verified,
        Self::Failed,
        Self::Blocked,
        Self::Superseded,
        Self::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::AwaitingSteps => "awaiting_steps",
            Self::Deploying => "deploying",
            Self::Verifying => "verifying",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Blocked => "blocked",
            Self::Superseded => "superseded",
            Self::RolledBack => "rolled_back",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the release is still on its way (a newer push supersedes it).
    pub fn in_flight(self) -> bool {
        matches!(
            self,
            Self::Queued | Self::AwaitingSteps | Self::Deploying | Self::Verifying
        )
    }
}

/// What caused a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseCause {
    /// A push or merge to the environment's branch.
    Push,
    /// gitferry merged an approved promotion.
    Promotion,
    /// gitferry took the environment back to an earlier release.
    Rollback,
}

impl ReleaseCause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Promotion => "promotion",
            Self::Rollback => "rollback",
        }
    }
}

/// A release as stored (its log is read apart, like every run's).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Release {
    pub id: String,
    pub token_hash: String,
    pub repository: String,
    pub environment: String,
    pub seq: i64,
    pub sha: String,
    pub before_sha: String,
    pub branch: String,
    pub default_branch: String,
    pub installation_id: i64,
    pub cause: String,
    pub actor: Option<String>,
    pub approvers: Option<String>,
    pub rollback_of: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub url: Option<String>,
    pub deployment_id: Option<i64>,
    pub due: i64,
    pub lease_owner: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Release {
    /// `staging-12`: the environment and its sequence number.
    pub fn version(&self) -> String {
        format!("{}-{}", self.environment, self.seq)
    }

    pub fn state(&self) -> Option<ReleaseState> {
        ReleaseState::parse(&self.state)
    }
}

/// A release and its log.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReleaseLog {
    #[sqlx(flatten)]
    pub release: Release,
    pub log: String,
    pub log_expired_at: Option<i64>,
}

/// A push to record as a release.
#[derive(Clone, Copy, Debug)]
pub struct NewRelease<'a> {
    pub id: &'a str,
    /// The hash of its log link's token (see `runs::RunLinks::issue`).
    pub token_hash: &'a str,
    pub repository: &'a str,
    pub environment: &'a str,
    pub sha: &'a str,
    pub before_sha: &'a str,
    pub branch: &'a str,
    pub default_branch: &'a str,
    pub installation_id: i64,
    pub cause: ReleaseCause,
    pub actor: Option<&'a str>,
    pub approvers: Option<&'a str>,
    pub rollback_of: Option<&'a str>,
}

/// A release just recorded, and the ids of the releases of its environment it superseded
/// (whose work in hand is to stop).
#[derive(Debug)]
pub struct Recorded {
    pub release: Release,
    pub superseded: Vec<String>,
}

const COLUMNS: &str = "id, token_hash, repository, environment, seq, sha, before_sha, branch, \
                       default_branch, installation_id, cause, actor, approvers, rollback_of, \
                       state, reason, url, deployment_id, due, lease_owner, created_at, \
                       updated_at, finished_at";

const QUEUE: LeasedQueue = LeasedQueue {
    table: "releases",
    key: &["id"],
    holder: Holder::Token("lease_owner"),
    due: "c.due = 1 AND (c.lease_owner IS NULL OR c.lease_until < $2)",
    order: "c.created_at, c.id",
    on_claim: "",
    held: "",
    returning: COLUMNS,
};

/// The statements on claimed releases, built once from [`QUEUE`].
struct Statements {
    claim: ClaimSql,
    /// Returns the state: a superseded release's worker stops.
    renew: String,
    /// Binds `(state, reason, url, deployment_id, updated_at, done)`, then the id and the
    /// token. `done` (1) ends the work: the release is no longer due and the lease goes.
    mark: String,
    /// Binds `(log, now)`, then the id and the token.
    log: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements {
    claim: QUEUE.claim(),
    renew: format!("{} RETURNING state", QUEUE.renew()),
    mark: QUEUE.update_held(
        "state = $1, reason = $2, url = COALESCE($3, url),
         deployment_id = COALESCE($4, deployment_id), updated_at = $5,
         due = CASE WHEN $6 = 1 THEN 0 ELSE due END,
         finished_at = CASE WHEN $6 = 1 THEN $5 ELSE finished_at END,
         lease_owner = CASE WHEN $6 = 1 THEN NULL ELSE lease_owner END,
         lease_until = CASE WHEN $6 = 1 THEN NULL ELSE lease_until END",
        6,
    ),
    log: QUEUE.update_held("log = $1, updated_at = $2", 2),
});

/// How often recording retries when another process took the next number at the same moment.
const RECORD_ATTEMPTS: usize = 5;

/// A release's progress, written by the worker that holds it.
#[derive(Clone, Copy, Debug)]
pub struct ReleaseProgress<'a> {
    pub state: ReleaseState,
    pub reason: Option<&'a str>,
    pub url: Option<&'a str>,
    pub deployment_id: Option<i64>,
    /// The work is over (an outcome, or parked until something wakes it).
    pub done: bool,
}

impl Store {
    /// Records a push as its environment's next release and supersedes the environment's
    /// releases still in flight. `None` when this push (same sha from the same `before`) was
    /// recorded already: a redelivered webhook releases nothing twice, whichever process
    /// handles it.
    pub async fn record_release(
        &self,
        new: &NewRelease<'_>,
        now: i64,
    ) -> Result<Option<Recorded>, StoreError> {
        let insert = format!(
            "INSERT INTO releases (id, repository, environment, seq, sha, before_sha, branch,
                                   default_branch, installation_id, cause, actor, approvers,
                                   rollback_of, state, created_at, updated_at, token_hash)
             SELECT $1, $2, $3, COALESCE(MAX(seq), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11,
                    $12, 'queued', $13, $13, $14
               FROM releases WHERE repository = $2 AND environment = $3
             ON CONFLICT DO NOTHING
             RETURNING {COLUMNS}"
        );
        for _ in 0..RECORD_ATTEMPTS {
            let inserted = sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(insert.clone()))
                .bind(new.id)
                .bind(new.repository)
                .bind(new.environment)
                .bind(new.sha)
                .bind(new.before_sha)
                .bind(new.branch)
                .bind(new.default_branch)
                .bind(new.installation_id)
                .bind(new.cause.as_str())
                .bind(new.actor)
                .bind(new.approvers)
                .bind(new.rollback_of)
                .bind(now)
                .bind(new.token_hash)
                .fetch_optional(self.pool())
                .await?;
            if let Some(release) = inserted {
                let superseded = self.supersede_releases(&release, now).await?;
                return Ok(Some(Recorded {
                    release,
                    superseded,
                }));
            }
            let recorded: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM releases
                  WHERE repository = $1 AND environment = $2 AND sha = $3 AND before_sha = $4",
            )
            .bind(new.repository)
            .bind(new.environment)
            .bind(new.sha)
            .bind(new.before_sha)
            .fetch_optional(self.pool())
            .await?;
            if recorded.is_some() {
                return Ok(None);
            }
            // Another process took this number for another push: take the next one.
        }
        Err(StoreError::Conflict(format!(
            "no release number for {}@{} in {} after {RECORD_ATTEMPTS} attempts",
            new.repository, new.sha, new.environment
        )))
    }

    /// The environment's earlier releases still in flight are superseded by `newer`.
    async fn supersede_releases(
        &self,
        newer: &Release,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let reason = format!("superseded by {}", newer.version());
        let rows: Vec<(String,)> = sqlx::query_as(
            "UPDATE releases
                SET state = 'superseded', reason = $1, due = 0, updated_at = $2,
                    finished_at = $2
              WHERE repository = $3 AND environment = $4 AND seq < $5
                AND state IN ('queued', 'awaiting_steps', 'deploying', 'verifying')
             RETURNING id",
        )
        .bind(&reason)
        .bind(now)
        .bind(&newer.repository)
        .bind(&newer.environment)
        .bind(newer.seq)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub async fn release(&self, id: &str) -> Result<Option<Release>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM releases WHERE id = $1");
        Ok(sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// A repository's releases (of one environment, or all), newest first.
    pub async fn releases_of(
        &self,
        repository: &str,
        environment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Release>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM releases
              WHERE repository = $1 AND ($2 IS NULL OR environment = $2)
              ORDER BY created_at DESC, seq DESC LIMIT $3"
        );
        Ok(sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(environment)
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    /// The environment's last good release: its newest `verified` one.
    pub async fn last_good_release(
        &self,
        repository: &str,
        environment: &str,
    ) -> Result<Option<Release>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM releases
              WHERE repository = $1 AND environment = $2 AND state = 'verified'
              ORDER BY seq DESC LIMIT 1"
        );
        Ok(sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(environment)
            .fetch_optional(self.pool())
            .await?)
    }

    /// A release with its log, for its `/runs/<id>` page.
    pub async fn release_log(&self, id: &str) -> Result<Option<ReleaseLog>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, log, log_expired_at FROM releases WHERE id = $1");
        Ok(sqlx::query_as::<_, ReleaseLog>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The newest release of `sha` on `branch` (what a step run on that head belongs to).
    pub async fn release_at(
        &self,
        repository: &str,
        branch: &str,
        sha: &str,
    ) -> Result<Option<Release>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM releases
              WHERE repository = $1 AND branch = $2 AND sha = $3
              ORDER BY seq DESC LIMIT 1"
        );
        Ok(sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(branch)
            .bind(sha)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The steps a parked release waited for are done: its work is due again.
    pub async fn make_release_due(
        &self,
        repository: &str,
        branch: &str,
        sha: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE releases SET due = 1, updated_at = $1
              WHERE repository = $2 AND branch = $3 AND sha = $4
                AND state IN ('awaiting_steps', 'blocked')",
        )
        .bind(now)
        .bind(repository)
        .bind(branch)
        .bind(sha)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }

    /// Every step after the deploy is done: the release is `verified`, or `failed` with
    /// `reason`, and due again so its worker reports it.
    pub async fn conclude_release(
        &self,
        repository: &str,
        branch: &str,
        sha: &str,
        failed: Option<&str>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let state = if failed.is_some() {
            ReleaseState::Failed
        } else {
            ReleaseState::Verified
        };
        let result = sqlx::query(
            "UPDATE releases SET state = $1, reason = $2, due = 1, updated_at = $3,
                                 finished_at = $3
              WHERE repository = $4 AND branch = $5 AND sha = $6 AND state = 'verifying'",
        )
        .bind(state.as_str())
        .bind(failed)
        .bind(now)
        .bind(repository)
        .bind(branch)
        .bind(sha)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }

    /// A rollback to release `to_seq` (itself release `rollback_seq`) marks the releases it
    /// returned past, which were live, as rolled back: none of them is a last good release
    /// any more.
    pub async fn mark_rolled_back(
        &self,
        repository: &str,
        environment: &str,
        to_seq: i64,
        rollback_seq: i64,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "UPDATE releases SET state = 'rolled_back', updated_at = $1
              WHERE repository = $2 AND environment = $3 AND seq > $4 AND seq < $5
                AND state IN ('verified', 'failed')
             RETURNING id",
        )
        .bind(now)
        .bind(repository)
        .bind(environment)
        .bind(to_seq)
        .bind(rollback_seq)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The environment's newest verified release before release `seq`: what a release's
    /// changes are counted from.
    pub async fn good_release_before(
        &self,
        repository: &str,
        environment: &str,
        seq: i64,
    ) -> Result<Option<Release>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM releases
              WHERE repository = $1 AND environment = $2 AND seq < $3
                AND state IN ('verified', 'rolled_back')
              ORDER BY seq DESC LIMIT 1"
        );
        Ok(sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(environment)
            .bind(seq)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Each environment's current release: the newest one that reached its environment
    /// (verified, failed after its deploy, or being verified), what a drift sweep compares
    /// the environment with.
    pub async fn current_releases(&self) -> Result<Vec<Release>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM releases r
              WHERE state IN ('verified', 'failed', 'verifying') AND deployment_id IS NOT NULL
                AND seq = (SELECT MAX(seq) FROM releases n
                            WHERE n.repository = r.repository AND n.environment = r.environment
                              AND n.state IN ('verified', 'failed', 'verifying')
                              AND n.deployment_id IS NOT NULL)
              ORDER BY repository, environment"
        );
        Ok(sqlx::query_as::<_, Release>(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?)
    }

    /// Takes the release whose work has waited longest, under a lease.
    pub async fn claim_release_work(
        &self,
        lease_owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<Release>, StoreError> {
        Ok(sqlx::query_as::<_, Release>(SQL.claim.get(self.dialect()))
            .bind(lease_until)
            .bind(now)
            .bind(lease_owner)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Extends the lease; returns the release's state (a superseded release's worker stops),
    /// or `None` when the lease was lost.
    pub async fn renew_release_lease(
        &self,
        id: &str,
        lease_owner: &str,
        lease_until: i64,
    ) -> Result<Option<ReleaseState>, StoreError> {
        let state: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.renew.as_str()))
            .bind(lease_until)
            .bind(id)
            .bind(lease_owner)
            .fetch_optional(self.pool())
            .await?;
        Ok(state.and_then(|(s,)| ReleaseState::parse(&s)))
    }

    /// Records progress while the worker holds the lease; `false` when it no longer does.
    pub async fn mark_release(
        &self,
        id: &str,
        lease_owner: &str,
        progress: &ReleaseProgress<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(sqlx::AssertSqlSafe(SQL.mark.as_str()))
            .bind(progress.state.as_str())
            .bind(progress.reason)
            .bind(progress.url)
            .bind(progress.deployment_id)
            .bind(now)
            .bind(i64::from(progress.done))
            .bind(id)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Stores the release's deploy log (whole, masked by the writer).
    pub async fn store_release_log(
        &self,
        id: &str,
        lease_owner: &str,
        log: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(sqlx::AssertSqlSafe(SQL.log.as_str()))
            .bind(log)
            .bind(now)
            .bind(id)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests;
