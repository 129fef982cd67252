-- Promotion pull requests gitferry opened, one open per target environment: the candidate
-- they propose (the upstream release and its sha), and whether gitferry is merging or has
-- merged them. Merging is claimed here under a lease, so two processes never merge one
-- promotion twice.
CREATE TABLE promotions (
    repository    TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    pr            BIGINT  NOT NULL,
    sha           TEXT    NOT NULL,
    candidate_id  TEXT    NOT NULL,
    proposed_by   TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    merged_sha    TEXT,
    owner         TEXT,
    lease_until   BIGINT,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (repository, environment)
);
CREATE INDEX promotions_sha ON promotions (repository, sha);

-- `/approve` on a promotion pull request: who approved which commit. An approval counts only
-- while that commit is the promotion's head.
CREATE TABLE promotion_approvals (
    repository  TEXT    NOT NULL,
    pr          BIGINT  NOT NULL,
    sha         TEXT    NOT NULL,
    login       TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    PRIMARY KEY (repository, pr, sha, login)
);

-- A rollback holds automatic promotion into its environment until an authorised
-- `/promote <env>` clears it.
CREATE TABLE environment_holds (
    repository   TEXT    NOT NULL,
    environment  TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    set_by       TEXT    NOT NULL,
    since        BIGINT  NOT NULL,
    PRIMARY KEY (repository, environment)
);
