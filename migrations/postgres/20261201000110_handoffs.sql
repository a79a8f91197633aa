-- Password hand-offs: a temporary password set by /reset-password and not yet
-- delivered. What a roll-back needs lives here, not in memory, so a process
-- that stops half-way leaves a row the next start (or a sweep) can roll back.
-- A roll-back restores `previous_hash` only while the stored hash is still
-- `new_hash`: a newer reset, or a password the student chose meanwhile, stands.
-- `previous_hash` is cleared when the hand-off finishes. Same portable types as
-- the directory migration (text ids and times).
CREATE TABLE handoffs (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    user_id              TEXT NOT NULL REFERENCES users(id),
    previous_hash        TEXT,              -- NULL: the user had no password
    previous_expires_at  TEXT,
    previous_must_change INTEGER NOT NULL DEFAULT 0,
    new_hash             TEXT NOT NULL,
    quota_use            TEXT,              -- the self-service use to give back on a roll-back
    started_at           TEXT NOT NULL,
    finished_at          TEXT,              -- NULL while the password is on its way
    outcome              TEXT               -- delivered | rolled_back | superseded
);
CREATE INDEX handoffs_unfinished ON handoffs (finished_at, started_at);

-- /metrics counts each interaction's outcome as its audit entries tell it.
CREATE INDEX audit_events_by_interaction ON audit_events (interaction_id);
