//! What a sign-in writes: the durable count of consecutive failures that locks
//! an account, and a fresh hash when the stored one was made with weaker
//! parameters. New passwords set the count back to zero in `credentials.rs`.
//! A failure that matched no checkable account (unknown, disabled, locked) is
//! counted too, in `signin_failures`, by a write of the same size, so the time
//! of a refusal does not tell whether the login exists.
//!
//! Promise: the count is changed by single atomic statements, so failures on
//! several instances sharing one database all count; nothing here reads or
//! writes a password, only argon2id PHC strings the caller made.

use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use super::{Store, StoreError, audit, time};
use crate::audit::AuditEntry;
use crate::directory::User;

impl Store {
    /// Counts one more failed sign-in for `user` and answers the new count.
    /// When this failure is the one that reaches `threshold`, `lock_audit` is
    /// written in the same transaction (once per lock, not per failure).
    #[tracing::instrument(skip(self, user, lock_audit), fields(user = %user.id))]
    pub async fn record_failed_signin(
        &self,
        user: &User,
        threshold: u32,
        lock_audit: AuditEntry,
    ) -> Result<u32, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE credentials SET failed_signins = failed_signins + 1 WHERE user_id = $1 \
             RETURNING failed_signins",
        )
        .bind(user.id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let count = u32::try_from(row.try_get::<i64, _>("failed_signins")?).unwrap_or(u32::MAX);
        if count == threshold {
            let entry = lock_audit
                .in_tenant(user.tenant_id)
                .target(user.id, user.display_name());
            audit::insert(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    /// Counts one more failed sign-in under `attempt_key` (the keyed hash of a
    /// tenant and login as typed that matched no checkable account) and
    /// answers the new count. Like [`Self::record_failed_signin`], one write
    /// transaction; rows whose last failure is more than `memory` old are
    /// deleted in it, so made-up logins cannot grow the table for ever.
    #[tracing::instrument(skip_all)]
    pub async fn record_unmatched_signin(
        &self,
        attempt_key: &str,
        now: DateTime<Utc>,
        memory: Duration,
    ) -> Result<u32, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO signin_failures (attempt_key, failures, last_failed_at) \
             VALUES ($1, 1, $2) \
             ON CONFLICT (attempt_key) DO UPDATE \
             SET failures = signin_failures.failures + 1, last_failed_at = excluded.last_failed_at \
             RETURNING failures",
        )
        .bind(attempt_key.to_owned())
        .bind(time::encode(now))
        .fetch_one(&mut *tx)
        .await?;
        let count = u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX);
        sqlx::query("DELETE FROM signin_failures WHERE last_failed_at < $1")
            .bind(time::encode(now - memory))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Sets the count of failed sign-ins back to zero after a success.
    #[tracing::instrument(skip(self, user), fields(user = %user.id))]
    pub async fn clear_failed_signins(&self, user: &User) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE credentials SET failed_signins = 0 WHERE user_id = $1 AND failed_signins <> 0",
        )
        .bind(user.id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces the stored hash `old_phc` of `user` by `new_phc`, a hash of the
    /// same password under today's parameters; expiry and "must change" stay.
    /// Only if the hash is still `old_phc`: a password changed meanwhile wins.
    /// Not audited: the password is the same, only its protection is stronger.
    #[tracing::instrument(skip(self, user, old_phc, new_phc), fields(user = %user.id))]
    pub async fn rehash_password(
        &self,
        user: &User,
        old_phc: &str,
        new_phc: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE credentials SET password_hash = $1 WHERE user_id = $2 AND password_hash = $3",
        )
        .bind(new_phc.to_owned())
        .bind(user.id.to_string())
        .bind(old_phc.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
