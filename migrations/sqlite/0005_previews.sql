-- Preview environments, one row per pull request: what is wanted (from webhooks, commands and
-- the TTL sweep) and what was last done (by the preview executor). Work is due while
-- `generation > done_generation`; every change of what is wanted bumps `generation`, which is
-- also how a deploy still running for an older push finds out it was superseded.
CREATE TABLE previews (
    repository      TEXT    NOT NULL,
    pr              BIGINT  NOT NULL,
    installation_id BIGINT  NOT NULL,
    environment     TEXT    NOT NULL,
    head_sha        TEXT    NOT NULL,
    head_ref        TEXT    NOT NULL,
    base_ref        TEXT    NOT NULL,
    default_branch  TEXT    NOT NULL,          -- where the config is read from
    from_fork       BIGINT  NOT NULL DEFAULT 0,
    approved_sha    TEXT,                      -- fork PRs: the head a maintainer approved
    wanted          TEXT    NOT NULL,          -- up | down
    generation      BIGINT  NOT NULL,
    done_generation BIGINT  NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL,          -- see store::previews::PreviewStatus
    deployed_sha    TEXT,
    namespace       TEXT,
    url             TEXT,
    deployment_id   BIGINT,                    -- the GitHub deployment of the last deploy
    run_id          TEXT,                      -- the last run (its log is at /runs/<id>)
    reason          TEXT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    requested_at    BIGINT  NOT NULL,          -- since when it wants to be up: queue order
    touched_at      BIGINT  NOT NULL,          -- last push, command or deploy: for the TTL
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (repository, pr)
);
CREATE INDEX previews_due ON previews (requested_at) WHERE generation > done_generation;

-- One deploy or destroy of a preview, with its log. The link to it carries a random token;
-- only its SHA-256 is stored.
CREATE TABLE preview_runs (
    id          TEXT    PRIMARY KEY,
    token_hash  TEXT    NOT NULL,
    repository  TEXT    NOT NULL,
    pr          BIGINT  NOT NULL,
    operation   TEXT    NOT NULL,              -- deploy | destroy
    sha         TEXT    NOT NULL,
    generation  BIGINT  NOT NULL,
    state       TEXT    NOT NULL,              -- running | success | failure | superseded
    reason      TEXT,
    log         TEXT    NOT NULL DEFAULT '',
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT
);
CREATE INDEX preview_runs_pr ON preview_runs (repository, pr, started_at);
