-- One row per run of a pipeline step: a step of a repository's pipeline run on one commit,
-- either for a pull request or for a push to a branch (`pr = 0`, a "branch run", kept as the
-- base's results that a PR's failures are compared with). Running a step again (`/retest`,
-- "Re-run") adds a row with the next `attempt`, so every earlier run and its log stays.
--
-- A run goes waiting → due → running → reporting → done. `reporting` is separate from `done`
-- because the outcome is recorded before GitHub is told: a server that dies in between leaves
-- a run another one can claim and report, without running the step again.
CREATE TABLE pipeline_steps (
    id               TEXT    PRIMARY KEY,       -- 16 hex chars, chosen by the caller; also the log link's id
    token_hash       TEXT    NOT NULL,          -- SHA-256 of the log link's token
    repository       TEXT    NOT NULL,
    pr               BIGINT  NOT NULL,          -- 0: a branch run
    installation_id  BIGINT  NOT NULL,
    sha              TEXT    NOT NULL,
    branch           TEXT    NOT NULL,          -- the PR's head ref, or the pushed branch
    base_ref         TEXT    NOT NULL,          -- the PR's base; '' for branch runs
    default_branch   TEXT    NOT NULL,          -- where the config is read from
    step             TEXT    NOT NULL,
    attempt          BIGINT  NOT NULL,          -- 1, then one more per re-run of (repository, pr, sha, step)
    after_deploy     BIGINT  NOT NULL,          -- 1: runs against the preview, after its deploy
    concurrency      BIGINT  NOT NULL,          -- the repository's runner.concurrency when queued
    actor            TEXT,                      -- who pushed or asked
    state            TEXT    NOT NULL,          -- waiting | due | running | reporting | done
    conclusion       TEXT,                      -- success | failure | timed_out | cancelled | skipped
    reason           TEXT,                      -- shown on the PR: why skipped, cancelled, or failed to run
    cancel_requested BIGINT  NOT NULL DEFAULT 0, -- 1: a newer head superseded it while running
    preview_url      TEXT,                      -- after-deploy steps: the preview they run against
    summary          TEXT,                      -- JSON written by the caller
    failed_tests     TEXT,                      -- newline-separated test ids, for the base comparison
    log              TEXT    NOT NULL DEFAULT '',
    lease_owner      TEXT,
    lease_until      BIGINT,
    created_at       BIGINT  NOT NULL,          -- queue order
    started_at       BIGINT,
    finished_at      BIGINT,                    -- when the outcome was recorded
    updated_at       BIGINT  NOT NULL,
    log_url          TEXT                       -- the log's link with its token, shown by every report of the run
);
CREATE UNIQUE INDEX pipeline_steps_attempt ON pipeline_steps (repository, pr, sha, step, attempt);
CREATE INDEX pipeline_steps_claim ON pipeline_steps (created_at)
    WHERE state IN ('due', 'running', 'reporting');
CREATE INDEX pipeline_steps_base ON pipeline_steps (repository, branch, step, finished_at)
    WHERE pr = 0;
CREATE INDEX pipeline_steps_sha ON pipeline_steps (repository, sha);
