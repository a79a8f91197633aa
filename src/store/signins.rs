//! What a sign-in writes: the durable count of consecutive failures that locks
//! an account, and a fresh hash when the stored one was made with weaker
//! parameters. New passwords set the count back to zero in `credentials.rs`.
//!
//! Promise: the count is changed by single atomic statements, so failures on
//! several instances sharing one database all count; nothing here reads or
//! writes a password, only argon2id PHC strings the caller made.

use sqlx::Row;

use super::{Store, StoreError, audit};
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
