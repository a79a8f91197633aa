//! Promotion requests as `hallpass promotions list` shows them: with the
//! names of the people and school, and the delivery state of their ticket.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::promotions::{PromotionState, corrupt};
use super::{Store, StoreError};

/// A request as `hallpass promotions list` shows it: with names and delivery state.
#[derive(Debug, Clone, Serialize)]
pub struct PromotionListing {
    pub number: i64,
    pub id: String,
    pub tenant: String,
    pub state: PromotionState,
    pub teacher_id: String,
    pub teacher: String,
    pub teacher_login: String,
    pub school_id: String,
    pub school: String,
    pub requester_id: String,
    pub requester: String,
    pub requester_login: String,
    pub reason: String,
    pub failure_reason: Option<String>,
    pub ticket_id: Option<u64>,
    pub decided_by: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Store {
    /// Requests with names and delivery state, oldest first; only those in
    /// `state` when given.
    pub async fn promotion_listing(
        &self,
        state: Option<PromotionState>,
    ) -> Result<Vec<PromotionListing>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.number, p.id, tn.name AS tenant, p.state, p.teacher_id, t.first_name AS t_first, \
             t.last_name AS t_last, t.login AS t_login, p.school_id, s.name AS school, p.requester_id, \
             r.first_name AS r_first, r.last_name AS r_last, r.login AS r_login, p.reason, p.failure_reason, \
             p.ticket_id, p.decided_by, o.attempts, o.next_attempt_at, o.last_error, p.created_at, p.updated_at \
             FROM promotion_requests p JOIN tenants tn ON tn.id = p.tenant_id \
             JOIN users t ON t.id = p.teacher_id JOIN users r ON r.id = p.requester_id \
             JOIN schools s ON s.id = p.school_id LEFT JOIN support_outbox o ON o.request_id = p.id \
             WHERE ($1 IS NULL OR p.state = $1) ORDER BY p.number",
        )
        .bind(state.map(|s| s.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(listing_from_row).collect()
    }
}

fn listing_from_row(row: &AnyRow) -> Result<PromotionListing, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    let state = text("state")?;
    let ticket_id: Option<i64> = row.try_get("ticket_id")?;
    let attempts: Option<i64> = row.try_get("attempts")?;
    Ok(PromotionListing {
        number: row.try_get("number")?,
        id: text("id")?,
        tenant: text("tenant")?,
        state: PromotionState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        teacher_id: text("teacher_id")?,
        teacher: format!("{}, {}", text("t_last")?, text("t_first")?),
        teacher_login: text("t_login")?,
        school_id: text("school_id")?,
        school: text("school")?,
        requester_id: text("requester_id")?,
        requester: format!("{}, {}", text("r_last")?, text("r_first")?),
        requester_login: text("r_login")?,
        reason: text("reason")?,
        failure_reason: row.try_get("failure_reason")?,
        ticket_id: ticket_id.and_then(|t| u64::try_from(t).ok()),
        decided_by: row.try_get("decided_by")?,
        attempts: attempts.unwrap_or(0),
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        created_at: text("created_at")?,
        updated_at: text("updated_at")?,
    })
}
