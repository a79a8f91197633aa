//! Stored password hashes. The only place a hash is read back is
//! [`Store::password_hash`], for verification.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::{Store, StoreError, audit, time};
use crate::audit::AuditEntry;
use crate::directory::{TenantId, User, UserId};

/// A stored hash and when it stops being accepted (temporary passwords expire).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPassword {
    pub phc: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub must_change: bool,
    /// Consecutive failed sign-ins since the last success or new password.
    pub failed_signins: u32,
}

impl std::fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPassword")
            .field("phc", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("must_change", &self.must_change)
            .field("failed_signins", &self.failed_signins)
            .finish()
    }
}

impl Store {
    /// Stores a new password hash (an argon2id PHC string) for `user`, sets or
    /// clears "must change at next sign-in", and audits it, in one transaction.
    /// The audit entry says the password changed; it never holds the hash.
    #[tracing::instrument(skip(self, user, phc, audit), fields(user = %user.id))]
    pub async fn set_password(
        &self,
        user: &User,
        phc: &str,
        must_change: bool,
        expires_at: Option<DateTime<Utc>>,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        write_password(&mut tx, user, phc, must_change, expires_at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored hash, for verification only.
    pub async fn password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<StoredPassword>, StoreError> {
        let row = sqlx::query(
            "SELECT c.password_hash, c.expires_at, c.failed_signins, u.must_change_password FROM credentials c \
             JOIN users u ON u.id = c.user_id WHERE c.user_id = $1 AND u.tenant_id = $2",
        )
        .bind(user.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires: Option<String> = row.try_get("expires_at")?;
        Ok(Some(StoredPassword {
            phc: row.try_get("password_hash")?,
            expires_at: expires.as_deref().map(time::decode).transpose()?,
            must_change: row.try_get::<i64, _>("must_change_password")? != 0,
            failed_signins: u32::try_from(row.try_get::<i64, _>("failed_signins")?).unwrap_or(0),
        }))
    }
}

/// Stores a password hash and audits it inside the caller's transaction (a
/// plain reset, or the reset page consuming its link). A new password also
/// sets the count of failed sign-ins back to zero: every reset and change
/// unlocks the account.
pub(super) async fn write_password(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user: &User,
    phc: &str,
    must_change: bool,
    expires_at: Option<DateTime<Utc>>,
    audit: AuditEntry,
) -> Result<(), StoreError> {
    let updated =
        sqlx::query("UPDATE users SET must_change_password = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(i64::from(must_change))
            .bind(user.id.to_string())
            .bind(user.tenant_id.to_string())
            .execute(&mut **tx)
            .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query(
            "INSERT INTO credentials (user_id, password_hash, set_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, \
             set_at = excluded.set_at, expires_at = excluded.expires_at, failed_signins = 0",
        )
        .bind(user.id.to_string())
        .bind(phc.to_owned())
        .bind(time::encode(audit.at))
        .bind(expires_at.map(time::encode))
        .execute(&mut **tx)
        .await?;
    // What the caller noted (a class batch's id) is kept beside the change.
    let noted = audit.after.clone();
    let mut after = json!({ "password": "changed", "must_change_password": must_change,
                            "expires_at": expires_at.map(time::encode) });
    if let (Some(serde_json::Value::Object(noted)), Some(after)) = (noted, after.as_object_mut()) {
        for (key, value) in noted {
            after.entry(key).or_insert(value);
        }
    }
    let entry = audit
        .in_tenant(user.tenant_id)
        .target(user.id, user.display_name())
        .change(
            json!({ "password": "previous", "must_change_password": user.must_change_password }),
            after,
        );
    audit::insert(tx, &entry).await?;
    Ok(())
}
