-- Roster sync (policy.md "Roster sync"): what the roster last said about each
-- imported user, so a re-import can merge field by field. A field whose roster
-- value equals the remembered one was not changed by the roster, and hallpass's
-- value (an approved promotion, a move, a corrected name) is kept.
--
-- No backfill: a user imported before this table existed has no row here, and
-- the first import after the upgrade takes that bundle's values as the
-- remembered ones while keeping the record as it is, so upgrading changes
-- nothing by itself (src/roster/sync.rs).
CREATE TABLE roster_values (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    login        TEXT NOT NULL,          -- as the roster gave it
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    role         TEXT NOT NULL,
    school_id    TEXT,                   -- the place the roster's orgs named (none for a district admin)
    district_id  TEXT NOT NULL,
    grade        TEXT,
    disabled     INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    updated_at   TEXT NOT NULL           -- when an import last changed this row
);

-- A district hallpass made for a school whose roster names no district above it
-- (single-school and charter exports), named after the school.
ALTER TABLE districts ADD COLUMN implicit INTEGER NOT NULL DEFAULT 0 CHECK (implicit IN (0, 1));
