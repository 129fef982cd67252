-- The notification outbox: one row per message and channel, written when the event happens
-- and sent by a background sender with retries. `dedupe_key` makes an event's message exist
-- once per channel however often the event is reported (a replayed delivery, a retried
-- deploy), so nobody is told twice.
CREATE TABLE notifications (
    id           BIGSERIAL PRIMARY KEY,
    dedupe_key   TEXT    NOT NULL UNIQUE,
    repository   TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    channel      TEXT    NOT NULL,          -- slack | dingtalk | webhook
    url_var      TEXT    NOT NULL,          -- the gitferry variable holding the URL
    secret_var   TEXT,                      -- DingTalk: the variable holding the signing secret
    message      TEXT    NOT NULL,          -- JSON of notify::Message
    state        TEXT    NOT NULL,          -- pending | sent | dead
    attempts     BIGINT  NOT NULL DEFAULT 0,
    available_at BIGINT  NOT NULL,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX notifications_due ON notifications (available_at) WHERE state = 'pending';
