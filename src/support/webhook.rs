//! The Zendesk webhook that tells us an agent approved or rejected a promotion.
//!
//! The promises this file keeps:
//!
//! * A request is believed only when `X-Zendesk-Webhook-Signature` is
//!   base64(HMAC-SHA256(secret, timestamp + raw body)) for the
//!   `X-Zendesk-Webhook-Signature-Timestamp` it came with, compared in constant
//!   time, and that timestamp is within five minutes of `now`, either way. A
//!   captured request therefore cannot be replayed after five minutes; inside
//!   them, the route de-duplicates on `X-Zendesk-Webhook-Invocation-Id`.
//! * Every refusal says which check failed (missing, malformed, bad signature,
//!   stale) so the logs explain a 401, and none of them echo the secret or the
//!   expected signature.
//! * Nothing here reads the clock or does I/O: `now` is the caller's.
//! * [`TriggerPayload::decision`] reads the agent's decision from the ticket's
//!   tags, and answers `None` when the tags do not say one thing clearly.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

/// The header that carries the base64 signature.
pub const SIGNATURE_HEADER: &str = "X-Zendesk-Webhook-Signature";
/// The header that carries the timestamp the signature covers.
pub const TIMESTAMP_HEADER: &str = "X-Zendesk-Webhook-Signature-Timestamp";
/// The header that names one invocation; Zendesk repeats it when it retries.
pub const INVOCATION_ID_HEADER: &str = "X-Zendesk-Webhook-Invocation-Id";

/// The tag an agent adds to approve a promotion.
pub const APPROVED_TAG: &str = "hallpass_approved";
/// The tag an agent adds to reject a promotion.
pub const REJECTED_TAG: &str = "hallpass_rejected";

/// How far the signed timestamp may be from `now`, in either direction.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Why a webhook request was not believed. All of them mean 401.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookAuthError {
    #[error("the request has no {SIGNATURE_HEADER} header")]
    MissingSignature,
    #[error("the request has no {TIMESTAMP_HEADER} header")]
    MissingTimestamp,
    #[error("the signature is not the base64 of a SHA-256 HMAC")]
    MalformedSignature,
    #[error("the signature timestamp is neither RFC 3339 nor unix seconds")]
    MalformedTimestamp,
    #[error("the signature does not match the body and timestamp")]
    BadSignature,
    /// The signature is right but its timestamp is more than five minutes off.
    /// `offset_seconds` is positive for the past and negative for the future.
    #[error("the signature timestamp is {offset_seconds} s away from now (more than 5 minutes)")]
    Stale { offset_seconds: i64 },
}

/// base64(HMAC-SHA256(secret, timestamp + body)), as Zendesk computes it.
/// The tests and the demo sign with it; the service only verifies.
pub fn sign(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    STANDARD.encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// Checks a webhook request's signature and freshness. Pass `""` for a header
/// that is absent; [`verify_headers`] does that for you.
///
/// The signature is checked before the timestamp's age, so `Stale` is only
/// ever said of a request Zendesk really signed.
pub fn verify_signature(
    secret: &SecretString,
    signature_b64: &str,
    timestamp: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookAuthError> {
    let signature_b64 = signature_b64.trim();
    let timestamp = timestamp.trim();
    if signature_b64.is_empty() {
        return Err(WebhookAuthError::MissingSignature);
    }
    if timestamp.is_empty() {
        return Err(WebhookAuthError::MissingTimestamp);
    }
    let presented = STANDARD
        .decode(signature_b64)
        .map_err(|_| WebhookAuthError::MalformedSignature)?;
    if presented.len() != 32 {
        return Err(WebhookAuthError::MalformedSignature);
    }
    let signed_at = parse_timestamp(timestamp)?;
    // `verify_slice` compares in constant time (it uses `subtle`).
    mac(secret, timestamp, body)
        .verify_slice(&presented)
        .map_err(|_| WebhookAuthError::BadSignature)?;
    let offset = now.signed_duration_since(signed_at);
    if offset.abs() > MAX_CLOCK_SKEW {
        return Err(WebhookAuthError::Stale {
            offset_seconds: offset.num_seconds(),
        });
    }
    Ok(())
}

/// [`verify_signature`] over the request's headers, for the HTTP route.
pub fn verify_headers(
    secret: &SecretString,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookAuthError> {
    // An absent header reads as "" (missing); one that is not visible ASCII
    // reads as "\0", which fails as malformed rather than as missing.
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("\u{0}"))
            .unwrap_or("")
    };
    verify_signature(
        secret,
        header(SIGNATURE_HEADER),
        header(TIMESTAMP_HEADER),
        body,
        now,
    )
}

fn mac(secret: &SecretString, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    #[expect(
        clippy::expect_used,
        reason = "HMAC takes a key of any length, so new_from_slice cannot fail"
    )]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(timestamp.as_bytes());
    mac.update(body);
    mac
}

/// Zendesk sends ISO 8601 (`2026-11-28T09:27:11Z`); unix seconds are accepted
/// too in case a proxy or a future version sends those.
fn parse_timestamp(timestamp: &str) -> Result<DateTime<Utc>, WebhookAuthError> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(timestamp) {
        return Ok(parsed.with_timezone(&Utc));
    }
    if !timestamp.is_empty() && timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return timestamp
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .ok_or(WebhookAuthError::MalformedTimestamp);
    }
    Err(WebhookAuthError::MalformedTimestamp)
}

/// What an agent decided about a promotion request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Rejected,
}

/// The body the Zendesk trigger sends (see `docs/interfaces.md`): every
/// field is a rendered placeholder, so every field is a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerPayload {
    /// `{{ticket.id}}`
    pub ticket_id: String,
    /// `{{ticket.external_id}}`: the promotion request this ticket belongs to.
    pub external_id: String,
    /// `{{ticket.status}}`
    pub status: String,
    /// `{{ticket.tags}}`: space-separated.
    pub tags: String,
    /// `{{current_user.email}}`: the agent who made the update.
    pub agent: String,
}

impl TriggerPayload {
    /// The ticket's tags, one by one.
    pub fn tag_list(&self) -> impl Iterator<Item = &str> {
        self.tags.split_whitespace()
    }

    /// The decision the tags carry: `hallpass_approved` approves,
    /// `hallpass_rejected` rejects. Tags must match whole, so
    /// `hallpass_approved_draft` decides nothing.
    ///
    /// A ticket carrying **both** tags is ambiguous and answers `None`, like a
    /// ticket carrying neither: the update is acknowledged and changes
    /// nothing, and an agent has to remove one of the tags to decide.
    pub fn decision(&self) -> Option<Decision> {
        let approved = self.tag_list().any(|tag| tag == APPROVED_TAG);
        let rejected = self.tag_list().any(|tag| tag == REJECTED_TAG);
        match (approved, rejected) {
            (true, false) => Some(Decision::Approved),
            (false, true) => Some(Decision::Rejected),
            _ => None,
        }
    }

    /// The ticket id as a number, or `None` when the placeholder did not
    /// render to one.
    pub fn ticket_id_number(&self) -> Option<u64> {
        self.ticket_id.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests;
