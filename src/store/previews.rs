//! Queries on `previews` (one row per pull request: what is wanted, what was done) and
//! `preview_runs` (each deploy or destroy, with its log). See migration 0005.
//!
//! Writers that say what is wanted (webhooks, commands, the TTL sweep) bump `generation`;
//! the executor claims rows whose `generation > done_generation` under a lease, and records
//! its outcome only if the generation it worked for is still current. A push during a deploy
//! therefore never lets the older deploy's result be reported as current.

use std::sync::LazyLock;

use super::{Store, StoreError};
use crate::jobs::{ClaimSql, Holder, LeasedQueue};

/// Where a preview stands, as shown on the PR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewStatus {
    /// A fork's PR: waits for someone with write access to comment `/preview`.
    AwaitingApproval,
    /// Waits for a free slot (`max_active`).
    Queued,
    /// Waits for the pipeline steps that run before the deploy.
    AwaitingSteps,
    /// Not deployed: a step before the deploy did not pass.
    Blocked,
    Deploying,
    Ready,
    Failed,
    Destroying,
    Destroyed,
    /// Destroyed by the TTL sweep; `/preview` brings it back.
    Expired,
}

impl PreviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Queued => "queued",
            Self::AwaitingSteps => "awaiting_steps",
            Self::Blocked => "blocked",
            Self::Deploying => "deploying",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Destroying => "destroying",
            Self::Destroyed => "destroyed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::AwaitingApproval,
            Self::Queued,
            Self::AwaitingSteps,
            Self::Blocked,
            Self::Deploying,
            Self::Ready,
            Self::Failed,
            Self::Destroying,
            Self::Destroyed,
            Self::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether a preview in this state occupies one of the repository's `max_active` slots
    /// (it has, or may have, resources in the cluster).
    pub fn holds_slot(self) -> bool {
        matches!(
            self,
            Self::Deploying | Self::Ready | Self::Failed | Self::Destroying
        )
    }
}

/// A preview row.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Preview {
    pub repository: String,
    pub pr: i64,
    pub installation_id: i64,
    pub environment: String,
    pub head_sha: String,
    pub head_ref: String,
    pub base_ref: String,
    pub default_branch: String,
    pub from_fork: i64,
    pub approved_sha: Option<String>,
    pub wanted: String,
    pub generation: i64,
    pub done_generation: i64,
    pub status: String,
    pub deployed_sha: Option<String>,
    pub namespace: Option<String>,
    pub url: Option<String>,
    pub deployment_id: Option<i64>,
    pub run_id: Option<String>,
    pub reason: Option<String>,
    pub requested_at: i64,
    pub touched_at: i64,
    pub updated_at: i64,
}

impl Preview {
    pub fn status(&self) -> PreviewStatus {
        PreviewStatus::parse(&self.status).unwrap_or(PreviewStatus::Failed)
    }

    pub fn wants_up(&self) -> bool {
        self.wanted == "up"
    }

    pub fn is_fork(&self) -> bool {
        self.from_fork != 0
    }
}

/// A pull request's head, as a webhook tells it.
#[derive(Clone, Debug)]
pub struct PreviewHead<'a> {
    pub repository: &'a str,
    pub pr: i64,
    pub installation_id: i64,
    pub environment: &'a str,
    pub head_sha: &'a str,
    pub head_ref: &'a str,
    pub base_ref: &'a str,
    pub default_branch: &'a str,
    pub from_fork: bool,
    /// Set when someone with write access asked for this head (`/preview`): for a fork's PR
    /// that is the approval to deploy it. `None` keeps an earlier approval (of whatever head).
    pub approved_sha: Option<&'a str>,
}

/// What the executor did, recorded if its generation is still current.
#[derive(Clone, Debug)]
pub struct PreviewOutcome<'a> {
    pub status: PreviewStatus,
    pub deployed_sha: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub url: Option<&'a str>,
    pub deployment_id: Option<i64>,
    pub run_id: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// One deploy or destroy.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PreviewRun {
    pub id: String,
    pub token_hash: String,
    pub repository: String,
    pub pr: i64,
    pub operation: String,
    pub sha: String,
    pub generation: i64,
    pub state: String,
    pub reason: Option<String>,
    pub log: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// When the retention purge emptied the log (its link then answers 410 Gone).
    pub log_expired_at: Option<i64>,
}

const COLUMNS: &str = "repository, pr, installation_id, environment, head_sha, head_ref, \
    base_ref, default_branch, from_fork, approved_sha, wanted, generation, done_generation, status, \
    deployed_sha, namespace, url, deployment_id, run_id, reason, requested_at, touched_at, \
    updated_at";

/// Preview work as a leased queue: a preview is due while `generation > done_generation`
/// (the `previews_due` index), free or with a lapsed lease, the longest-wanted first.
const QUEUE: LeasedQueue = LeasedQueue {
    table: "previews",
    key: &["repository", "pr"],
    holder: Holder::Token("lease_owner"),
    due: "c.generation > c.done_generation AND (c.lease_owner IS NULL OR c.lease_until < $2)",
    order: "c.requested_at, c.repository, c.pr",
    on_claim: "",
    held: "",
    returning: COLUMNS,
};

/// The statements on claimed previews, built once from [`QUEUE`].
struct Statements {
    claim: ClaimSql,
    /// Returns the generation: a newer one than the worker's means its work was superseded.
    renew: String,
    /// Binds the outcome as `$1..=$9`, then the key and the token (see `write_outcome`).
    outcome: String,
    release: String,
    /// Binds `(now, repository, pr, lease_owner, max_active)`.
    take_slot: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements {
    claim: QUEUE.claim(),
    renew: format!("{} RETURNING generation", QUEUE.renew()),
    // `$9` is the generation the work was for when it finished (the lease is released then,
    // and only if that generation is still current), NULL for progress.
    outcome: format!(
        "{} AND generation = COALESCE($9, generation)",
        QUEUE.update_held(
            "status = $1, deployed_sha = $2, namespace = $3, url = $4,
                    deployment_id = $5, run_id = $6, reason = $7, updated_at = $8,
                    done_generation = COALESCE($9, done_generation),
                    lease_owner = CASE WHEN $9 IS NULL THEN lease_owner END,
                    lease_until = CASE WHEN $9 IS NULL THEN lease_until END,
                    touched_at = CASE WHEN $9 IS NULL THEN touched_at ELSE $8 END",
            9,
        )
    ),
    release: QUEUE.update_held("lease_owner = NULL, lease_until = NULL", 0),
    take_slot: format!(
        "{} AND (SELECT COUNT(*) FROM previews o
                  WHERE o.repository = $2 AND o.pr <> $3
                    AND o.status IN ('deploying', 'ready', 'failed', 'destroying')) < $5",
        QUEUE.update_held("status = 'deploying', updated_at = $1", 1)
    ),
});

impl Store {
    /// The PR's head changed (or a preview is asked for): it is wanted up at that head. A
    /// preview that was already wanted keeps its place in the queue.
    pub async fn want_preview_up(
        &self,
        head: &PreviewHead<'_>,
        now: i64,
    ) -> Result<Preview, StoreError> {
        let row = sqlx::query_as::<_, Preview>(
            "INSERT INTO previews (repository, pr, installation_id, environment, head_sha,
                                   head_ref, base_ref, default_branch, from_fork, approved_sha,
                                   wanted, generation, status, requested_at, touched_at,
                                   updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $10, $8, $11, 'up', 1, 'queued', $9, $9, $9)
             ON CONFLICT (repository, pr) DO UPDATE SET
                 installation_id = excluded.installation_id,
                 environment = excluded.environment,
                 head_sha = excluded.head_sha,
                 head_ref = excluded.head_ref,
                 base_ref = excluded.base_ref,
                 default_branch = excluded.default_branch,
                 from_fork = excluded.from_fork,
                 approved_sha = COALESCE(excluded.approved_sha, previews.approved_sha),
                 requested_at = CASE WHEN previews.wanted = 'up' THEN previews.requested_at
                                     ELSE excluded.requested_at END,
                 wanted = 'up',
                 generation = previews.generation + 1,
                 touched_at = excluded.touched_at,
                 updated_at = excluded.updated_at
             RETURNING repository, pr, installation_id, environment, head_sha, head_ref,
                       base_ref, default_branch, from_fork, approved_sha, wanted, generation,
                       done_generation,
                       status, deployed_sha, namespace, url, deployment_id, run_id, reason,
                       requested_at, touched_at, updated_at",
        )
        .bind(head.repository)
        .bind(head.pr)
        .bind(head.installation_id)
        .bind(head.environment)
        .bind(head.head_sha)
        .bind(head.head_ref)
        .bind(head.base_ref)
        .bind(i64::from(head.from_fork))
        .bind(now)
        .bind(head.default_branch)
        .bind(head.approved_sha)
        .fetch_one(self.pool())
        .await?;
        Ok(row)
    }

    /// The preview is wanted gone (PR closed, `/preview destroy`, TTL). `None` when there is
    /// no preview for the PR. `reason` is shown on the PR.
    pub async fn want_preview_down(
        &self,
        repository: &str,
        pr: i64,
        reason: &str,
        now: i64,
    ) -> Result<Option<Preview>, StoreError> {
        let row = sqlx::query_as::<_, Preview>(
            "UPDATE previews SET wanted = 'down', generation = generation + 1, reason = $1,
                                 updated_at = $2
              WHERE repository = $3 AND pr = $4
             RETURNING repository, pr, installation_id, environment, head_sha, head_ref,
                       base_ref, default_branch, from_fork, approved_sha, wanted, generation,
                       done_generation,
                       status, deployed_sha, namespace, url, deployment_id, run_id, reason,
                       requested_at, touched_at, updated_at",
        )
        .bind(reason)
        .bind(now)
        .bind(repository)
        .bind(pr)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// One preview.
    pub async fn preview(&self, repository: &str, pr: i64) -> Result<Option<Preview>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM previews WHERE repository = $1 AND pr = $2");
        let row = sqlx::query_as::<_, Preview>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(pr)
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// A repository's previews, oldest request first.
    pub async fn previews_of(&self, repository: &str) -> Result<Vec<Preview>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM previews WHERE repository = $1 ORDER BY requested_at, pr"
        );
        let rows = sqlx::query_as::<_, Preview>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// Takes the preview whose work has waited longest, under a lease.
    pub async fn claim_preview_work(
        &self,
        lease_owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<Preview>, StoreError> {
        let row = sqlx::query_as::<_, Preview>(SQL.claim.get(self.dialect()))
            .bind(lease_until)
            .bind(now)
            .bind(lease_owner)
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// Extends the lease; returns the preview's current generation (a newer one than the
    /// worker's means its work was superseded), or `None` when the lease was lost.
    pub async fn renew_preview_lease(
        &self,
        repository: &str,
        pr: i64,
        lease_owner: &str,
        lease_until: i64,
    ) -> Result<Option<i64>, StoreError> {
        let generation = sqlx::query_scalar(SQL.renew.as_str())
            .bind(lease_until)
            .bind(repository)
            .bind(pr)
            .bind(lease_owner)
            .fetch_optional(self.pool())
            .await?;
        Ok(generation)
    }

    /// Shows progress while the worker holds the lease (e.g. `deploying` with its run).
    pub async fn mark_preview(
        &self,
        repository: &str,
        pr: i64,
        lease_owner: &str,
        outcome: &PreviewOutcome<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write_outcome(repository, pr, lease_owner, None, outcome, now)
            .await
    }

    /// Records the outcome of the work done for `generation` and releases the lease. `false`
    /// when the preview was wanted differently meanwhile: nothing is recorded, the lease is
    /// released, and the newer work is due.
    pub async fn finish_preview_work(
        &self,
        repository: &str,
        pr: i64,
        lease_owner: &str,
        generation: i64,
        outcome: &PreviewOutcome<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let written = self
            .write_outcome(repository, pr, lease_owner, Some(generation), outcome, now)
            .await?;
        if !written {
            self.release_preview(repository, pr, lease_owner).await?;
        }
        Ok(written)
    }

    async fn write_outcome(
        &self,
        repository: &str,
        pr: i64,
        lease_owner: &str,
        finished_generation: Option<i64>,
        outcome: &PreviewOutcome<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(SQL.outcome.as_str())
            .bind(outcome.status.as_str())
            .bind(outcome.deployed_sha)
            .bind(outcome.namespace)
            .bind(outcome.url)
            .bind(outcome.deployment_id)
            .bind(outcome.run_id)
            .bind(outcome.reason)
            .bind(now)
            .bind(finished_generation)
            .bind(repository)
            .bind(pr)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives the preview back without recording anything (shutdown, superseded work).
    pub async fn release_preview(
        &self,
        repository: &str,
        pr: i64,
        lease_owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(SQL.release.as_str())
            .bind(repository)
            .bind(pr)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Takes one of the repository's `max_active` slots for the preview this worker holds,
    /// if one is free: `deploying` counts as holding one from here on. One statement, so two
    /// previews of one repository deploying at once cannot both take the last slot.
    pub async fn take_preview_slot(
        &self,
        repository: &str,
        pr: i64,
        lease_owner: &str,
        max_active: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(SQL.take_slot.as_str())
            .bind(now)
            .bind(repository)
            .bind(pr)
            .bind(lease_owner)
            .bind(max_active)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Hands a free slot to the longest-waiting queued preview of the repository: it becomes
    /// `deploying` (so it holds the slot at once) and due. `None` when no slot is free or none
    /// waits. One statement, so concurrent callers cannot give one slot away twice.
    pub async fn wake_next_queued_preview(
        &self,
        repository: &str,
        max_active: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let woken = sqlx::query_scalar(
            "UPDATE previews SET generation = generation + 1, status = 'deploying',
                                 updated_at = $1
              WHERE (repository, pr) = (
                      SELECT repository, pr FROM previews
                       WHERE repository = $2 AND wanted = 'up' AND status = 'queued'
                         AND generation = done_generation
                       ORDER BY requested_at, pr LIMIT 1)
                AND (SELECT COUNT(*) FROM previews o
                      WHERE o.repository = $2
                        AND o.status IN ('deploying', 'ready', 'failed', 'destroying')) < $3
             RETURNING pr",
        )
        .bind(now)
        .bind(repository)
        .bind(max_active)
        .fetch_optional(self.pool())
        .await?;
        Ok(woken)
    }

    /// Makes a preview's work due again whatever it wants (a failed destroy is retried, a
    /// parked deploy goes on). It does so by bumping the generation, so a worker still busy
    /// with the previous one finds its work superseded: callers only do this to a preview
    /// that is parked or settled.
    pub async fn make_preview_due(&self, repository: &str, pr: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE previews SET generation = generation + 1 WHERE repository = $1 AND pr = $2",
        )
        .bind(repository)
        .bind(pr)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Repositories with previews that are wanted up or not yet torn down.
    pub async fn preview_repositories(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query_scalar(
            "SELECT DISTINCT repository FROM previews
              WHERE wanted = 'up' OR status NOT IN ('destroyed', 'expired')
              ORDER BY repository",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// Starts a run; `id` and `token_hash` are chosen by the caller.
    pub async fn start_preview_run(&self, run: &PreviewRun) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO preview_runs (id, token_hash, repository, pr, operation, sha,
                                       generation, state, reason, log, started_at, finished_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&run.id)
        .bind(&run.token_hash)
        .bind(&run.repository)
        .bind(run.pr)
        .bind(&run.operation)
        .bind(&run.sha)
        .bind(run.generation)
        .bind(&run.state)
        .bind(&run.reason)
        .bind(&run.log)
        .bind(run.started_at)
        .bind(run.finished_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Saves a run's log so far, or its end (`finished_at` set).
    pub async fn update_preview_run(
        &self,
        id: &str,
        state: &str,
        reason: Option<&str>,
        log: &str,
        finished_at: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE preview_runs SET state = $1, reason = $2, log = $3, finished_at = $4
              WHERE id = $5",
        )
        .bind(state)
        .bind(reason)
        .bind(log)
        .bind(finished_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn preview_run(&self, id: &str) -> Result<Option<PreviewRun>, StoreError> {
        let row = sqlx::query_as::<_, PreviewRun>(
            "SELECT id, token_hash, repository, pr, operation, sha, generation, state, reason,
                    log, started_at, finished_at, log_expired_at
               FROM preview_runs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Ends the PR's runs still marked `running`, other than `current` (pass `""` for
    /// none), as failed with `reason`: a run is never left running forever, whether its
    /// process died or its attempt gave up.
    pub async fn fail_running_preview_runs(
        &self,
        repository: &str,
        pr: i64,
        current: &str,
        reason: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE preview_runs SET state = 'failure', finished_at = $1, reason = $2
              WHERE repository = $3 AND pr = $4 AND state = 'running' AND id <> $5",
        )
        .bind(now)
        .bind(reason)
        .bind(repository)
        .bind(pr)
        .bind(current)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }
}
