-- Email reset links. Same portable types as the directory migration (text ids
-- and times), so SQLite and PostgreSQL run the same SQL.

-- A reset link carries a 256-bit random token; only its SHA-256 is stored, so
-- a copy of the database cannot be turned into working links. A token works
-- once (used_at is set in the same transaction as the new password) and only
-- until expires_at (1 h by default).
CREATE TABLE reset_tokens (
    token_hash   TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    issued_by    TEXT NOT NULL REFERENCES users(id),  -- who asked for the link
    issued_at    TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
-- A password change retires every outstanding link of the same user.
CREATE INDEX reset_tokens_by_user ON reset_tokens (user_id);
