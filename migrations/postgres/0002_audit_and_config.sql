-- Every command and operation, allowed or refused: who asked, what, where, the outcome.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,           -- e.g. "command:promote production"
    repository  TEXT    NOT NULL,
    pr          BIGINT,
    sha         TEXT,
    outcome     TEXT    NOT NULL,           -- allowed | refused | unknown | invalid | failed | done
    detail      TEXT,
    delivery_id TEXT,
    source_id   TEXT                        -- what triggered it (comment id), for idempotence
);
CREATE INDEX audit_log_repository ON audit_log (repository, at);
CREATE UNIQUE INDEX audit_log_once ON audit_log (source_id, action);

-- The last valid .github/gitferry.yml per repository: used while the current one is invalid.
CREATE TABLE repo_configs (
    repository TEXT   PRIMARY KEY,
    blob_sha   TEXT   NOT NULL,
    source     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
