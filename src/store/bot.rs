//! What the chat bot keeps: one-time link codes and durable quotas. (Password
//! hand-offs are in `handoffs.rs`.)

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::{Backend, Store, StoreError, audit, time};
use crate::audit::AuditEntry;
use crate::directory::{DiscordUserId, TenantId, User, UserId};

/// The answer of [`Store::take_quota`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaDecision {
    /// `Some(id)` when a use was taken (give it back with [`Store::refund_quota`]).
    pub taken: Option<String>,
    /// Uses left in the window after this one.
    pub remaining: u32,
    /// When the oldest use in the window expires (when to try again if refused).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Why a link code was not redeemed. One answer for unknown, used and expired
/// codes, so nobody can probe which codes exist.
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error(
        "That code doesn't work. Codes work once and expire after a day; ask an admin for a new one."
    )]
    Invalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Takes one use of `kind` for `subject` if fewer than `limit` were taken in
    /// the `window` before `now`. Atomic across instances: SQLite serialises
    /// writers; on PostgreSQL a transaction-scoped advisory lock per subject does.
    pub async fn take_quota(
        &self,
        tenant: TenantId,
        subject: &str,
        kind: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<QuotaDecision, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("{tenant}/{subject}/{kind}"))
                .execute(&mut *tx)
                .await?;
        }
        let since = time::encode(now - window);
        let rows = sqlx::query(
            "SELECT at FROM quota_usage WHERE tenant_id = $1 AND subject = $2 AND kind = $3 AND at > $4 ORDER BY at",
        )
        .bind(tenant.to_string())
        .bind(subject.to_owned())
        .bind(kind.to_owned())
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        let used = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let oldest = rows
            .first()
            .map(|r| r.try_get::<String, _>("at"))
            .transpose()?;
        let retry_at = oldest
            .as_deref()
            .map(time::decode)
            .transpose()?
            .map(|t| t + window);
        if used >= limit {
            return Ok(QuotaDecision {
                taken: None,
                remaining: 0,
                retry_at,
            });
        }
        let id = Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO quota_usage (id, tenant_id, subject, kind, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.clone())
            .bind(tenant.to_string())
            .bind(subject.to_owned())
            .bind(kind.to_owned())
            .bind(time::encode(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(QuotaDecision {
            taken: Some(id),
            remaining: limit - used - 1,
            retry_at,
        })
    }

    /// Gives back a use taken by [`Store::take_quota`] (the action was undone).
    pub async fn refund_quota(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM quota_usage WHERE id = $1")
            .bind(id.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the hash of a new link code for `user`, ending the codes issued
    /// for them before (one outstanding code per person), in one transaction.
    pub async fn insert_link_code(
        &self,
        user: &User,
        issued_by: UserId,
        code_hash: &str,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE link_codes SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
            .bind(time::encode(issued_at))
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO link_codes (code_hash, tenant_id, user_id, issued_by, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_hash.to_owned())
        .bind(user.tenant_id.to_string())
        .bind(user.id.to_string())
        .bind(issued_by.to_string())
        .bind(time::encode(issued_at))
        .bind(time::encode(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Redeems a link code: marks it used and links the chat account, audited,
    /// in one transaction. A code works once, until it expires.
    pub async fn redeem_link_code(
        &self,
        tenant: TenantId,
        code_hash: &str,
        discord: DiscordUserId,
        audit_entry: AuditEntry,
    ) -> Result<User, RedeemError> {
        let now = time::encode(audit_entry.at);
        let mut tx = self.begin_write().await.map_err(RedeemError::Store)?;
        let row = sqlx::query(
            "UPDATE link_codes SET used_at = $1 WHERE code_hash = $2 AND tenant_id = $3 \
             AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
        )
        .bind(now.clone())
        .bind(code_hash.to_owned())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let Some(row) = row else {
            return Err(RedeemError::Invalid);
        };
        let user_id: String = row.try_get("user_id").map_err(StoreError::from)?;
        let inserted = sqlx::query(
            "INSERT INTO chat_links (tenant_id, discord_user_id, user_id, linked_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.to_string())
        .bind(discord.to_string())
        .bind(user_id.clone())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::AlreadyLinked.into());
            }
            other => other.map_err(StoreError::from)?,
        };
        let id = UserId::parse(&user_id).map_err(|e| StoreError::Corrupt(e.0))?;
        let entry = audit_entry.in_tenant(tenant).change(
            json!({ "discord_user_id": null }),
            json!({ "discord_user_id": discord.to_string() }),
        );
        let entry = AuditEntry {
            target_user_id: Some(id),
            ..entry
        };
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.user(tenant, id)
            .await?
            .ok_or(RedeemError::Store(StoreError::NotFound))
    }

    /// What the audit log says an interaction came to: `failed` if any of its
    /// entries failed, else `refused` if any was refused, else `applied` (or
    /// `None` when it wrote no entry).
    pub async fn interaction_outcome(
        &self,
        interaction_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let rows = sqlx::query(OUTCOMES_OF_INTERACTION)
            .bind(interaction_id.to_owned())
            .fetch_all(&self.pool)
            .await?;
        let outcomes = rows
            .iter()
            .map(|r| r.try_get::<String, _>("outcome"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(["failed", "refused", "applied"]
            .into_iter()
            .find(|o| outcomes.iter().any(|x| x == o))
            .map(str::to_owned))
    }

    /// The support outbox's backlog: how many tickets wait, and since when the
    /// oldest has.
    pub async fn outbox_backlog(&self) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS depth, MIN(enqueued_at) AS oldest FROM support_outbox \
             WHERE next_attempt_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let depth = u64::try_from(row.try_get::<i64, _>("depth")?).unwrap_or(0);
        let oldest: Option<String> = row.try_get("oldest")?;
        Ok((depth, oldest.as_deref().map(time::decode).transpose()?))
    }
}

/// The outcomes of one interaction's audit entries (served by the partial
/// index `audit_events_by_interaction`).
pub(crate) const OUTCOMES_OF_INTERACTION: &str =
    "SELECT DISTINCT outcome FROM audit_events WHERE interaction_id = $1";
