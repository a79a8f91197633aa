-- The enabled district admins of a district. They are counted before a
-- district admin is demoted, moved or disabled (the last one never is), and
-- on PostgreSQL locked in the transaction that makes the change. No index
-- served that: SQLite walked every user of the tenant through the
-- (tenant_id, login_key) index, PostgreSQL scanned the table (measured at
-- 100,000 users: 24-97 ms on SQLite, 33 ms on PostgreSQL, ten times that at
-- 1,000,000). The queries name `role = 'district_admin' AND disabled = 0`
-- as written here, so either planner can use this partial index, which holds
-- a few rows a district and costs an import of students nothing but the test
-- of the condition.
CREATE INDEX users_district_admins ON users (tenant_id, district_id)
    WHERE role = 'district_admin' AND disabled = 0;
