-- Releases of branch-bound environments (staging, production): a push to an environment's
-- branch (a merge, gitferry's promotion or rollback) is deployed there. Each one is numbered
-- per environment (`seq`; its version is `<environment>-<seq>`) and keeps who caused it, what
-- became of it and its deploy log. The last `verified` release is the environment's last good
-- one, what a rollback returns to. The row is also the release's work item, claimed under a
-- lease like preview work: due while `due = 1`.
CREATE TABLE releases (
    id              TEXT    PRIMARY KEY,       -- also the run id of its log (/runs/<id>)
    token_hash      TEXT    NOT NULL DEFAULT '',
    repository      TEXT    NOT NULL,
    environment     TEXT    NOT NULL,
    seq             INTEGER  NOT NULL,
    sha             TEXT    NOT NULL,
    before_sha      TEXT    NOT NULL,          -- the branch before the push: replays are no-ops
    branch          TEXT    NOT NULL,
    default_branch  TEXT    NOT NULL,          -- where the config is read from
    installation_id INTEGER  NOT NULL,
    cause           TEXT    NOT NULL,          -- push | promotion | rollback
    actor           TEXT,                      -- pusher, merger, or whoever promoted/rolled back
    approvers       TEXT,                      -- JSON list, for promotions
    rollback_of     TEXT,                      -- the release a rollback returned to
    state           TEXT    NOT NULL,          -- see store::releases::ReleaseState
    reason          TEXT,
    url             TEXT,
    deployment_id   INTEGER,
    due             INTEGER  NOT NULL DEFAULT 1,
    lease_owner     TEXT,
    lease_until     INTEGER,
    log             TEXT    NOT NULL DEFAULT '',
    log_expired_at  INTEGER,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL,
    finished_at     INTEGER,
    UNIQUE (repository, environment, seq),
    UNIQUE (repository, environment, sha, before_sha)
);
CREATE INDEX releases_due ON releases (created_at) WHERE due = 1;
CREATE INDEX releases_by_sha ON releases (repository, sha);
