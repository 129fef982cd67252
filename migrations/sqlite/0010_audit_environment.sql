-- The environment an audited operation concerned (a promotion's target, a release's, a
-- rollback's); NULL where none applies (most slash commands, re-runs). `gitferry audit --env`
-- and `GET /api/audit?env=` filter on it; a read without a repository filters on time alone.
ALTER TABLE audit_log ADD COLUMN environment TEXT;
CREATE INDEX audit_log_environment ON audit_log (environment, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- The audit log is append-only, enforced by the database rather than by convention: whatever
-- runs SQL through gitferry's connection (a bug, an injected statement) cannot rewrite or erase
-- history. The application never updates or deletes an entry; a future migration that must
-- would drop these triggers itself, in plain sight.
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries are never updated');
END;

CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries are never deleted');
END;

-- `INSERT OR REPLACE` deletes the row it collides with without firing DELETE triggers (unless
-- recursive_triggers is on), so a colliding insert must not reach the conflict: reusing an id
-- is refused, and a second entry for one source and action is skipped, which is what
-- `record_audit`'s `ON CONFLICT DO NOTHING` does anyway (a replay stays a no-op). Without an
-- explicit id, NEW.id reads -1 here; ids the application assigns start at 1.
CREATE TRIGGER audit_log_append_only_id BEFORE INSERT ON audit_log
WHEN NEW.id > 0 AND EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: an entry id is never reused');
END;

CREATE TRIGGER audit_log_append_only_once BEFORE INSERT ON audit_log
WHEN NEW.source_id IS NOT NULL
 AND EXISTS (SELECT 1 FROM audit_log WHERE source_id = NEW.source_id AND action = NEW.action)
BEGIN
    SELECT RAISE(IGNORE);
END;
