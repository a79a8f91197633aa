//! Promotion requests (teacher -> school admin): the state machine in the
//! database.
//!
//! Promises:
//!
//! * A request, its outbox entry and its audit entry commit together, or none
//!   of them does.
//! * One open (`queued` or `ticket_open`) request per teacher: the database
//!   refuses a second one (a partial unique index), and the caller gets
//!   [`PromotionError::AlreadyOpen`] carrying the first, whoever won a race.
//! * States move only `queued -> ticket_open -> approved | rejected`, or into
//!   `failed` with a reason an operator can act on; an operator moves a
//!   request that failed before it had a ticket back to `queued`.
//!
//! Delivery lives in `outbox.rs`, the support desk's decision in `decisions.rs`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError, audit, time};
use crate::audit::AuditEntry;
use crate::directory::{PromotionId, SchoolId, TenantId, UserId};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    /// Waiting in the outbox for its ticket.
    Queued,
    /// The ticket exists; support has not decided.
    TicketOpen,
    Approved,
    Rejected,
    /// Delivery gave up, or an approval could not be applied: see the reason.
    Failed,
}

impl PromotionState {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::TicketOpen,
        Self::Approved,
        Self::Rejected,
        Self::Failed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::TicketOpen => "ticket_open",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// Open requests wait for a ticket or for support; a teacher has at most one.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Queued | Self::TicketOpen)
    }
}

impl fmt::Display for PromotionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A promotion request as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionRequest {
    /// The stable id: the ticket's `external_id` and its `Idempotency-Key`.
    pub id: PromotionId,
    /// The number people see: "request #12".
    pub number: i64,
    pub tenant_id: TenantId,
    pub teacher_id: UserId,
    /// The teacher's school when the request was made.
    pub school_id: SchoolId,
    pub requester_id: UserId,
    pub reason: String,
    pub state: PromotionState,
    pub failure_reason: Option<String>,
    pub ticket_id: Option<u64>,
    /// The agent who decided (their email, as the webhook names them).
    pub decided_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PromotionRequest {
    /// Where it stands, in words for the people involved: "queued for
    /// support", "open with support as ticket #345", "failed: …".
    pub fn status_words(&self) -> String {
        match (self.state, self.ticket_id) {
            (PromotionState::Queued, _) => "queued for support".into(),
            (PromotionState::TicketOpen, Some(ticket)) => {
                format!("open with support as ticket #{ticket}")
            }
            (PromotionState::TicketOpen, None) => "open with support".into(),
            (PromotionState::Approved, _) => "approved".into(),
            (PromotionState::Rejected, _) => "rejected".into(),
            (PromotionState::Failed, _) => format!(
                "failed: {}",
                self.failure_reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
            ),
        }
    }
}

/// A request to create. The caller has checked the policy and the reason.
#[derive(Debug, Clone)]
pub struct NewPromotion {
    pub id: PromotionId,
    pub tenant_id: TenantId,
    pub teacher_id: UserId,
    pub school_id: SchoolId,
    pub requester_id: UserId,
    pub reason: String,
}

/// Why a request was not created or not queued again.
#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    /// The teacher already has an open request: this one.
    #[error("the teacher already has an open promotion request (#{})", .0.number)]
    AlreadyOpen(Box<PromotionRequest>),
    /// Only a failed request can be queued again.
    #[error("promotion request #{} is {}, not failed", .0.number, .0.state)]
    NotFailed(Box<PromotionRequest>),
    /// The request failed after its ticket was opened (support's approval could
    /// not apply): sending it again would not change that.
    #[error(
        "promotion request #{} already has Zendesk ticket #{}; it failed on support's decision, not on delivery",
        .0.number,
        .0.ticket_id.unwrap_or_default()
    )]
    HasTicket(Box<PromotionRequest>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The columns of a request, for `SELECT … FROM promotion_requests p`.
pub(crate) const PROMOTION_COLUMNS: &str = "p.number, p.id, p.tenant_id, p.teacher_id, p.school_id, \
     p.requester_id, p.reason, p.state, p.failure_reason, p.ticket_id, p.decided_by, p.created_at, p.updated_at";
/// The same columns unqualified, for `UPDATE promotion_requests … RETURNING`.
pub(crate) const PROMOTION_FIELDS: &str = "number, id, tenant_id, teacher_id, school_id, \
     requester_id, reason, state, failure_reason, ticket_id, decided_by, created_at, updated_at";

pub(super) fn corrupt(column: &str, error: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("promotion_requests.{column}: {error}"))
}

pub(crate) fn promotion_from_row(row: &AnyRow) -> Result<PromotionRequest, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    let state = text("state")?;
    let ticket_id: Option<i64> = row.try_get("ticket_id")?;
    Ok(PromotionRequest {
        id: PromotionId::parse(&text("id")?).map_err(|e| corrupt("id", e))?,
        number: row.try_get("number")?,
        tenant_id: TenantId::parse(&text("tenant_id")?).map_err(|e| corrupt("tenant_id", e))?,
        teacher_id: UserId::parse(&text("teacher_id")?).map_err(|e| corrupt("teacher_id", e))?,
        school_id: SchoolId::parse(&text("school_id")?).map_err(|e| corrupt("school_id", e))?,
        requester_id: UserId::parse(&text("requester_id")?)
            .map_err(|e| corrupt("requester_id", e))?,
        reason: text("reason")?,
        state: PromotionState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        failure_reason: row.try_get("failure_reason")?,
        ticket_id: ticket_id
            .map(u64::try_from)
            .transpose()
            .map_err(|e| corrupt("ticket_id", e))?,
        decided_by: row.try_get("decided_by")?,
        created_at: time::decode(&text("created_at")?)?,
        updated_at: time::decode(&text("updated_at")?)?,
    })
}

/// The request with this id, read on `conn` (inside the caller's
/// transaction); on PostgreSQL the row stays locked until it ends.
pub(crate) async fn lock_promotion(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    id: PromotionId,
) -> Result<Option<PromotionRequest>, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT {PROMOTION_COLUMNS} FROM promotion_requests p WHERE p.id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(promotion_from_row).transpose()
}

impl Store {
    /// Creates a request in `queued`, its outbox entry (carrying the ticket
    /// `render_ticket` makes from the request's number) and `audit` (with the
    /// request added to its after-JSON), in one transaction.
    #[tracing::instrument(skip(self, new, audit, render_ticket), fields(teacher = %new.teacher_id))]
    pub async fn create_promotion(
        &self,
        new: &NewPromotion,
        audit: AuditEntry,
        render_ticket: impl FnOnce(i64) -> String + Send,
    ) -> Result<PromotionRequest, PromotionError> {
        let now = audit.at;
        let mut tx = self.begin_write().await?;
        if let Some(open) = self.open_promotion_on(&mut tx, new.teacher_id).await? {
            return Err(PromotionError::AlreadyOpen(Box::new(open)));
        }
        let inserted = sqlx::query(
            "INSERT INTO promotion_requests (id, tenant_id, teacher_id, school_id, requester_id, reason, \
             state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7) RETURNING number",
        )
        .bind(new.id.to_string())
        .bind(new.tenant_id.to_string())
        .bind(new.teacher_id.to_string())
        .bind(new.school_id.to_string())
        .bind(new.requester_id.to_string())
        .bind(new.reason.clone())
        .bind(time::encode(now))
        .fetch_one(&mut *tx)
        .await;
        let number: i64 = match inserted {
            // Another request for this teacher committed after our check
            // (PostgreSQL; SQLite serialises writers): theirs is the open one.
            Err(e) if StoreError::is_unique_violation(&e) => {
                drop(tx);
                return Err(match self.open_promotion_for(new.teacher_id).await? {
                    Some(open) => PromotionError::AlreadyOpen(Box::new(open)),
                    None => StoreError::Conflict.into(),
                });
            }
            other => other
                .map_err(StoreError::from)?
                .try_get("number")
                .map_err(StoreError::from)?,
        };
        sqlx::query(
            "INSERT INTO support_outbox (request_id, ticket_json, enqueued_at, next_attempt_at) \
             VALUES ($1, $2, $3, $3)",
        )
        .bind(new.id.to_string())
        .bind(render_ticket(number))
        .bind(time::encode(now))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let entry = audit.change(
            json!({}),
            json!({ "promotion_request": number, "state": "queued", "reason": new.reason }),
        );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(PromotionRequest {
            id: new.id,
            number,
            tenant_id: new.tenant_id,
            teacher_id: new.teacher_id,
            school_id: new.school_id,
            requester_id: new.requester_id,
            reason: new.reason.clone(),
            state: PromotionState::Queued,
            failure_reason: None,
            ticket_id: None,
            decided_by: None,
            created_at: now,
            updated_at: now,
        })
    }

    async fn open_promotion_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        teacher: UserId,
    ) -> Result<Option<PromotionRequest>, StoreError> {
        let sql = format!(
            "SELECT {PROMOTION_COLUMNS} FROM promotion_requests p \
             WHERE p.teacher_id = $1 AND p.state IN ('queued', 'ticket_open')"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(teacher.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(promotion_from_row).transpose()
    }

    /// The teacher's open request, if there is one.
    pub async fn open_promotion_for(
        &self,
        teacher: UserId,
    ) -> Result<Option<PromotionRequest>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.open_promotion_on(&mut conn, teacher).await
    }

    pub async fn promotion(&self, id: PromotionId) -> Result<Option<PromotionRequest>, StoreError> {
        let sql = format!("SELECT {PROMOTION_COLUMNS} FROM promotion_requests p WHERE p.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(promotion_from_row).transpose()
    }

    pub async fn promotion_by_number(
        &self,
        number: i64,
    ) -> Result<Option<PromotionRequest>, StoreError> {
        let sql =
            format!("SELECT {PROMOTION_COLUMNS} FROM promotion_requests p WHERE p.number = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(promotion_from_row).transpose()
    }

    /// Queues a request that failed before it had a ticket again: `queued`,
    /// with its outbox entry due now and its give-up horizon restarted, audited
    /// with `audit`. The entry keeps its ticket body and its "uncertain" mark,
    /// so a ticket an earlier attempt may have created is looked up, not duplicated.
    #[tracing::instrument(skip(self, audit))]
    pub async fn retry_promotion(
        &self,
        id: PromotionId,
        audit: AuditEntry,
    ) -> Result<PromotionRequest, PromotionError> {
        let now = audit.at;
        let mut tx = self.begin_write().await?;
        let Some(request) = lock_promotion(&mut tx, self.backend, id).await? else {
            return Err(StoreError::NotFound.into());
        };
        if request.state != PromotionState::Failed {
            return Err(PromotionError::NotFailed(Box::new(request)));
        }
        if request.ticket_id.is_some() {
            return Err(PromotionError::HasTicket(Box::new(request)));
        }
        let updated = sqlx::query(
            "UPDATE promotion_requests SET state = 'queued', failure_reason = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(time::encode(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await;
        match updated {
            Err(e) if StoreError::is_unique_violation(&e) => {
                drop(tx);
                return Err(match self.open_promotion_for(request.teacher_id).await? {
                    Some(open) => PromotionError::AlreadyOpen(Box::new(open)),
                    None => StoreError::Conflict.into(),
                });
            }
            other => other.map_err(StoreError::from)?,
        };
        let requeued = sqlx::query(
            "UPDATE support_outbox SET enqueued_at = $1, next_attempt_at = $1, attempts = 0, \
             lease_token = NULL, lease_until = NULL, delivered_at = NULL WHERE request_id = $2",
        )
        .bind(time::encode(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if requeued.rows_affected() == 0 {
            return Err(StoreError::Corrupt(format!(
                "promotion request #{} has no outbox entry",
                request.number
            ))
            .into());
        }
        let entry = audit.change(
            json!({ "promotion_request": request.number, "state": "failed", "failure_reason": request.failure_reason }),
            json!({ "promotion_request": request.number, "state": "queued" }),
        );
        audit::insert(&mut tx, &entry).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(PromotionRequest {
            state: PromotionState::Queued,
            failure_reason: None,
            updated_at: now,
            ..request
        })
    }
}
