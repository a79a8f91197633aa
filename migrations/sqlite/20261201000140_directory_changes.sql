-- Autocomplete answers from an in-process index of the directory
-- (src/store/directory/), so each keystroke needs to ask the database only
-- "what changed since you last looked?". This log answers it: every write to a
-- user's searchable fields or to a school appends a row, in commit order (SQLite
-- has one writer at a time, so `seq` order is commit order). A reader that has
-- applied everything up to seq N fetches the rows with seq > N. Old rows are
-- pruned; `directory_log.pruned_through` says how far, so a reader that looked
-- last before that point reloads the tenant instead of missing a change.
CREATE TABLE directory_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT,
    school_id  TEXT
);

CREATE TABLE directory_log (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through  INTEGER NOT NULL
);
INSERT INTO directory_log (id, pruned_through) VALUES (1, 0);

CREATE TRIGGER users_logged_on_insert AFTER INSERT ON users
BEGIN
    INSERT INTO directory_changes (tenant_id, user_id) VALUES (NEW.tenant_id, NEW.id);
END;

CREATE TRIGGER users_logged_on_update
    AFTER UPDATE OF login, first_name, last_name, role, school_id, district_id, grade, disabled ON users
BEGIN
    INSERT INTO directory_changes (tenant_id, user_id) VALUES (NEW.tenant_id, NEW.id);
END;

CREATE TRIGGER schools_logged_on_insert AFTER INSERT ON schools
BEGIN
    INSERT INTO directory_changes (tenant_id, school_id) VALUES (NEW.tenant_id, NEW.id);
END;

CREATE TRIGGER schools_logged_on_update AFTER UPDATE ON schools
BEGIN
    INSERT INTO directory_changes (tenant_id, school_id) VALUES (NEW.tenant_id, NEW.id);
END;
