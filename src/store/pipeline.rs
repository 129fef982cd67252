//! Queries on `pipeline_steps`: one row per run of a pipeline step (migration 0007).
//!
//! Runs are claimed under a lease like previews and deliveries, with two twists. A repository
//! runs at most `concurrency` steps at once, so the claim counts its live running runs in
//! the same statement that takes one. And a run's outcome is recorded (`reporting`) before
//! GitHub is told (`done`): if the server dies in between, another claims the `reporting` run
//! and only reports it, instead of running the step again.

use std::sync::LazyLock;

use super::{Dialect, Store, StoreError};
use crate::jobs::{ClaimSql, Holder, LeasedQueue};

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// An after-deploy step waiting for the preview of its commit.
    Waiting,
    /// To run, when the repository's concurrency allows.
    Due,
    Running,
    /// The outcome is recorded; only telling GitHub remains.
    Reporting,
    Done,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Due => "due",
            Self::Running => "running",
            Self::Reporting => "reporting",
            Self::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Due,
            Self::Running,
            Self::Reporting,
            Self::Done,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// How a run ended, as its check run's conclusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepConclusion {
    Success,
    Failure,
    TimedOut,
    Cancelled,
    Skipped,
}

impl StepConclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Success,
            Self::Failure,
            Self::TimedOut,
            Self::Cancelled,
            Self::Skipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A run of a step. The lease is the store's business and is left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PipelineStep {
    pub id: String,
    pub token_hash: String,
    pub repository: String,
    /// 0 for a branch run.
    pub pr: i64,
    pub installation_id: i64,
    pub sha: String,
    pub branch: String,
    pub base_ref: String,
    pub default_branch: String,
    pub step: String,
    pub attempt: i64,
    pub after_deploy: i64,
    pub concurrency: i64,
    pub actor: Option<String>,
    pub state: String,
    pub conclusion: Option<String>,
    pub reason: Option<String>,
    pub cancel_requested: i64,
    pub preview_url: Option<String>,
    pub summary: Option<String>,
    pub failed_tests: Option<String>,
    pub log: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
    /// When the retention purge emptied the log (its link then answers 410 Gone).
    pub log_expired_at: Option<i64>,
}

impl PipelineStep {
    /// An unknown state (a row written by a newer version) reads as `done`, so nothing acts
    /// on a run it does not understand.
    pub fn state(&self) -> StepState {
        StepState::parse(&self.state).unwrap_or(StepState::Done)
    }

    pub fn conclusion(&self) -> Option<StepConclusion> {
        self.conclusion.as_deref().and_then(StepConclusion::parse)
    }

    /// A run for a push to a branch rather than for a PR: the base PR failures compare with.
    pub fn is_branch_run(&self) -> bool {
        self.pr == 0
    }

    pub fn is_after_deploy(&self) -> bool {
        self.after_deploy != 0
    }
}

/// A run to queue.
#[derive(Clone, Debug)]
pub struct NewStep<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub repository: &'a str,
    /// 0 for a branch run.
    pub pr: i64,
    pub installation_id: i64,
    pub sha: &'a str,
    pub branch: &'a str,
    pub base_ref: &'a str,
    pub default_branch: &'a str,
    pub step: &'a str,
    pub after_deploy: bool,
    pub concurrency: i64,
    pub actor: Option<&'a str>,
    /// `Waiting` (an after-deploy step whose preview is not up yet) or `Due`; any other state
    /// is queued as `Due`. Ignored when `conclusion` is set.
    pub state: StepState,
    pub preview_url: Option<&'a str>,
    /// For a run settled before it starts (e.g. an after-deploy step of a PR that gets no
    /// preview): it is queued as `reporting`, so only its report remains.
    pub conclusion: Option<StepConclusion>,
    pub reason: Option<&'a str>,
}

/// What a run ended with, recorded by the lease holder.
#[derive(Clone, Debug)]
pub struct StepOutcome<'a> {
    pub conclusion: StepConclusion,
    pub reason: Option<&'a str>,
    /// JSON written by the caller.
    pub summary: Option<&'a str>,
    /// Newline-separated test ids.
    pub failed_tests: Option<&'a str>,
    pub log: &'a str,
}

/// The columns of [`PipelineStep`], in its order.
const COLUMNS: &str = "id, token_hash, repository, pr, installation_id, sha, branch, base_ref, \
    default_branch, step, attempt, after_deploy, concurrency, actor, state, conclusion, reason, \
    cancel_requested, preview_url, summary, failed_tests, log, created_at, started_at, \
    finished_at, updated_at, log_expired_at";

/// Step runs as a leased queue. Claimable: a `reporting` run nobody holds (whatever the
/// concurrency: reporting runs no step), or a `due` run, or a `running` one whose lease lapsed
/// (its process died, so it runs again), when fewer than its `concurrency` runs of the
/// repository are running under a live lease. A taken `due` or `running` run becomes
/// `running`, started now; a `reporting` one stays `reporting`.
const QUEUE: LeasedQueue = LeasedQueue {
    table: "pipeline_steps",
    key: &["id"],
    holder: Holder::Token("lease_owner"),
    due: "c.state IN ('due', 'running', 'reporting')
       AND (c.lease_owner IS NULL OR c.lease_until IS NULL OR c.lease_until < $2)
       AND (c.state = 'reporting'
            OR (SELECT COUNT(*) FROM pipeline_steps r
                 WHERE r.repository = c.repository AND r.state = 'running'
                   AND r.lease_until >= $2) < c.concurrency)",
    order: "c.created_at, c.id",
    on_claim: "updated_at = $2,
       state = CASE WHEN state = 'reporting' THEN state ELSE 'running' END,
       started_at = CASE WHEN state = 'reporting' THEN started_at ELSE $2 END",
    held: "",
    returning: COLUMNS,
};

/// The statements on claimed runs, built once from [`QUEUE`].
struct Statements {
    claim: ClaimSql,
    /// Binds `(lease_until, log or NULL, id, owner)`; returns `cancel_requested`.
    renew: String,
    /// Binds `(lease_until, id, owner)`.
    shorten: String,
    /// Binds the outcome as `$1..=$6`, then `(id, owner)`.
    outcome: String,
    /// Binds `(now, id, owner)`.
    reported: String,
    release: String,
    /// Binds `(token_hash, id, owner)`.
    log_link: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements {
    claim: QUEUE.claim(),
    renew: format!(
        "{} RETURNING cancel_requested",
        QUEUE.update_held("lease_until = $1, log = COALESCE($2, log)", 2)
    ),
    shorten: QUEUE.renew(),
    outcome: format!(
        "{} AND state = 'running'",
        QUEUE.update_held(
            "state = 'reporting', conclusion = $1, reason = $2, summary = $3,
                failed_tests = $4, log = $5, finished_at = $6, updated_at = $6",
            6,
        )
    ),
    reported: format!(
        "{} AND state = 'reporting'",
        QUEUE.update_held(
            "state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = $1",
            1,
        )
    ),
    // A `running` run is due again (it runs from the start); a `reporting` one stays.
    release: QUEUE.update_held(
        "state = CASE WHEN state = 'running' THEN 'due' ELSE state END,
                lease_owner = NULL, lease_until = NULL",
        0,
    ),
    log_link: QUEUE.update_held("token_hash = $1", 1),
});

/// Serialises pipeline claims on PostgreSQL (an arbitrary constant, unique to this purpose).
/// A statement sees the rows committed when it started, so two claims running side by side
/// would both count the same running runs and could both take the repository's last slot;
/// under this transaction-scoped lock each claim counts after the previous one committed.
/// Claims are one short indexed statement, so queueing them costs little. SQLite needs no
/// such lock: a write statement takes the database's single write lock before it reads.
const CLAIM_LOCK_KEY: i64 = 0x6766_7069_7065; // "gfpipe"

impl Store {
    /// Inserts runs in one transaction; each gets attempt 1 + the highest attempt of its
    /// (repository, pr, sha, step). A [`NewStep`] with a conclusion is inserted as
    /// `reporting`. Two callers queueing the same step at once on PostgreSQL collide on the
    /// unique index (an error) rather than both getting the same attempt.
    pub async fn queue_pipeline_steps(
        &self,
        steps: &[NewStep<'_>],
        now: i64,
    ) -> Result<Vec<PipelineStep>, StoreError> {
        let sql = format!(
            "INSERT INTO pipeline_steps (id, token_hash, repository, pr, installation_id, sha,
                                         branch, base_ref, default_branch, step, attempt,
                                         after_deploy, concurrency, actor, state, conclusion,
                                         reason, preview_url, created_at, finished_at,
                                         updated_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE(MAX(attempt), 0) + 1,
                    $11, $12, $13, $14, $15, $16, $17, $18, $19, $18
               FROM pipeline_steps
              WHERE repository = $3 AND pr = $4 AND sha = $6 AND step = $10
             RETURNING {COLUMNS}"
        );
        let mut tx = self.pool().begin().await?;
        let mut queued = Vec::with_capacity(steps.len());
        for step in steps {
            let state = match (step.conclusion, step.state) {
                (Some(_), _) => StepState::Reporting,
                (None, StepState::Waiting) => StepState::Waiting,
                (None, _) => StepState::Due,
            };
            let row = sqlx::query_as::<_, PipelineStep>(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(step.id)
                .bind(step.token_hash)
                .bind(step.repository)
                .bind(step.pr)
                .bind(step.installation_id)
                .bind(step.sha)
                .bind(step.branch)
                .bind(step.base_ref)
                .bind(step.default_branch)
                .bind(step.step)
                .bind(i64::from(step.after_deploy))
                .bind(step.concurrency)
                .bind(step.actor)
                .bind(state.as_str())
                .bind(step.conclusion.map(StepConclusion::as_str))
                .bind(step.reason)
                .bind(step.preview_url)
                .bind(now)
                .bind(step.conclusion.map(|_| now))
                .fetch_one(&mut *tx)
                .await?;
            queued.push(row);
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// A newer head on the PR: runs of its other shas that have not started (`waiting`,
    /// `due`) are settled as `cancelled` with `reason`, and `running` ones are asked to stop
    /// (`cancel_requested`; their runner sees it on its next renewal). Returns the ids of
    /// those running ones. For branch runs (`pr = 0`) only `branch`'s runs are superseded: a
    /// push to one branch leaves the others' runs alone, even on the same commit.
    pub async fn supersede_pipeline_steps(
        &self,
        repository: &str,
        pr: i64,
        branch: &str,
        current_sha: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE pipeline_steps
                SET state = 'reporting', conclusion = 'cancelled', reason = $4,
                    finished_at = $5, updated_at = $5
              WHERE repository = $1 AND pr = $2 AND sha <> $3
                AND state IN ('waiting', 'due') AND (pr <> 0 OR branch = $6)",
        )
        .bind(repository)
        .bind(pr)
        .bind(current_sha)
        .bind(reason)
        .bind(now)
        .bind(branch)
        .execute(&mut *tx)
        .await?;
        let running: Vec<String> = sqlx::query_scalar(
            "UPDATE pipeline_steps SET cancel_requested = 1, updated_at = $4
              WHERE repository = $1 AND pr = $2 AND sha <> $3 AND state = 'running'
                AND (pr <> 0 OR branch = $5)
             RETURNING id",
        )
        .bind(repository)
        .bind(pr)
        .bind(current_sha)
        .bind(now)
        .bind(branch)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(running)
    }

    /// Takes one run under a lease, oldest first (see [`QUEUE`] for which). A taken
    /// `due` run, or a `running` one whose lease lapsed, becomes `running` with
    /// `started_at = now`; a `reporting` run stays `reporting`. Two claimers never take the
    /// same run, and the repository's concurrency holds however many claim at once.
    pub async fn claim_pipeline_step(
        &self,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<PipelineStep>, StoreError> {
        let mut tx = self.pool().begin().await?;
        if self.dialect() == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(CLAIM_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query_as::<_, PipelineStep>(SQL.claim.get(self.dialect()))
            .bind(lease_until)
            .bind(now)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Extends the lease and, when given, stores the log so far (so `/runs/<id>` shows a
    /// running step's progress). `None` when the lease was lost; else whether the run was
    /// asked to stop.
    pub async fn renew_pipeline_lease(
        &self,
        id: &str,
        owner: &str,
        lease_until: i64,
        log: Option<&str>,
    ) -> Result<Option<bool>, StoreError> {
        let cancel: Option<i64> = sqlx::query_scalar(SQL.renew.as_str())
            .bind(lease_until)
            .bind(log)
            .bind(id)
            .bind(owner)
            .fetch_optional(self.pool())
            .await?;
        Ok(cancel.map(|flag| flag != 0))
    }

    /// Records how the run ended: `running` → `reporting`, `finished_at = now`. The lease is
    /// kept, for the holder to report to GitHub next. `false` (nothing written) when the
    /// lease was lost: the run is someone else's now.
    pub async fn record_pipeline_outcome(
        &self,
        id: &str,
        owner: &str,
        outcome: &StepOutcome<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(SQL.outcome.as_str())
            .bind(outcome.conclusion.as_str())
            .bind(outcome.reason)
            .bind(outcome.summary)
            .bind(outcome.failed_tests)
            .bind(outcome.log)
            .bind(now)
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// GitHub was told: `reporting` → `done`, lease released. `false` when the lease was
    /// lost (another server reports it too; GitHub's check run is updated in place, so a
    /// second report is harmless).
    pub async fn finish_pipeline_report(
        &self,
        id: &str,
        owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(SQL.reported.as_str())
            .bind(now)
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives a run back without an outcome (shutdown): a `running` run is `due` again and
    /// runs from the start on the next claim; a `reporting` one stays to be reported.
    pub async fn release_pipeline_step(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        sqlx::query(SQL.release.as_str())
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The run's log link, issued when it starts: only its token's hash is kept (checked by
    /// `/runs/<id>`); reports derive the link again ([`crate::runs::RunLinks`]). Lease holder
    /// only.
    pub async fn set_pipeline_log_link(
        &self,
        id: &str,
        owner: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(SQL.log_link.as_str())
            .bind(token_hash)
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Lets a run whose attempt lapsed (e.g. reporting to GitHub failed) be taken again at
    /// `until` rather than when its full lease would have run out.
    pub async fn shorten_pipeline_lease(
        &self,
        id: &str,
        owner: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(SQL.shorten.as_str())
            .bind(until)
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The preview of `sha` is up: its waiting after-deploy runs become due, against
    /// `preview_url` (`None` keeps the URL they were queued with). Returns how many.
    pub async fn release_after_deploy_steps(
        &self,
        repository: &str,
        pr: i64,
        branch: &str,
        sha: &str,
        preview_url: Option<&str>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE pipeline_steps
                SET state = 'due', preview_url = COALESCE($1, preview_url), updated_at = $2
              WHERE repository = $3 AND pr = $4 AND sha = $5 AND state = 'waiting'
                AND (pr <> 0 OR branch = $6)",
        )
        .bind(preview_url)
        .bind(now)
        .bind(repository)
        .bind(pr)
        .bind(sha)
        .bind(branch)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }

    /// The preview of `sha` will not come up (its deploy failed, the PR closed): its waiting
    /// runs are settled as `skipped` with `reason`, to be reported. Returns how many.
    pub async fn skip_waiting_steps(
        &self,
        repository: &str,
        pr: i64,
        branch: &str,
        sha: &str,
        reason: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE pipeline_steps
                SET state = 'reporting', conclusion = 'skipped', reason = $1, finished_at = $2,
                    updated_at = $2
              WHERE repository = $3 AND pr = $4 AND sha = $5 AND state = 'waiting'
                AND (pr <> 0 OR branch = $6)",
        )
        .bind(reason)
        .bind(now)
        .bind(repository)
        .bind(pr)
        .bind(sha)
        .bind(branch)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }

    /// Every run of the PR (or the branch runs, when `pr = 0`) on `sha`, by step then
    /// attempt.
    pub async fn pipeline_steps_of(
        &self,
        repository: &str,
        pr: i64,
        branch: &str,
        sha: &str,
    ) -> Result<Vec<PipelineStep>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pipeline_steps
              WHERE repository = $1 AND pr = $2 AND sha = $3 AND (pr <> 0 OR branch = $4)
              ORDER BY step, attempt"
        );
        let rows = sqlx::query_as::<_, PipelineStep>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(pr)
            .bind(sha)
            .bind(branch)
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// Every run on `sha` in the repository, whatever the PR, newest attempt last: a check
    /// run's "Re-run" names only the commit and the step, not the PR.
    pub async fn pipeline_steps_on_sha(
        &self,
        repository: &str,
        sha: &str,
    ) -> Result<Vec<PipelineStep>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pipeline_steps
              WHERE repository = $1 AND sha = $2
              ORDER BY attempt, created_at, id"
        );
        let rows = sqlx::query_as::<_, PipelineStep>(sqlx::AssertSqlSafe(sql))
            .bind(repository)
            .bind(sha)
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    pub async fn pipeline_step(&self, id: &str) -> Result<Option<PipelineStep>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM pipeline_steps WHERE id = $1");
        let row = sqlx::query_as::<_, PipelineStep>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// The base a PR's failures are compared with: the newest finished branch run of `step`
    /// on `branch` that passed or failed (a cancelled, skipped or timed-out run says nothing
    /// about which tests fail). Returns its sha and failed tests.
    pub async fn base_pipeline_result(
        &self,
        repository: &str,
        branch: &str,
        step: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let row = sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT sha, failed_tests FROM pipeline_steps
              WHERE repository = $1 AND branch = $2 AND step = $3 AND pr = 0
                AND finished_at IS NOT NULL AND conclusion IN ('success', 'failure')
              ORDER BY finished_at DESC, attempt DESC, id DESC
              LIMIT 1",
        )
        .bind(repository)
        .bind(branch)
        .bind(step)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }
}
