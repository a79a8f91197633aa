-- Failed sign-ins that matched no account we could check: an unknown tenant
-- or login, a disabled account, or one already locked.
--
-- Why a table: a wrong password for an account is counted durably (an UPDATE
-- of credentials.failed_signins, in its own write transaction). If the other
-- failures wrote nothing they would answer measurably sooner, and the time of
-- the 401 would tell whether a login exists. So they, too, make one small
-- write transaction: they add one to the count kept here, per (tenant,
-- login) as typed.
--
-- attempt_key is the HMAC-SHA256, under the server key, of the tenant and the
-- login as typed, never the text itself: people type their password into the
-- login box, and a copied database must not show it. A row is kept while its
-- failures are recent (a day), and older rows are deleted as new ones arrive,
-- so guessing made-up logins cannot grow the table without bound.
CREATE TABLE signin_failures (
    attempt_key    TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    last_failed_at TEXT NOT NULL
);
CREATE INDEX signin_failures_by_time ON signin_failures (last_failed_at);
