-- Sign-in: consecutive failed sign-ins per account, durable so a lock holds
-- across restarts and across instances sharing the database.
--
-- The count lives beside the hash it guards: a wrong password for an account
-- adds one (a single UPDATE ... SET n = n + 1, so concurrent failures on
-- several instances all count), a successful sign-in sets it back to 0, and
-- so does every new password (any reset or change), which is how a reset
-- unlocks an account. The account is locked while the count is at or above
-- the configured threshold (HALLPASS_LOCKOUT_THRESHOLD, 100 by default).
ALTER TABLE credentials ADD COLUMN failed_signins INTEGER NOT NULL DEFAULT 0;
