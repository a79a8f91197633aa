-- The audit log: every change and every refused attempt. Append-only, enforced
-- by the database itself: the trigger below refuses UPDATE, DELETE and TRUNCATE,
-- so not even a bug (or an operator with a SQL prompt) rewrites history.

CREATE TABLE audit_events (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- total order, newest last
    id                TEXT NOT NULL UNIQUE,
    tenant_id         TEXT,
    at                TEXT NOT NULL,
    actor_user_id     TEXT,
    actor_discord_id  TEXT,
    actor_label       TEXT NOT NULL,
    action            TEXT NOT NULL,
    target_user_id    TEXT,
    target_label      TEXT,
    outcome           TEXT NOT NULL CHECK (outcome IN ('applied', 'refused', 'failed')),
    reason            TEXT,
    before_json       TEXT,
    after_json        TEXT,
    guild_id          TEXT,
    channel_id        TEXT,
    interaction_id    TEXT,
    api_caller        TEXT
);
CREATE INDEX audit_by_target ON audit_events (tenant_id, target_user_id, seq);
CREATE INDEX audit_by_actor ON audit_events (tenant_id, actor_user_id, seq);
CREATE INDEX audit_by_time ON audit_events (tenant_id, at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
