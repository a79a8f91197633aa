//! Email reset links: only the keyed hash (HMAC-SHA256) of each token is
//! stored. A token works once, until it expires; using it sets the new password
//! and audits it in the same transaction, so two simultaneous submits cannot
//! both succeed.
//!
//! Outstanding secrets are ended, not left to expire: a new reset of any kind
//! ends the user's earlier links ([`Store::end_reset_links`],
//! [`Store::end_secrets_before_link`]), a new link also ends a pending
//! temporary password, and a login change ends the links sent to the old
//! address (`end_links_of` inside the user update). An ended link is marked
//! used, so it gets the same answer as a used one.

use chrono::{DateTime, Duration, Utc};
use sqlx::AnyConnection;
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

    /// Ends every outstanding reset link of `user` at `now` (a temporary
    /// password was just set); answers how many there were.
    #[tracing::instrument(skip(self))]
    pub async fn end_reset_links(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        end_links_of(&mut conn, user, now, None).await
    }

    /// After a new reset link was sent: ends the user's other outstanding
    /// links and expires a pending temporary password, in one transaction.
    /// Answers (links ended, whether a temporary password was expired).
    #[tracing::instrument(skip(self, keep))]
    pub async fn end_secrets_before_link(
        &self,
        user: UserId,
        keep: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<(u64, bool), StoreError> {
        let mut tx = self.begin_write().await?;
        let links = end_links_of(&mut tx, user, now, Some(keep)).await?;
        // A temporary password is the one kind with an expiry (chosen ones have none).
        let expired = sqlx::query(
            "UPDATE credentials SET expires_at = $1 WHERE user_id = $2              AND expires_at IS NOT NULL AND expires_at > $1",
        )
        .bind(time::encode(now))
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((links, expired.rows_affected() > 0))
    }
}

/// Marks every unused link of `user` (but `keep`) used at `now`, inside the
/// caller's connection or transaction.
pub(super) async fn end_links_of(
    conn: &mut AnyConnection,
    user: UserId,
    now: DateTime<Utc>,
    keep: Option<&TokenHash>,
) -> Result<u64, StoreError> {
    let ended = sqlx::query(
        "UPDATE reset_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL          AND token_hash <> $3",
    )
    .bind(time::encode(now))
    .bind(user.to_string())
    .bind(keep.map(|k| k.as_str().to_owned()).unwrap_or_default())
    .execute(&mut *conn)
    .await?;
    Ok(ended.rows_affected())
}
