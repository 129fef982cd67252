-- Drift and change reports waiting to be made, one per environment and pull request (pr 0:
-- the scheduled sweep of the environment). A newer ask replaces the older one and takes the
-- row from its worker, whose late writes then fail the lease check.
CREATE TABLE drift_checks (
    id               TEXT    PRIMARY KEY,
    repository       TEXT    NOT NULL,
    installation_id  BIGINT  NOT NULL,
    environment      TEXT    NOT NULL,
    pr               BIGINT  NOT NULL,
    head_sha         TEXT    NOT NULL,
    base_sha         TEXT    NOT NULL,
    branch           TEXT    NOT NULL,
    default_branch   TEXT    NOT NULL,
    requested_by     TEXT,
    due              BIGINT  NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    outcome          TEXT,
    fingerprint      TEXT,
    -- The whole report, behind /runs/<id> (what GitHub shows is cut to its sizes).
    token_hash       TEXT    NOT NULL,
    report           TEXT,
    finished_at      BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    UNIQUE (repository, environment, pr)
);
CREATE INDEX drift_checks_due ON drift_checks (due, created_at);

-- What the last sweep of each environment found: the GitHub issue that reports its drift while
-- it lasts, and the fingerprint of the drifted objects and fields (notified once per change).
CREATE TABLE drift_environments (
    repository     TEXT    NOT NULL,
    environment    TEXT    NOT NULL,
    fingerprint    TEXT,
    drifted        BIGINT  NOT NULL,
    issue_number   BIGINT,
    checked_at     BIGINT  NOT NULL,
    PRIMARY KEY (repository, environment)
);
