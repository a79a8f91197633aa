//! Password hand-offs: a temporary password is set together with a record of
//! the password it replaced, so that if nobody receives it, it can be rolled
//! back — but only while it is still the stored one (a newer reset, or a
//! password the student chose meanwhile, stands).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::{Backend, Store, StoreError, audit, time};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{TenantId, User, UserId};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
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
        let Some(user) = self.handoff_owner(id).await? else {
            return Ok(RollBack::AlreadyFinished);
        };
        let mut tx = self.begin_write().await?;
        let Some(claimed) = claim(&mut tx, id, at).await? else {
            return Ok(RollBack::AlreadyFinished);
        };
        let outcome = restore(&mut tx, &user, &claimed).await?;
        close(&mut tx, id, outcome, claimed.quota_use.as_deref()).await?;
        audit::insert(&mut tx, &roll_back_entry(&user, outcome, at)).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The user whose password a hand-off set, if the hand-off exists.
    async fn handoff_owner(&self, id: &HandoffId) -> Result<Option<User>, StoreError> {
        let owner = sqlx::query("SELECT tenant_id, user_id FROM handoffs WHERE id = $1")
            .bind(id.0.clone())
            .fetch_optional(&self.pool)
            .await?;
        let Some(owner) = owner else {
            return Ok(None);
        };
        let tenant = TenantId::parse(&owner.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(e.0))?;
        let user_id = UserId::parse(&owner.try_get::<String, _>("user_id")?)
            .map_err(|e| StoreError::Corrupt(e.0))?;
        Ok(Some(
            self.user(tenant, user_id)
                .await?
                .ok_or(StoreError::NotFound)?,
        ))
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
}

/// What a claimed hand-off kept for its roll-back.
struct Claimed {
    previous: Option<String>,
    previous_expires: Option<String>,
    previous_must_change: bool,
    new_hash: String,
    quota_use: Option<String>,
}

/// Claims the hand-off (so a second roll-back, a sweep racing the delivery
/// task, is a no-op) and reads what it kept; `None` if it already finished.
async fn claim(
    tx: &mut Tx,
    id: &HandoffId,
    at: DateTime<Utc>,
) -> Result<Option<Claimed>, StoreError> {
    let claimed = sqlx::query(
        "UPDATE handoffs SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL \
         RETURNING previous_hash, previous_expires_at, previous_must_change, new_hash, quota_use",
    )
    .bind(time::encode(at))
    .bind(id.0.clone())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = claimed else {
        return Ok(None);
    };
    Ok(Some(Claimed {
        previous: row.try_get("previous_hash")?,
        previous_expires: row.try_get("previous_expires_at")?,
        previous_must_change: row.try_get::<i64, _>("previous_must_change")? != 0,
        new_hash: row.try_get("new_hash")?,
        quota_use: row.try_get("quota_use")?,
    }))
}

/// Puts the previous password back while the reset's hash is still stored.
async fn restore(tx: &mut Tx, user: &User, claimed: &Claimed) -> Result<RollBack, StoreError> {
    let changed = match &claimed.previous {
        Some(phc) => {
            sqlx::query(
                "UPDATE credentials SET password_hash = $1, expires_at = $2 \
                 WHERE user_id = $3 AND password_hash = $4",
            )
            .bind(phc.clone())
            .bind(claimed.previous_expires.clone())
            .bind(user.id.to_string())
            .bind(claimed.new_hash.clone())
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND password_hash = $2")
                .bind(user.id.to_string())
                .bind(claimed.new_hash.clone())
                .execute(&mut **tx)
                .await?
        }
    };
    if changed.rows_affected() == 1 {
        sqlx::query("UPDATE users SET must_change_password = $1 WHERE id = $2")
            .bind(i64::from(claimed.previous_must_change))
            .bind(user.id.to_string())
            .execute(&mut **tx)
            .await?;
        return Ok(RollBack::Restored);
    }
    // A later hand-off still open took this reset's password as the
    // one to put back; nobody received it, so it inherits ours.
    sqlx::query(
        "UPDATE handoffs SET previous_hash = $1, previous_expires_at = $2, \
         previous_must_change = $3 WHERE user_id = $4 AND finished_at IS NULL \
         AND previous_hash = $5",
    )
    .bind(claimed.previous.clone())
    .bind(claimed.previous_expires.clone())
    .bind(i64::from(claimed.previous_must_change))
    .bind(user.id.to_string())
    .bind(claimed.new_hash.clone())
    .execute(&mut **tx)
    .await?;
    Ok(RollBack::Superseded)
}

/// Records the outcome, forgets the previous hash and gives back the
/// self-service use.
async fn close(
    tx: &mut Tx,
    id: &HandoffId,
    outcome: RollBack,
    quota_use: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE handoffs SET outcome = $1, previous_hash = NULL, previous_expires_at = NULL \
         WHERE id = $2",
    )
    .bind(outcome.label())
    .bind(id.0.clone())
    .execute(&mut **tx)
    .await?;
    if let Some(quota_use) = quota_use {
        sqlx::query("DELETE FROM quota_usage WHERE id = $1")
            .bind(quota_use.to_owned())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn roll_back_entry(user: &User, outcome: RollBack, at: DateTime<Utc>) -> AuditEntry {
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
    AuditEntry::new(
        Some(user.tenant_id),
        at,
        AuditActor::system("hallpass"),
        Action::PasswordReset,
        Origin::default(),
    )
    .failed(reason)
    .target(user.id, user.display_name())
    .change(json!({ "password": "reset" }), json!({ "password": after }))
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
