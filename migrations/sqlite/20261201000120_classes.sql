-- Classes and enrolments from the roster (OneRoster classes.csv, enrollments.csv).
-- Same portable types as the directory migration (text ids and times).
--
-- A class belongs to one school; its district is stored beside it so a
-- district admin's autocomplete is one index range (classes_by_district_*),
-- as a school admin's is (classes_by_school_*). title_key and code_key are the
-- lower-cased title and classCode, searched by prefix like users' names.
CREATE TABLE classes (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    district_id  TEXT NOT NULL REFERENCES districts(id),
    school_id    TEXT NOT NULL REFERENCES schools(id),
    source_id    TEXT NOT NULL,          -- OneRoster sourcedId, the import's key
    title        TEXT NOT NULL,
    title_key    TEXT NOT NULL,
    class_code   TEXT,
    code_key     TEXT,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, source_id)
);
CREATE INDEX classes_by_school_title ON classes (school_id, title_key, id);
CREATE INDEX classes_by_school_code ON classes (school_id, code_key, id);
CREATE INDEX classes_by_district_title ON classes (district_id, title_key, id);
CREATE INDEX classes_by_district_code ON classes (district_id, code_key, id);

-- Who is in a class, and as what: only 'student' and 'teacher' are kept (the
-- roles a rule reads). Keyed by the enrolment's sourcedId; one person is in a
-- class once. Ending an enrolment (status=tobedeleted) deletes its row; a
-- class that ends takes its enrolments with it (ON DELETE CASCADE). Users are
-- never deleted (they are disabled), so the cascade on users only keeps the
-- database consistent if one ever is.
CREATE TABLE enrollments (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    source_id    TEXT NOT NULL,
    class_id     TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('student', 'teacher')),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source_id),
    UNIQUE (class_id, user_id)
);
-- A class's students (cards) and teachers (teaches): one range by class.
CREATE INDEX enrollments_by_class ON enrollments (class_id, role, user_id);
-- The classes a teacher teaches (autocomplete): one range by user.
CREATE INDEX enrollments_by_user ON enrollments (user_id, role, class_id);
