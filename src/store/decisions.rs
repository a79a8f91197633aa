//! Support's decision on a promotion request, as the Zendesk webhook brings it.
//!
//! Promises:
//!
//! * A decision is applied in one transaction: the invocation id (so a
//!   repeated invocation is recognised), the teacher's new role, the request's
//!   new state and the audit entry commit together.
//! * An approval is never applied blindly: the teacher must still be a
//!   teacher, enabled, at the school they were at when the request was made.
//!   Otherwise the request is `failed` with the reason and nothing else changes.
//! * The role changes with the same optimistic check as every other change
//!   (`version`), so an edit racing the approval is seen, never overwritten.
//! * A request that is no longer open is never decided again.
//! * A decision counts only on the ticket hallpass itself opened for the
//!   request: the request must be `ticket_open` and its stored ticket id must
//!   be the payload's `ticket_id`. Anything else (a request still queued, a
//!   decision on some other ticket that carries our external id, no ticket id
//!   at all) changes nothing and is audited as refused.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::promotions::{
    PROMOTION_FIELDS, PromotionRequest, PromotionState, lock_promotion, promotion_from_row,
};
use super::rows::{USER_COLUMNS, USER_FROM, user_from_row};
use super::users::diff;
use super::{Store, StoreError, audit, time};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{PromotionId, Role, User};
use crate::policy::approval_obstacle;

/// How long an invocation id is remembered. Zendesk retries within minutes and
/// a signature more than five minutes old is refused, so a day is ample.
const INVOCATION_MEMORY: Duration = Duration::days(1);

/// How often an approval is retried when the teacher's record changed between
/// reading and writing it.
const APPROVAL_TRIES: usize = 3;

/// What support decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromotionDecision {
    Approve,
    Reject,
}

/// One decision as the webhook received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    pub request: PromotionId,
    pub decision: PromotionDecision,
    /// The ticket the decision was made on; it must be the one we opened.
    pub ticket_id: Option<u64>,
    /// The agent's email.
    pub agent: String,
    /// `X-Zendesk-Webhook-Invocation-Id`, when Zendesk sent one.
    pub invocation_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// What the decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// This invocation was applied before: nothing changed now.
    Replayed,
    /// No request has that id.
    UnknownRequest,
    /// The request was already decided (or failed): nothing changed.
    AlreadySettled(PromotionRequest),
    /// The teacher is a school admin now (`teacher` as it is after the change).
    Approved {
        request: PromotionRequest,
        teacher: Box<User>,
    },
    Rejected(PromotionRequest),
    /// The decision did not come from the ticket hallpass opened for this
    /// request (`reason` says how): nothing changed but the audit log.
    Refused {
        request: PromotionRequest,
        reason: String,
    },
    /// Approved by support, but the teacher changed meanwhile: the request is
    /// `failed` with `reason`, and the teacher's record is untouched.
    NotApplied {
        request: PromotionRequest,
        reason: String,
    },
}

/// Why a decision is not believed for `request`: it must name the ticket
/// hallpass opened, and that ticket must be open.
fn ticket_mismatch(request: &PromotionRequest, input: &DecisionInput) -> Option<String> {
    let named = input.ticket_id.map_or_else(
        || "no ticket".to_owned(),
        |t| format!("Zendesk ticket #{t}"),
    );
    match (request.state, request.ticket_id) {
        (PromotionState::TicketOpen, Some(ours)) if input.ticket_id == Some(ours) => None,
        (PromotionState::TicketOpen, Some(ours)) => Some(format!(
            "the decision came on {named}, but hallpass opened ticket #{ours} for this request"
        )),
        _ => Some(format!(
            "the decision came on {named}, but hallpass has not opened a ticket for this request yet"
        )),
    }
}

enum Attempt {
    Done(Box<DecisionOutcome>),
    /// The teacher's record changed between our read and our write.
    Raced,
}

impl Store {
    /// Applies support's decision on a request. See the module's promises.
    #[tracing::instrument(skip(self, input), fields(request = %input.request, decision = ?input.decision))]
    pub async fn decide_promotion(
        &self,
        input: &DecisionInput,
    ) -> Result<DecisionOutcome, StoreError> {
        for _ in 0..APPROVAL_TRIES {
            if let Attempt::Done(outcome) = self.try_decide(input).await? {
                return Ok(*outcome);
            }
        }
        Err(StoreError::Conflict)
    }

    async fn try_decide(&self, input: &DecisionInput) -> Result<Attempt, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(invocation) = &input.invocation_id {
            let fresh = sqlx::query(
                "INSERT INTO webhook_invocations (invocation_id, received_at) VALUES ($1, $2) \
                 ON CONFLICT (invocation_id) DO NOTHING",
            )
            .bind(invocation.clone())
            .bind(time::encode(input.at))
            .execute(&mut *tx)
            .await?;
            if fresh.rows_affected() == 0 {
                return Ok(Attempt::Done(Box::new(DecisionOutcome::Replayed)));
            }
            sqlx::query("DELETE FROM webhook_invocations WHERE received_at < $1")
                .bind(time::encode(input.at - INVOCATION_MEMORY))
                .execute(&mut *tx)
                .await?;
        }
        let request = lock_promotion(&mut tx, self.backend, input.request).await?;
        let mismatch = request.as_ref().and_then(|r| ticket_mismatch(r, input));
        let outcome = match (request, mismatch) {
            (None, _) => DecisionOutcome::UnknownRequest,
            (Some(request), _) if !request.state.is_open() => {
                DecisionOutcome::AlreadySettled(request)
            }
            (Some(request), Some(reason)) => refuse(&mut tx, request, input, reason).await?,
            (Some(request), None) => match input.decision {
                PromotionDecision::Reject => reject(&mut tx, request, input).await?,
                PromotionDecision::Approve => match approve(&mut tx, request, input).await? {
                    Attempt::Done(outcome) => *outcome,
                    Attempt::Raced => return Ok(Attempt::Raced),
                },
            },
        };
        tx.commit().await?;
        Ok(Attempt::Done(Box::new(outcome)))
    }
}

fn decision_audit(request: &PromotionRequest, input: &DecisionInput, action: Action) -> AuditEntry {
    let origin = Origin {
        interaction_id: input.invocation_id.clone(),
        ..Origin::api("zendesk webhook")
    };
    let mut entry = AuditEntry::new(
        Some(request.tenant_id),
        input.at,
        AuditActor::system(format!("zendesk:{}", input.agent)),
        action,
        origin,
    );
    entry.reason = Some(format!(
        "promotion request #{} decided on Zendesk ticket #{} by {}",
        request.number,
        input
            .ticket_id
            .or(request.ticket_id)
            .map_or_else(|| "?".to_owned(), |t| t.to_string()),
        input.agent
    ));
    entry
}

/// Moves an open request to its final `state`; the outbox entry stops.
async fn settle(
    conn: &mut sqlx::AnyConnection,
    request: &PromotionRequest,
    state: &str,
    failure_reason: Option<&str>,
    input: &DecisionInput,
) -> Result<PromotionRequest, StoreError> {
    sqlx::query(
        "UPDATE support_outbox SET next_attempt_at = NULL, lease_token = NULL, lease_until = NULL \
         WHERE request_id = $1",
    )
    .bind(request.id.to_string())
    .execute(&mut *conn)
    .await?;
    let sql = format!(
        "UPDATE promotion_requests SET state = $1, failure_reason = $2, decided_by = $3, \
         ticket_id = COALESCE(ticket_id, $4), updated_at = $5 WHERE id = $6 RETURNING {PROMOTION_FIELDS}"
    );
    let ticket = input.ticket_id.and_then(|t| i64::try_from(t).ok());
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(state.to_owned())
        .bind(failure_reason.map(str::to_owned))
        .bind(input.agent.clone())
        .bind(ticket)
        .bind(time::encode(input.at))
        .bind(request.id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    promotion_from_row(&row)
}

/// Records a decision that did not come from our ticket; changes nothing else.
async fn refuse(
    conn: &mut sqlx::AnyConnection,
    request: PromotionRequest,
    input: &DecisionInput,
    reason: String,
) -> Result<DecisionOutcome, StoreError> {
    let label = super::outbox::teacher_label(conn, &request).await?;
    let action = match input.decision {
        PromotionDecision::Approve => Action::PromotionApprove,
        PromotionDecision::Reject => Action::PromotionReject,
    };
    let entry = decision_audit(&request, input, action)
        .target(request.teacher_id, label)
        .refused(format!("{reason}; nothing was changed"));
    audit::insert(conn, &entry).await?;
    Ok(DecisionOutcome::Refused { request, reason })
}

async fn reject(
    conn: &mut sqlx::AnyConnection,
    request: PromotionRequest,
    input: &DecisionInput,
) -> Result<DecisionOutcome, StoreError> {
    let label = super::outbox::teacher_label(conn, &request).await?;
    let settled = settle(conn, &request, "rejected", None, input).await?;
    let entry = decision_audit(&request, input, Action::PromotionReject)
        .target(request.teacher_id, label)
        .change(
            json!({ "promotion_request": request.number, "state": request.state.as_str() }),
            json!({ "promotion_request": request.number, "state": "rejected", "ticket_id": settled.ticket_id }),
        );
    audit::insert(conn, &entry).await?;
    Ok(DecisionOutcome::Rejected(settled))
}

async fn approve(
    conn: &mut sqlx::AnyConnection,
    request: PromotionRequest,
    input: &DecisionInput,
) -> Result<Attempt, StoreError> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.id = $1 AND u.tenant_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(request.teacher_id.to_string())
        .bind(request.tenant_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let teacher = row.as_ref().map(user_from_row).transpose()?;
    let label = teacher
        .as_ref()
        .map_or_else(|| request.teacher_id.to_string(), User::display_name);
    if let Some(reason) = approval_obstacle(teacher.as_ref(), request.school_id) {
        let settled = settle(conn, &request, "failed", Some(&reason), input).await?;
        let entry = decision_audit(&request, input, Action::PromotionFail)
            .target(request.teacher_id, label)
            .failed(format!(
                "support approved, but {reason}; nothing was changed"
            ));
        audit::insert(conn, &entry).await?;
        return Ok(Attempt::Done(Box::new(DecisionOutcome::NotApplied {
            request: settled,
            reason,
        })));
    }
    let Some(before) = teacher else {
        return Err(StoreError::NotFound);
    };
    let updated = sqlx::query(
        "UPDATE users SET role = 'school_admin', version = version + 1, updated_at = $1 \
         WHERE id = $2 AND tenant_id = $3 AND version = $4 AND role = 'teacher' AND disabled = 0 AND school_id = $5",
    )
    .bind(time::encode(input.at))
    .bind(before.id.to_string())
    .bind(before.tenant_id.to_string())
    .bind(before.version)
    .bind(request.school_id.to_string())
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(Attempt::Raced);
    }
    let after = User {
        role: Role::SchoolAdmin,
        version: before.version + 1,
        updated_at: input.at,
        ..before.clone()
    };
    let settled = settle(conn, &request, "approved", None, input).await?;
    let (old, mut new) = diff(&before, &after);
    if let Value::Object(fields) = &mut new {
        fields.insert("promotion_request".into(), json!(request.number));
        fields.insert("ticket_id".into(), json!(settled.ticket_id));
    }
    let entry = decision_audit(&request, input, Action::PromotionApprove)
        .target(after.id, label)
        .change(old, new);
    audit::insert(conn, &entry).await?;
    Ok(Attempt::Done(Box::new(DecisionOutcome::Approved {
        request: settled,
        teacher: Box::new(after),
    })))
}
