-- Two guards from the security review. Same portable types as the directory
-- migration (text ids and times), so SQLite and PostgreSQL run the same SQL.

-- Discord interactions already received on /interactions, by Discord's
-- interaction id. A signed request is accepted for five minutes either side of
-- its timestamp, so a captured one could be replayed inside that window; its id
-- is refused the second time, on every instance sharing this database. A row
-- is needed only while its request could still verify, so rows older than
-- that are deleted as new ones arrive.
CREATE TABLE seen_interactions (
    interaction_id TEXT PRIMARY KEY,
    seen_at        TEXT NOT NULL
);
CREATE INDEX seen_interactions_by_time ON seen_interactions (seen_at);

-- A reset link is claimed before the new password is hashed, so many
-- submits of one link cost one hash. A claim that never completed (the
-- server stopped half-way) lapses after a minute and the link works again.
ALTER TABLE reset_tokens ADD COLUMN claimed_at TEXT;
