-- The audit log: every change and every refused attempt. Append-only, enforced
-- by the database itself: the triggers below refuse UPDATE and DELETE, so not
-- even a bug (or an operator with a SQL prompt and no DDL intent) rewrites history.

CREATE TABLE audit_events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,   -- total order, newest last
    id                TEXT NOT NULL UNIQUE,
    tenant_id         TEXT,
    at                TEXT NOT NULL,
    actor_user_id     TEXT,
    actor_discord_id  TEXT,
    actor_label       TEXT NOT NULL,      -- "Lopez, Ana (alopez)", "cli", "zendesk:agent@…"
    action            TEXT NOT NULL,
    target_user_id    TEXT,
    target_label      TEXT,
    outcome           TEXT NOT NULL CHECK (outcome IN ('applied', 'refused', 'failed')),
    reason            TEXT,
    before_json       TEXT,               -- changed fields before; never a secret
    after_json        TEXT,
    guild_id          TEXT,
    channel_id        TEXT,
    interaction_id    TEXT,
    api_caller        TEXT
);
CREATE INDEX audit_by_target ON audit_events (tenant_id, target_user_id, seq);
CREATE INDEX audit_by_actor ON audit_events (tenant_id, actor_user_id, seq);
CREATE INDEX audit_by_time ON audit_events (tenant_id, at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
