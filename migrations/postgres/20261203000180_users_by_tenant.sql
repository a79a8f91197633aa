-- A tenant's users in id order. Reading a whole tenant (autocomplete's index
-- load at start-up, a re-import's read of the users and of what the roster
-- last said about them; `store::json_pages`) goes page by page in id order,
-- and the only index of ids was the primary key: each read walked every
-- tenant's users and checked the tenant row by row, so in a database shared
-- by several districts loading one district cost the whole database, and
-- starting `serve` cost the number of districts times that (measured on
-- SQLite: a district of 1,000 beside one of 200,000 took 80 ms to read its
-- one page, 3 ms through a range of this index). A tenant's new users have
-- later ids than its earlier ones, so an import appends to its tenant's run.
CREATE INDEX users_by_tenant ON users (tenant_id, id);

-- Migration 170's partial index of a district's enabled district admins,
-- with the id after the district: they are locked in id order (so that two
-- changes never deadlock), and with the index above SQLite read them in that
-- order from it, the whole tenant's users checked one by one, rather than
-- sort the few rows of the partial index.
DROP INDEX users_district_admins;
CREATE INDEX users_district_admins ON users (tenant_id, district_id, id)
    WHERE role = 'district_admin' AND disabled = 0;
