-- What the chat bot keeps besides the directory: one-time link codes and the
-- durable self-service quota. Same portable types as the directory migration.

-- A link code lets a person link their own chat account. Only its SHA-256 is
-- stored; it works once and expires (24 h by default).
CREATE TABLE link_codes (
    code_hash    TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    issued_by    TEXT NOT NULL REFERENCES users(id),
    issued_at    TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX link_codes_by_user ON link_codes (user_id);

-- Self-service password resets, counted per chat account over a sliding
-- window. Kept in the database so the limit holds across restarts and across
-- instances sharing one database.
CREATE TABLE quota_usage (
    id           TEXT PRIMARY KEY,   -- so an undone reset can give its use back
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    subject      TEXT NOT NULL,       -- "discord:<id>" or "user:<id>"
    kind         TEXT NOT NULL,       -- "self_reset"
    at           TEXT NOT NULL
);
CREATE INDEX quota_usage_by_subject ON quota_usage (tenant_id, subject, kind, at);
