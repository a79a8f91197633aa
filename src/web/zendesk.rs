//! `POST /webhooks/zendesk`: support's decision on a promotion request.
//!
//! Promises:
//!
//! * Nothing is read from a request before its signature is verified against
//!   the raw body (HMAC-SHA256 with `ZENDESK_WEBHOOK_SECRET`, timestamp at most
//!   five minutes off); a bad, missing or stale signature gets 401 and changes
//!   nothing. Without a secret configured the route answers 503.
//! * Each `X-Zendesk-Webhook-Invocation-Id` is applied once; a repeat is
//!   acknowledged (200) and changes nothing.
//! * Anything that is not a decision we can act on (no decision tag, a ticket
//!   that is not ours, a request already decided) is acknowledged with 200 and
//!   changes nothing, so Zendesk does not retry it forever. A decision that
//!   does not come from the ticket hallpass opened for the request is
//!   acknowledged the same way (`refused`), and audited. Only our own
//!   failure (the database) answers 500, which Zendesk retries.
//! * The decision is applied inside the request (one transaction) and the
//!   answer goes out within [`FOLLOW_UP_GRACE`] (`WebState::follow_up_grace`) of that: the DMs and the
//!   ticket note that follow are given that long and then finish on their own.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::WebState;
use crate::directory::PromotionId;
use crate::store::{DecisionInput, DecisionOutcome, PromotionDecision, PromotionRequest};
use crate::support::notifier::{LogNotifier, News, Notifier, tell};
use crate::support::webhook::{Decision, INVOCATION_ID_HEADER, TriggerPayload, verify_headers};

/// How long the answer waits for the DMs and the ticket note (Zendesk gives
/// up on a webhook after about ten seconds).
pub const FOLLOW_UP_GRACE: Duration = Duration::from_secs(3);

fn acknowledged(outcome: &str) -> Response {
    (StatusCode::OK, Json(json!({ "outcome": outcome }))).into_response()
}

pub async fn zendesk_webhook(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = state.zendesk_webhook_secret.clone() else {
        state.metrics.rejected("zendesk_not_configured");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "ZENDESK_WEBHOOK_SECRET is not set on this hallpass server.",
        )
            .into_response();
    };
    let now = state.app.now();
    if let Err(e) = verify_headers(&secret, &headers, &body, now) {
        state.metrics.rejected("zendesk_bad_signature");
        tracing::warn!(error = %e, "Refused a Zendesk webhook request");
        return (StatusCode::UNAUTHORIZED, "invalid webhook signature").into_response();
    }
    let payload: TriggerPayload = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "A signed Zendesk webhook body is not the trigger body");
            return (
                StatusCode::BAD_REQUEST,
                "the body is not the hallpass trigger body (see the README)",
            )
                .into_response();
        }
    };
    let Some(decision) = payload.decision() else {
        return acknowledged("ignored");
    };
    let Ok(request) = PromotionId::parse(&payload.external_id) else {
        tracing::warn!(external_id = %payload.external_id, ticket = %payload.ticket_id,
            "A Zendesk decision names no hallpass promotion request; acknowledged and ignored");
        return acknowledged("unknown_request");
    };
    let agent = match payload.agent.trim() {
        "" => "unknown agent".to_owned(),
        agent => agent.to_owned(),
    };
    let input = DecisionInput {
        request,
        decision: match decision {
            Decision::Approved => PromotionDecision::Approve,
            Decision::Rejected => PromotionDecision::Reject,
        },
        ticket_id: payload.ticket_id_number(),
        agent,
        invocation_id: headers
            .get(INVOCATION_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        at: now,
    };
    let outcome = match state.app.store.decide_promotion(&input).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(error = %e, "Could not apply a Zendesk decision; Zendesk will retry");
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response();
        }
    };
    let label = outcome_label(&outcome);
    tracing::info!(request = %input.request, outcome = label, agent = %input.agent, "Zendesk decision");
    let grace = state.follow_up_grace;
    let follow_up = tokio::spawn(follow_up(state, outcome));
    if tokio::time::timeout(grace, follow_up).await.is_err() {
        tracing::info!(
            "Answering Zendesk now; the DMs about its decision continue in the background"
        );
    }
    acknowledged(label)
}

fn outcome_label(outcome: &DecisionOutcome) -> &'static str {
    match outcome {
        DecisionOutcome::Replayed => "replayed",
        DecisionOutcome::UnknownRequest => "unknown_request",
        DecisionOutcome::AlreadySettled(_) => "already_settled",
        DecisionOutcome::Refused { .. } => "refused",
        DecisionOutcome::Approved { .. } => "approved",
        DecisionOutcome::Rejected(_) => "rejected",
        DecisionOutcome::NotApplied { .. } => "not_applied",
    }
}

/// Tells the people concerned; on an approval that could not apply, tells the
/// agent too, with an internal note on the ticket.
async fn follow_up(state: WebState, outcome: DecisionOutcome) {
    let notifier: Arc<dyn Notifier> = match &state.discord {
        Some(rest) => rest.clone(),
        None => Arc::new(LogNotifier),
    };
    let app = &state.app;
    match &outcome {
        DecisionOutcome::Approved { request, .. } => {
            let school = school_name(&state, request).await;
            tell(
                app,
                notifier.as_ref(),
                request,
                News::Approved { school: &school },
            )
            .await;
        }
        DecisionOutcome::Rejected(request) => {
            tell(app, notifier.as_ref(), request, News::Rejected).await;
        }
        DecisionOutcome::NotApplied { request, reason } => {
            note_on_ticket(&state, request, reason).await;
            tell(app, notifier.as_ref(), request, News::NotApplied { reason }).await;
        }
        DecisionOutcome::Replayed
        | DecisionOutcome::UnknownRequest
        | DecisionOutcome::AlreadySettled(_) => {}
        DecisionOutcome::Refused { request, reason } => {
            tracing::warn!(request = request.number, %reason,
                "A Zendesk decision did not come from the ticket hallpass opened; acknowledged and ignored");
        }
    }
}

async fn school_name(state: &WebState, request: &PromotionRequest) -> String {
    match state
        .app
        .store
        .school(request.tenant_id, request.school_id)
        .await
    {
        Ok(Some(school)) => school.name,
        _ => "their school".to_owned(),
    }
}

async fn note_on_ticket(state: &WebState, request: &PromotionRequest, reason: &str) {
    let (Some(client), Some(ticket)) = (&state.zendesk, request.ticket_id) else {
        tracing::warn!(
            request = request.number,
            "No Zendesk client: the ticket gets no note about the failed approval"
        );
        return;
    };
    let note = format!(
        "hallpass did not apply this approval: {reason}. Nothing was changed in the directory, and \
         promotion request #{} is closed as failed. If the promotion should still happen, the \
         requester can send a new /promote-request.",
        request.number
    );
    if let Err(e) = client.add_internal_note(ticket, &note).await {
        tracing::warn!(error = %e, ticket, "Could not add the internal note about a failed approval");
    }
}
