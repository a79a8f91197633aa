-- Autocomplete answers from an in-process index of the directory
-- (src/store/directory/), so each keystroke needs to ask the database only
-- "what changed since you last looked?". Each user and school row records the
-- transaction that last wrote it (`written_by`, set on insert by the default,
-- on update by the trigger). A reader remembers the snapshot it last read at
-- (pg_current_snapshot(), the statement's own) and asks for the rows whose
-- writer that snapshot could not see: exactly the changes committed since,
-- whatever order concurrent transactions took their ids or committed in, and
-- with no lock shared between writers. Nothing is logged, so nothing is pruned.
ALTER TABLE users ADD COLUMN written_by xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE schools ADD COLUMN written_by xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE FUNCTION directory_written_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.written_by := pg_current_xact_id();
    RETURN NEW;
END;
$$;

CREATE TRIGGER users_written_by BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION directory_written_by();
CREATE TRIGGER schools_written_by BEFORE UPDATE ON schools
    FOR EACH ROW EXECUTE FUNCTION directory_written_by();

CREATE INDEX users_by_writer ON users (tenant_id, written_by);
CREATE INDEX schools_by_writer ON schools (tenant_id, written_by);
