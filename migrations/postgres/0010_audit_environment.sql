-- The environment an audited operation concerned (a promotion's target, a release's, a
-- rollback's); NULL where none applies (most slash commands, re-runs). `gitferry audit --env`
-- and `GET /api/audit?env=` filter on it; a read without a repository filters on time alone.
ALTER TABLE audit_log ADD COLUMN environment TEXT;
CREATE INDEX audit_log_environment ON audit_log (environment, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- The audit log is append-only, enforced by the database rather than by convention: whatever
-- runs SQL through gitferry's connection (a bug, an injected statement) cannot rewrite or erase
-- history. The application never updates or deletes an entry; a future migration that must
-- would drop these triggers itself, in plain sight. Statement-level, so even an UPDATE or
-- DELETE matching no row fails, and so does TRUNCATE (which row triggers do not see) and an
-- `INSERT … ON CONFLICT DO UPDATE` (which fires the UPDATE triggers).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
