-- One-time secrets, quotas and burst alerts.
--
-- From this migration on, link_codes.code_hash and reset_tokens.token_hash
-- hold HMAC-SHA256 under the server key (HALLPASS_SECRET_KEY or the key file
-- beside the SQLite database) instead of a plain SHA-256. Rows written before
-- it no longer match anything: those codes and links (a day and an hour long)
-- simply stop working, and a new one must be issued.

-- The Discord channel where the tenant's burst alerts go
-- (`hallpass tenant set-audit-channel`); NULL: alerts are only audited.
ALTER TABLE tenants ADD COLUMN audit_channel_id TEXT;

-- Burst alerts count one educator's password resets in the last ten minutes,
-- from the audit log, so the count holds across instances.
CREATE INDEX audit_by_actor_action ON audit_events (tenant_id, actor_user_id, action, at);
