-- Fewer indexes for the import to keep up (issue 8). Autocomplete answers
-- from its in-process index (src/store/directory/); the users_search_*
-- indexes of migration 090 served only the SQL fallback,
-- `Store::search_users_with_school` (src/store/search.rs), used while that
-- index is read in or reloaded. Six of them were most of an import's time:
-- measured on 100,000 users inserted in batches of 25,000 (PostgreSQL 15,
-- INSERT ... SELECT into this schema): 8.0 s with the six, 3.6 s with none
-- (most of the rest is the foreign-key checks of each row).
--
-- Three indexes now serve both scopes, one per key, each led by the district:
-- (district_id, key, role, id, school_id). After the key come the role and
-- the id, and every user's id is later than those of the users imported
-- before them, so a batch appends at the end of each (district, key, role)
-- run instead of writing into every school's run (5.9 s with the three, the
-- login one most: its keys are all different). school_id is in the index
-- too, so both scopes stay covered (no table row per candidate).
--
-- What the fallback costs after: a district search is one range of one
-- index per key, as before. A school search is the same range of the
-- district's index, with the school (and the role) checked on each index
-- entry in key order, stopping at the limit: about (users of the district /
-- users of the school) x limit entries, 60 x 25 for a 60-school district,
-- and the whole district's range of the prefix when the school has fewer
-- matches than the limit. It is still an index range scan, never a scan of
-- the table, and it runs only until the in-process index is read.
DROP INDEX users_search_school_last;
DROP INDEX users_search_school_first;
DROP INDEX users_search_school_login;
DROP INDEX users_search_district_last;
DROP INDEX users_search_district_first;
DROP INDEX users_search_district_login;
CREATE INDEX users_search_last ON users (district_id, last_key, role, id, school_id);
CREATE INDEX users_search_first ON users (district_id, first_key, role, id, school_id);
CREATE INDEX users_search_login ON users (district_id, login_key, role, id, school_id);
