//! The support outbox: tickets waiting to be delivered to Zendesk.
//!
//! Promises:
//!
//! * A claim hands each due entry to exactly one worker, however many
//!   instances share the database: PostgreSQL claims with
//!   `FOR UPDATE SKIP LOCKED`, SQLite's `BEGIN IMMEDIATE` serialises claimers.
//!   A claim is a lease: its entries are not due again until it expires.
//! * Every outcome is recorded against the claim that produced it (its lease
//!   token): a worker that lost its lease (it stalled past it and another took
//!   over) changes nothing.
//! * An entry whose lease expired is taken over as *uncertain*: its worker may
//!   have created the ticket before vanishing, so the next one looks it up first.
//! * A transaction that changes both a request and its entry (here, in
//!   `decisions.rs`, in `promotions.rs`) locks the request's row first, so
//!   the worker and the webhook never deadlock each other on PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::promotions::{PROMOTION_FIELDS, PromotionRequest, lock_promotion, promotion_from_row};
use super::{Backend, Store, StoreError, audit, time};
use crate::audit::AuditEntry;
use crate::directory::{PromotionId, TenantId};

/// An entry a worker has claimed and must settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub request_id: PromotionId,
    pub number: i64,
    pub tenant_id: TenantId,
    /// The ticket to send, as rendered when the request was made.
    pub ticket_json: String,
    /// Failed attempts so far (429s not counted).
    pub attempts: u32,
    /// An earlier attempt may have created the ticket: look it up first.
    pub uncertain: bool,
    /// When delivery started: the give-up horizon counts from here.
    pub enqueued_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// Names this claim in every update that settles it.
    pub lease_token: String,
}

/// When to try an entry again, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPlan {
    pub next_attempt_at: DateTime<Utc>,
    /// Counts toward the backoff (a 429 does not).
    pub counts_as_failure: bool,
    /// The failed attempt may have created the ticket.
    pub uncertain: bool,
    pub error: String,
}

impl Store {
    /// Claims up to `limit` entries due at `now` for `lease`. Entries whose
    /// previous lease ran out are marked uncertain.
    #[tracing::instrument(skip(self))]
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let token = Uuid::now_v7().to_string();
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claim = format!(
            "UPDATE support_outbox SET lease_token = $1, lease_until = $2, next_attempt_at = $2, \
             uncertain = CASE WHEN lease_until IS NULL THEN uncertain ELSE 1 END \
             WHERE request_id IN (SELECT request_id FROM support_outbox \
               WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $3 \
               ORDER BY next_attempt_at LIMIT $4{skip_locked})"
        );
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(sqlx::AssertSqlSafe(claim))
            .bind(token.clone())
            .bind(time::encode(now + lease))
            .bind(time::encode(now))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT o.request_id, p.number, p.tenant_id, o.ticket_json, o.attempts, o.uncertain, \
             o.enqueued_at, o.last_error FROM support_outbox o JOIN promotion_requests p ON p.id = o.request_id \
             WHERE o.lease_token = $1 ORDER BY p.number",
        )
        .bind(token.clone())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("request_id")?;
                let tenant: String = row.try_get("tenant_id")?;
                let attempts: i64 = row.try_get("attempts")?;
                Ok(ClaimedDelivery {
                    request_id: PromotionId::parse(&id).map_err(|e| {
                        StoreError::Corrupt(format!("support_outbox.request_id: {e}"))
                    })?,
                    number: row.try_get("number")?,
                    tenant_id: TenantId::parse(&tenant).map_err(|e| {
                        StoreError::Corrupt(format!("promotion_requests.tenant_id: {e}"))
                    })?,
                    ticket_json: row.try_get("ticket_json")?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    uncertain: row.try_get::<i64, _>("uncertain")? != 0,
                    enqueued_at: time::decode(&row.try_get::<String, _>("enqueued_at")?)?,
                    last_error: row.try_get("last_error")?,
                    lease_token: token.clone(),
                })
            })
            .collect()
    }

    /// The ticket exists: the request is `ticket_open` and the entry delivered.
    /// `None` when the claim was lost (another worker or a decision settled it).
    #[tracing::instrument(skip(self, claim), fields(request = claim.number))]
    pub async fn record_ticket_opened(
        &self,
        claim: &ClaimedDelivery,
        ticket_id: u64,
        now: DateTime<Utc>,
    ) -> Result<Option<PromotionRequest>, StoreError> {
        let mut tx = self.begin_write().await?;
        // The request's row first, then the entry's: the order every
        // transaction that touches both keeps, so none deadlocks another.
        if lock_promotion(&mut tx, self.backend, claim.request_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let settled = sqlx::query(
            "UPDATE support_outbox SET delivered_at = $1, next_attempt_at = NULL, lease_token = NULL, \
             lease_until = NULL, last_error = NULL WHERE request_id = $2 AND lease_token = $3",
        )
        .bind(time::encode(now))
        .bind(claim.request_id.to_string())
        .bind(claim.lease_token.clone())
        .execute(&mut *tx)
        .await?;
        if settled.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!(
            "UPDATE promotion_requests SET state = 'ticket_open', ticket_id = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'queued' RETURNING {PROMOTION_FIELDS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::try_from(ticket_id).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            .bind(time::encode(now))
            .bind(claim.request_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let request = row.as_ref().map(promotion_from_row).transpose()?;
        // Delivered either way: a request decided before we heard of its
        // ticket (the webhook can overtake us) keeps its decision.
        tx.commit().await?;
        Ok(request)
    }

    /// Schedules another attempt. `false` when the claim was lost.
    #[tracing::instrument(skip(self, claim, plan), fields(request = claim.number))]
    pub async fn record_delivery_retry(
        &self,
        claim: &ClaimedDelivery,
        plan: &RetryPlan,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE support_outbox SET next_attempt_at = $1, attempts = attempts + $2, \
             uncertain = CASE WHEN $3 = 1 THEN 1 ELSE uncertain END, last_error = $4, \
             lease_token = NULL, lease_until = NULL WHERE request_id = $5 AND lease_token = $6",
        )
        .bind(time::encode(plan.next_attempt_at))
        .bind(i64::from(plan.counts_as_failure))
        .bind(i64::from(plan.uncertain))
        .bind(plan.error.clone())
        .bind(claim.request_id.to_string())
        .bind(claim.lease_token.clone())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Gives up: the request is `failed` with `reason` (which says what an
    /// operator can do), the entry settled, and `audit` (a failure about the
    /// teacher) appended. `None` when the claim was lost.
    #[tracing::instrument(skip(self, claim, audit), fields(request = claim.number))]
    pub async fn record_delivery_given_up(
        &self,
        claim: &ClaimedDelivery,
        error: &str,
        reason: &str,
        audit: AuditEntry,
    ) -> Result<Option<PromotionRequest>, StoreError> {
        let now = audit.at;
        let mut tx = self.begin_write().await?;
        if lock_promotion(&mut tx, self.backend, claim.request_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let settled = sqlx::query(
            "UPDATE support_outbox SET next_attempt_at = NULL, lease_token = NULL, lease_until = NULL, \
             last_error = $1 WHERE request_id = $2 AND lease_token = $3",
        )
        .bind(error.to_owned())
        .bind(claim.request_id.to_string())
        .bind(claim.lease_token.clone())
        .execute(&mut *tx)
        .await?;
        if settled.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!(
            "UPDATE promotion_requests SET state = 'failed', failure_reason = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'queued' RETURNING {PROMOTION_FIELDS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(reason.to_owned())
            .bind(time::encode(now))
            .bind(claim.request_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            // Decided meanwhile (the webhook overtook us): nothing to give up.
            tx.commit().await?;
            return Ok(None);
        };
        let request = promotion_from_row(&row)?;
        let label = teacher_label(&mut tx, &request).await?;
        let entry = audit.target(request.teacher_id, label).change(
            json!({ "promotion_request": request.number, "state": "queued" }),
            json!({ "promotion_request": request.number, "state": "failed" }),
        );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(Some(request))
    }

    /// Hands back the entries of a claim not yet settled, unattempted and due
    /// at `due` (the worker stopped its pass for a rate limit).
    pub async fn release_claim(
        &self,
        lease_token: &str,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE support_outbox SET next_attempt_at = $1, lease_token = NULL, lease_until = NULL \
             WHERE lease_token = $2",
        )
        .bind(time::encode(due))
        .bind(lease_token.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes every claimed entry due at `now`, keeping its lease so the next
    /// claim counts it as uncertain (its ticket is looked up before one is
    /// created). Only for a start-up where no other instance can hold a claim
    /// (SQLite): entries of a process killed mid-delivery do not wait out
    /// the lease. Answers how many entries were due again.
    pub async fn reclaim_abandoned_claims(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE support_outbox SET next_attempt_at = $1 \
             WHERE lease_token IS NOT NULL AND next_attempt_at > $1",
        )
        .bind(time::encode(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// When the next entry falls due (claimed entries count at their lease's
    /// end); `None` when nothing waits.
    pub async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM support_outbox WHERE next_attempt_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        row.try_get::<Option<String>, _>("due")?
            .as_deref()
            .map(time::decode)
            .transpose()
    }
}

/// "Teach, Tess" for the audit log's target column.
pub(crate) async fn teacher_label(
    conn: &mut sqlx::AnyConnection,
    request: &PromotionRequest,
) -> Result<String, StoreError> {
    let row = sqlx::query("SELECT first_name, last_name FROM users WHERE id = $1")
        .bind(request.teacher_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(row) => format!(
            "{}, {}",
            row.try_get::<String, _>("last_name")?,
            row.try_get::<String, _>("first_name")?
        ),
        None => request.teacher_id.to_string(),
    })
}
