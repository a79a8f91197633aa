//! What burst alerts need from the database: each tenant's audit channel, and
//! how many passwords one educator reset lately, counted from the audit log so
//! the count is the same on every instance.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::{Store, StoreError, audit, time};
use crate::audit::{Action, AuditEntry};
use crate::directory::{DiscordChannelId, Tenant, TenantId, UserId};

impl Store {
    /// Sets the channel where `tenant`'s burst alerts go, audited.
    #[tracing::instrument(skip(self, tenant, audit), fields(tenant = %tenant.name))]
    pub async fn set_audit_channel(
        &self,
        tenant: &Tenant,
        channel: DiscordChannelId,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let previous: Option<String> =
            sqlx::query("SELECT audit_channel_id FROM tenants WHERE id = $1")
                .bind(tenant.id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?
                .try_get("audit_channel_id")?;
        sqlx::query("UPDATE tenants SET audit_channel_id = $1 WHERE id = $2")
            .bind(channel.to_string())
            .bind(tenant.id.to_string())
            .execute(&mut *tx)
            .await?;
        let entry = audit.in_tenant(tenant.id).change(
            json!({ "audit_channel_id": previous }),
            json!({ "audit_channel_id": channel.to_string() }),
        );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's audit channel, if one is set.
    pub async fn audit_channel(
        &self,
        tenant: TenantId,
    ) -> Result<Option<DiscordChannelId>, StoreError> {
        let row = sqlx::query("SELECT audit_channel_id FROM tenants WHERE id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let stored: Option<String> = match row {
            Some(row) => row.try_get("audit_channel_id")?,
            None => None,
        };
        stored
            .map(|id| DiscordChannelId::parse(&id).map_err(|e| StoreError::Corrupt(e.0)))
            .transpose()
    }

    /// Password resets `actor` made (applied, temporary or by email) after `since`.
    pub async fn count_resets_by(
        &self,
        tenant: TenantId,
        actor: UserId,
        since: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let row = sqlx::query(COUNT_APPLIED_BY)
            .bind(tenant.to_string())
            .bind(actor.to_string())
            .bind(Action::PasswordReset.as_str())
            .bind(time::encode(since))
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The class batches (`class.cards` summaries) `actor` made after
    /// `since`: how many passwords each reset. A burst counts a batch as one
    /// event, so its students' entries are taken out of the reset count.
    pub async fn class_batches_by(
        &self,
        tenant: TenantId,
        actor: UserId,
        since: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        let rows = sqlx::query(
            "SELECT after_json FROM audit_events WHERE tenant_id = $1 AND actor_user_id = $2 \
             AND action = $3 AND outcome = 'applied' AND at > $4",
        )
        .bind(tenant.to_string())
        .bind(actor.to_string())
        .bind(Action::ClassCards.as_str())
        .bind(time::encode(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let after: Option<String> = row.try_get("after_json")?;
                let reset = after
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                    .and_then(|value| value.get("reset")?.as_u64())
                    .ok_or_else(|| {
                        StoreError::Corrupt("a class.cards entry without its reset count".into())
                    })?;
                Ok(u32::try_from(reset).unwrap_or(u32::MAX))
            })
            .collect()
    }
}

/// How many applied events of one action an actor made after a moment
/// (served by the partial index `audit_by_actor_action`).
pub(crate) const COUNT_APPLIED_BY: &str = "SELECT COUNT(*) AS n FROM audit_events WHERE tenant_id = $1 \
     AND actor_user_id = $2 AND action = $3 AND outcome = 'applied' AND at > $4";
