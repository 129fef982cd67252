-- The durable inbox: every verified webhook delivery, written before GitHub gets its 2xx.
-- Times are Unix epoch milliseconds (BIGINT) so both dialects and sqlx's Any driver agree.
CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,          -- arrival order
    delivery_id     TEXT    NOT NULL UNIQUE,           -- X-GitHub-Delivery (dedupe key)
    event           TEXT    NOT NULL,                  -- X-GitHub-Event
    action          TEXT,
    installation_id BIGINT,
    repository      TEXT,                              -- owner/name
    ordering_key    TEXT,                              -- deliveries with one key run in id order
    payload         TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    state           TEXT    NOT NULL,                  -- pending | processing | done | ignored | dead
    attempts        BIGINT  NOT NULL DEFAULT 0,
    available_at    BIGINT  NOT NULL,                  -- not claimed before this time (backoff)
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    finished_at     BIGINT
);
CREATE INDEX deliveries_claimable ON deliveries (state, available_at);
CREATE INDEX deliveries_ordering ON deliveries (ordering_key, id);

CREATE TABLE installations (
    id            BIGINT PRIMARY KEY,
    account_login TEXT   NOT NULL,
    account_type  TEXT   NOT NULL,
    suspended_at  BIGINT,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE installation_repositories (
    installation_id BIGINT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    repository_id   BIGINT NOT NULL,
    full_name       TEXT   NOT NULL,
    PRIMARY KEY (installation_id, repository_id)
);
CREATE INDEX installation_repositories_name ON installation_repositories (full_name);
