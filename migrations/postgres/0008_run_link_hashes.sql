-- Run-log links: the store keeps only their tokens' SHA-256 (`token_hash`), never a token.
--
-- `pipeline_steps.log_url` held each step's link with its token in plain text. Its token's
-- hash was written to `token_hash` by the same statement, so dropping the column loses no
-- link: links already posted on GitHub keep opening their logs (checked against the hash)
-- until the retention ends. Tokens are now derived from a key in gitferry's settings and the
-- run id, so a link is redrawn without storing it; runs from before this migration are
-- redrawn without a link (their random token cannot be derived again).
ALTER TABLE pipeline_steps DROP COLUMN log_url;

-- Logs are kept for GITFERRY_RUN_RETENTION; a background task empties the older ones and
-- records when, so their page says they expired.
ALTER TABLE preview_runs ADD COLUMN log_expired_at BIGINT;
ALTER TABLE pipeline_steps ADD COLUMN log_expired_at BIGINT;
CREATE INDEX preview_runs_finished ON preview_runs (finished_at) WHERE log_expired_at IS NULL;
CREATE INDEX pipeline_steps_finished ON pipeline_steps (finished_at) WHERE log_expired_at IS NULL;
