-- The directory: tenants, districts, schools, users, and the chat links.
--
-- Portable choices shared with migrations/postgres (one store API runs on both):
--  * ids are UUIDv7 text, the stable ids shown in `--json` and autocomplete;
--  * times are RFC 3339 UTC text with microseconds ("2026-11-28T09:27:11.123456Z"),
--    which sort and compare correctly as text;
--  * search keys use the "C" collation so prefix ranges (>= 'ana', < 'ana\u{10FFFF}')
--    are byte ranges an index serves, as they are in SQLite;
--  * flags are integers 0/1, because sqlx's Any driver has no SQLite boolean.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE districts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,           -- lower-cased name, for prefix search
    source_id   TEXT,                    -- OneRoster sourcedId, the import's key
    UNIQUE (tenant_id, source_id)
);
CREATE INDEX districts_by_name ON districts (tenant_id, name_key);

CREATE TABLE schools (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    district_id TEXT NOT NULL REFERENCES districts(id),
    name        TEXT NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    source_id   TEXT,
    UNIQUE (tenant_id, source_id)
);
CREATE INDEX schools_by_name ON schools (tenant_id, name_key);
CREATE INDEX schools_by_district ON schools (district_id);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    login                TEXT NOT NULL,       -- as typed (NFC)
    login_key            TEXT COLLATE "C" NOT NULL,       -- lower-cased: logins are unique per tenant, case-insensitively
    first_name           TEXT NOT NULL,
    last_name            TEXT NOT NULL,
    first_key            TEXT COLLATE "C" NOT NULL,       -- lower-cased names, for autocomplete by prefix
    last_key             TEXT COLLATE "C" NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'school_admin', 'district_admin')),
    school_id            TEXT REFERENCES schools(id),
    district_id          TEXT NOT NULL REFERENCES districts(id),
    grade                TEXT,
    title                TEXT,
    must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    disabled             BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    source_id            TEXT,
    -- Optimistic concurrency: every change bumps it, and an update names the
    -- version it was based on, so two educators cannot silently overwrite each other.
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (tenant_id, login_key),
    UNIQUE (tenant_id, source_id),
    -- District admins have a district and no school; everyone else has a school.
    CHECK ((role = 'district_admin') = (school_id IS NULL))
);
CREATE INDEX users_by_school_last ON users (school_id, last_key);
CREATE INDEX users_by_district_last ON users (district_id, last_key);
CREATE INDEX users_by_school_first ON users (school_id, first_key);
CREATE INDEX users_by_district_first ON users (district_id, first_key);
CREATE INDEX users_by_district_login ON users (district_id, login_key);

-- Password hashes live apart from the record, so nothing that reads a user can
-- print one by accident. Only argon2id PHC strings are stored, never a password.
CREATE TABLE credentials (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    password_hash  TEXT NOT NULL,
    set_at         TEXT NOT NULL,
    expires_at     TEXT                 -- temporary passwords expire (72 h by default)
);

-- A Discord server is bound to exactly one tenant.
CREATE TABLE guild_bindings (
    guild_id    TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    bound_at    TEXT NOT NULL
);

-- A chat account is linked to exactly one directory user per tenant, and a
-- directory user to at most one chat account.
CREATE TABLE chat_links (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    discord_user_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL UNIQUE REFERENCES users(id),
    linked_at        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, discord_user_id)
);
