//! Email reset links: only the SHA-256 of each token is stored. A token works
//! once, until it expires; using it sets the new password and audits it in the
//! same transaction, so two simultaneous submits cannot both succeed.

use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use super::credentials::write_password;
use super::{Store, StoreError, time};
use crate::audit::AuditEntry;
use crate::credentials::TokenHash;
use crate::directory::{TenantId, User, UserId};

/// How long a claimed link waits for its submit before another may claim it.
pub const CLAIM_LAPSE: Duration = Duration::minutes(1);

/// Why a reset link was not used. One answer for unknown, used and expired
/// links, so nobody can probe which tokens exist.
#[derive(Debug, thiserror::Error)]
pub enum ResetTokenError {
    #[error("This reset link no longer works.")]
    Invalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Stores the hash of a new reset token for `user`.
    #[tracing::instrument(skip(self, user, token_hash), fields(user = %user.id))]
    pub async fn insert_reset_token(
        &self,
        user: &User,
        issued_by: UserId,
        token_hash: &TokenHash,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO reset_tokens (token_hash, tenant_id, user_id, issued_by, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash.as_str().to_owned())
        .bind(user.tenant_id.to_string())
        .bind(user.id.to_string())
        .bind(issued_by.to_string())
        .bind(time::encode(issued_at))
        .bind(time::encode(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a token whose email could not be sent.
    #[tracing::instrument(skip_all)]
    pub async fn delete_reset_token(&self, token_hash: &TokenHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM reset_tokens WHERE token_hash = $1")
            .bind(token_hash.as_str().to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user a token resets, if it is unused, unexpired at `now`, and the
    /// account is still enabled.
    #[tracing::instrument(skip_all)]
    pub async fn reset_token_user(
        &self,
        token_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT tenant_id, user_id FROM reset_tokens \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash.as_str().to_owned())
        .bind(time::encode(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let tenant = TenantId::parse(&row.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(e.0))?;
        let user = UserId::parse(&row.try_get::<String, _>("user_id")?)
            .map_err(|e| StoreError::Corrupt(e.0))?;
        Ok(self.user(tenant, user).await?.filter(|u| !u.disabled))
    }

    /// Claims a token for one submit before its new password is hashed, so any
    /// number of submits of one link cost one hash. `false` when the token is
    /// unknown, used, expired at `now`, not `user`'s, or claimed by another
    /// submit less than [`CLAIM_LAPSE`] ago (a claim whose submit died lapses).
    #[tracing::instrument(skip_all, fields(user = %user.id))]
    pub async fn claim_reset_token(
        &self,
        token_hash: &TokenHash,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "UPDATE reset_tokens SET claimed_at = $1 WHERE token_hash = $2 AND user_id = $3 \
             AND used_at IS NULL AND expires_at > $1 AND (claimed_at IS NULL OR claimed_at < $4)",
        )
        .bind(time::encode(now))
        .bind(token_hash.as_str().to_owned())
        .bind(user.id.to_string())
        .bind(time::encode(now - CLAIM_LAPSE))
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Gives a claim back when its submit could not finish, so the link works again.
    #[tracing::instrument(skip_all)]
    pub async fn release_reset_token(&self, token_hash: &TokenHash) -> Result<(), StoreError> {
        sqlx::query("UPDATE reset_tokens SET claimed_at = NULL WHERE token_hash = $1")
            .bind(token_hash.as_str().to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Uses a token: marks it (and every other outstanding link of the same
    /// user) used, stores the new password hash with no "must change" and no
    /// expiry, and audits the change, all in one transaction. The token must
    /// still be unused and unexpired at `audit.at` and belong to `user`.
    #[tracing::instrument(skip(self, token_hash, user, phc, audit), fields(user = %user.id))]
    pub async fn use_reset_token(
        &self,
        token_hash: &TokenHash,
        user: &User,
        phc: &str,
        audit: AuditEntry,
    ) -> Result<(), ResetTokenError> {
        let now = time::encode(audit.at);
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE reset_tokens SET used_at = $1 WHERE token_hash = $2 AND user_id = $3 \
             AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.clone())
        .bind(token_hash.as_str().to_owned())
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if claimed.rows_affected() != 1 {
            return Err(ResetTokenError::Invalid);
        }
        sqlx::query("UPDATE reset_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        write_password(&mut tx, user, phc, false, None, audit).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}
