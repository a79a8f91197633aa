-- Autocomplete at district scale: each branch of the three-way prefix search
-- (last name, first name, login) within a school or a district is one range
-- of one index, and the role filter and the id it returns are read from that
-- index too (no table row per candidate). Before this, a school-scoped login
-- search had no (school_id, login_key) index and walked the tenant-wide
-- UNIQUE (tenant_id, login_key) index, filtering by school row by row: work
-- in proportion to the district, not to the 25 rows shown. The new indexes
-- start with the columns of the ones they replace, so every other query that
-- used those is served as before.
DROP INDEX users_by_school_last;
DROP INDEX users_by_district_last;
DROP INDEX users_by_school_first;
DROP INDEX users_by_district_first;
DROP INDEX users_by_district_login;
CREATE INDEX users_search_school_last ON users (school_id, last_key, role, id);
CREATE INDEX users_search_school_first ON users (school_id, first_key, role, id);
CREATE INDEX users_search_school_login ON users (school_id, login_key, role, id);
CREATE INDEX users_search_district_last ON users (district_id, last_key, role, id);
CREATE INDEX users_search_district_first ON users (district_id, first_key, role, id);
CREATE INDEX users_search_district_login ON users (district_id, login_key, role, id);
