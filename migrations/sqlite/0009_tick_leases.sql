-- Periodic ticks (drift sweep, merge-queue advance, preview reconcile, …) run on exactly one
-- replica at a time: the replica holding a tick's lease runs it, renews the lease while it
-- lives, and another replica takes the tick over once `lease_until` has passed. `next_due_at`
-- travels with the row, so a tick handed over is not run again early by its new holder.
CREATE TABLE tick_leases (
    name             TEXT   PRIMARY KEY,
    holder           TEXT,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    acquired_at      BIGINT,
    next_due_at      BIGINT NOT NULL DEFAULT 0,
    runs             BIGINT NOT NULL DEFAULT 0,
    last_started_at  BIGINT,
    last_finished_at BIGINT,
    last_error       TEXT
);
