//! What the chat bot keeps: one-time link codes and durable quotas.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::{Backend, Store, StoreError, audit, time};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
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

    /// Sets a temporary password and opens its hand-off, in one transaction:
    /// the password a roll-back would put back (read under the same lock, so a
    /// concurrent reset cannot slip in between) is kept in the store, not in
    /// memory. Answers the hand-off's id; finish it with
    /// [`Store::finish_handoff`] once delivered, or [`Store::roll_back_handoff`].
    pub async fn start_handoff(
        &self,
        user: &User,
        new: &NewPassword<'_>,
        audit_entry: AuditEntry,
    ) -> Result<HandoffId, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let previous = sqlx::query(
            "SELECT c.password_hash, c.expires_at, u.must_change_password FROM users u \
             LEFT JOIN credentials c ON c.user_id = u.id WHERE u.id = $1 AND u.tenant_id = $2",
        )
        .bind(user.id.to_string())
        .bind(user.tenant_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let previous_hash: Option<String> = previous.try_get("password_hash")?;
        let previous_expires: Option<String> = previous.try_get("expires_at")?;
        let previous_must_change =
            previous.try_get::<i64, _>("must_change_password")? != 0 && previous_hash.is_some();
        let started_at = audit_entry.at;
        super::credentials::write_password(
            &mut tx,
            user,
            new.phc,
            true,
            Some(new.expires_at),
            audit_entry,
        )
        .await?;
        let id = Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO handoffs (id, tenant_id, user_id, previous_hash, previous_expires_at, \
             previous_must_change, new_hash, quota_use, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.clone())
        .bind(user.tenant_id.to_string())
        .bind(user.id.to_string())
        .bind(previous_hash)
        .bind(previous_expires)
        .bind(i64::from(previous_must_change))
        .bind(new.phc.to_owned())
        .bind(new.quota_use.map(str::to_owned))
        .bind(time::encode(started_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(HandoffId(id))
    }

    /// The password reached its recipient: the hand-off is over, and the
    /// previous hash it kept is forgotten.
    pub async fn finish_handoff(
        &self,
        id: &HandoffId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE handoffs SET finished_at = $1, outcome = 'delivered', previous_hash = NULL, \
             previous_expires_at = NULL WHERE id = $2 AND finished_at IS NULL",
        )
        .bind(time::encode(at))
        .bind(id.0.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Rolls back a hand-off whose password nobody received: puts back the
    /// previous password (or removes the new one if there was none) only while
    /// the stored hash is still the one this reset wrote, in one conditional
    /// statement, so a newer reset or a password the student chose meanwhile
    /// stands. Gives back the self-service use; audited either way.
    pub async fn roll_back_handoff(
        &self,
        id: &HandoffId,
        at: DateTime<Utc>,
    ) -> Result<RollBack, StoreError> {
        let owner = sqlx::query("SELECT tenant_id, user_id FROM handoffs WHERE id = $1")
            .bind(id.0.clone())
            .fetch_optional(&self.pool)
            .await?;
        let Some(owner) = owner else {
            return Ok(RollBack::AlreadyFinished);
        };
        let tenant = TenantId::parse(&owner.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(e.0))?;
        let user_id = UserId::parse(&owner.try_get::<String, _>("user_id")?)
            .map_err(|e| StoreError::Corrupt(e.0))?;
        let user = self
            .user(tenant, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut tx = self.begin_write().await?;
        // Claiming the row first makes a second roll-back (a sweep racing the
        // delivery task) a no-op.
        let claimed = sqlx::query(
            "UPDATE handoffs SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL \
             RETURNING previous_hash, previous_expires_at, previous_must_change, new_hash, quota_use",
        )
        .bind(time::encode(at))
        .bind(id.0.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = claimed else {
            return Ok(RollBack::AlreadyFinished);
        };
        let previous: Option<String> = row.try_get("previous_hash")?;
        let previous_expires: Option<String> = row.try_get("previous_expires_at")?;
        let previous_must_change = row.try_get::<i64, _>("previous_must_change")? != 0;
        let new_hash: String = row.try_get("new_hash")?;
        let quota_use: Option<String> = row.try_get("quota_use")?;
        let changed = match &previous {
            Some(phc) => {
                sqlx::query(
                    "UPDATE credentials SET password_hash = $1, expires_at = $2 \
                 WHERE user_id = $3 AND password_hash = $4",
                )
                .bind(phc.clone())
                .bind(previous_expires.clone())
                .bind(user.id.to_string())
                .bind(new_hash.clone())
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND password_hash = $2")
                    .bind(user.id.to_string())
                    .bind(new_hash.clone())
                    .execute(&mut *tx)
                    .await?
            }
        };
        let outcome = if changed.rows_affected() == 1 {
            sqlx::query("UPDATE users SET must_change_password = $1 WHERE id = $2")
                .bind(i64::from(previous_must_change))
                .bind(user.id.to_string())
                .execute(&mut *tx)
                .await?;
            RollBack::Restored
        } else {
            // A later hand-off still open took this reset's password as the
            // one to put back; nobody received it, so it inherits ours.
            sqlx::query(
                "UPDATE handoffs SET previous_hash = $1, previous_expires_at = $2, \
                 previous_must_change = $3 WHERE user_id = $4 AND finished_at IS NULL \
                 AND previous_hash = $5",
            )
            .bind(previous.clone())
            .bind(previous_expires)
            .bind(i64::from(previous_must_change))
            .bind(user.id.to_string())
            .bind(new_hash)
            .execute(&mut *tx)
            .await?;
            RollBack::Superseded
        };
        sqlx::query(
            "UPDATE handoffs SET outcome = $1, previous_hash = NULL, previous_expires_at = NULL \
             WHERE id = $2",
        )
        .bind(outcome.label())
        .bind(id.0.clone())
        .execute(&mut *tx)
        .await?;
        if let Some(quota_use) = quota_use {
            sqlx::query("DELETE FROM quota_usage WHERE id = $1")
                .bind(quota_use)
                .execute(&mut *tx)
                .await?;
        }
        let (reason, after) = match outcome {
            RollBack::Restored => (
                "the temporary password could not be delivered; the previous password was restored",
                "restored",
            ),
            _ => (
                "the temporary password could not be delivered; a newer password was set meanwhile and stands",
                "kept",
            ),
        };
        let entry = AuditEntry::new(
            Some(user.tenant_id),
            at,
            AuditActor::system("hallpass"),
            Action::PasswordReset,
            Origin::default(),
        )
        .failed(reason)
        .target(user.id, user.display_name())
        .change(json!({ "password": "reset" }), json!({ "password": after }));
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Rolls back every hand-off started before `started_before` that never
    /// finished (the process delivering it stopped); answers how many.
    pub async fn roll_back_unfinished_handoffs(
        &self,
        started_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM handoffs WHERE finished_at IS NULL AND started_at < $1 ORDER BY started_at",
        )
        .bind(time::encode(started_before))
        .fetch_all(&self.pool)
        .await?;
        let mut rolled = 0;
        for row in rows {
            let id = HandoffId(row.try_get("id")?);
            if self.roll_back_handoff(&id, at).await? != RollBack::AlreadyFinished {
                rolled += 1;
            }
        }
        Ok(rolled)
    }

    /// What the audit log says an interaction came to: `failed` if any of its
    /// entries failed, else `refused` if any was refused, else `applied` (or
    /// `None` when it wrote no entry).
    pub async fn interaction_outcome(
        &self,
        interaction_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT outcome FROM audit_events WHERE interaction_id = $1")
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

/// A password hand-off in the store (see [`Store::start_handoff`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffId(pub String);

/// The temporary password a hand-off sets.
pub struct NewPassword<'a> {
    pub phc: &'a str,
    pub expires_at: DateTime<Utc>,
    /// The self-service use a roll-back gives back.
    pub quota_use: Option<&'a str>,
}

/// What [`Store::roll_back_handoff`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollBack {
    /// The previous password is back (or, if there was none, the new one is gone).
    Restored,
    /// Another password was set meanwhile; it stands.
    Superseded,
    /// The hand-off had already finished (delivered, or rolled back before).
    AlreadyFinished,
}

impl RollBack {
    fn label(self) -> &'static str {
        match self {
            Self::Restored => "rolled_back",
            Self::Superseded => "superseded",
            Self::AlreadyFinished => "finished",
        }
    }
}
