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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use chrono::TimeZone;

    const BODY: &[u8] = br#"{"ticket_id":"42","external_id":"hallpass-promotion-7","status":"solved","tags":"hallpass hallpass_approved","agent":"agent@example.org"}"#;
    const TIMESTAMP: &str = "2026-11-28T09:27:11Z";

    fn secret() -> SecretString {
        SecretString::from("dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0")
    }

    fn signed_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 9, 27, 11).unwrap()
    }

    fn verify_at(now: DateTime<Utc>) -> Result<(), WebhookAuthError> {
        let signature = sign(&secret(), TIMESTAMP, BODY);
        verify_signature(&secret(), &signature, TIMESTAMP, BODY, now)
    }

    #[test]
    fn a_signature_is_the_base64_hmac_sha256_of_timestamp_then_body() {
        // Computed outside Rust: printf '%s%s' "$TIMESTAMP" "$BODY" |
        //   openssl dgst -sha256 -hmac "$SECRET" -binary | base64
        assert_eq!(
            sign(&secret(), TIMESTAMP, BODY),
            "WD8rUn7Dk4m1dVG6WMJIEaiqGmToNgTR25iCdGbARD4="
        );
    }

    #[test]
    fn a_good_signature_is_accepted() {
        assert_eq!(verify_at(signed_at()), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let signature = sign(&secret(), TIMESTAMP, BODY);
        let tampered = String::from_utf8(BODY.to_vec())
            .unwrap()
            .replace("hallpass_approved", "hallpass_rejected");
        assert_eq!(
            verify_signature(
                &secret(),
                &signature,
                TIMESTAMP,
                tampered.as_bytes(),
                signed_at()
            ),
            Err(WebhookAuthError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_timestamp_is_refused() {
        let signature = sign(&secret(), TIMESTAMP, BODY);
        assert_eq!(
            verify_signature(
                &secret(),
                &signature,
                "2026-11-28T09:27:12Z",
                BODY,
                signed_at()
            ),
            Err(WebhookAuthError::BadSignature)
        );
    }

    #[test]
    fn a_signature_made_with_another_secret_is_refused() {
        let signature = sign(&SecretString::from("another secret"), TIMESTAMP, BODY);
        assert_eq!(
            verify_signature(&secret(), &signature, TIMESTAMP, BODY, signed_at()),
            Err(WebhookAuthError::BadSignature)
        );
    }

    #[test]
    fn a_missing_signature_or_timestamp_is_refused_as_missing() {
        let signature = sign(&secret(), TIMESTAMP, BODY);
        assert_eq!(
            verify_signature(&secret(), "", TIMESTAMP, BODY, signed_at()),
            Err(WebhookAuthError::MissingSignature)
        );
        assert_eq!(
            verify_signature(&secret(), &signature, "  ", BODY, signed_at()),
            Err(WebhookAuthError::MissingTimestamp)
        );
    }

    #[test]
    fn verify_headers_reads_the_zendesk_headers_and_reports_absent_ones() {
        let signature = sign(&secret(), TIMESTAMP, BODY);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(TIMESTAMP_HEADER, TIMESTAMP.parse().unwrap());
        assert_eq!(
            verify_headers(&secret(), &headers, BODY, signed_at()),
            Err(WebhookAuthError::MissingSignature)
        );
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        assert_eq!(
            verify_headers(&secret(), &headers, BODY, signed_at()),
            Ok(())
        );
        headers.remove(TIMESTAMP_HEADER);
        assert_eq!(
            verify_headers(&secret(), &headers, BODY, signed_at()),
            Err(WebhookAuthError::MissingTimestamp)
        );
    }

    #[test]
    fn a_signature_that_is_not_base64_of_32_bytes_is_malformed() {
        for garbage in ["not base64 at all!", "c2hvcnQ=", "%%%%"] {
            assert_eq!(
                verify_signature(&secret(), garbage, TIMESTAMP, BODY, signed_at()),
                Err(WebhookAuthError::MalformedSignature),
                "{garbage}"
            );
        }
    }

    #[test]
    fn a_timestamp_that_is_neither_rfc3339_nor_unix_seconds_is_malformed() {
        let timestamp = "yesterday at noon";
        let signature = sign(&secret(), timestamp, BODY);
        assert_eq!(
            verify_signature(&secret(), &signature, timestamp, BODY, signed_at()),
            Err(WebhookAuthError::MalformedTimestamp)
        );
    }

    #[test]
    fn a_timestamp_in_unix_seconds_is_accepted() {
        let timestamp = signed_at().timestamp().to_string();
        let signature = sign(&secret(), &timestamp, BODY);
        assert_eq!(
            verify_signature(&secret(), &signature, &timestamp, BODY, signed_at()),
            Ok(())
        );
    }

    #[test]
    fn a_signature_six_minutes_old_is_refused_as_stale() {
        let now = signed_at() + TimeDelta::minutes(6);
        assert_eq!(
            verify_at(now),
            Err(WebhookAuthError::Stale {
                offset_seconds: 360
            })
        );
    }

    #[test]
    fn a_signature_six_minutes_in_the_future_is_refused_as_stale() {
        let now = signed_at() - TimeDelta::minutes(6);
        assert_eq!(
            verify_at(now),
            Err(WebhookAuthError::Stale {
                offset_seconds: -360
            })
        );
    }

    #[test]
    fn a_signature_four_minutes_fifty_nine_seconds_off_either_way_is_accepted() {
        let skew = TimeDelta::minutes(4) + TimeDelta::seconds(59);
        assert_eq!(verify_at(signed_at() + skew), Ok(()));
        assert_eq!(verify_at(signed_at() - skew), Ok(()));
    }

    #[test]
    fn a_forged_old_request_is_called_a_bad_signature_not_stale() {
        let signature = sign(&SecretString::from("forger"), TIMESTAMP, BODY);
        assert_eq!(
            verify_signature(
                &secret(),
                &signature,
                TIMESTAMP,
                BODY,
                signed_at() + TimeDelta::hours(1)
            ),
            Err(WebhookAuthError::BadSignature)
        );
    }

    #[test]
    fn refusals_never_show_the_secret_or_the_expected_signature() {
        let expected = sign(&secret(), TIMESTAMP, BODY);
        let errors = [
            verify_signature(&secret(), "AAAA", TIMESTAMP, BODY, signed_at()),
            verify_signature(
                &secret(),
                &STANDARD.encode([0u8; 32]),
                TIMESTAMP,
                BODY,
                signed_at(),
            ),
            verify_at(signed_at() + TimeDelta::hours(1)),
        ];
        for error in errors {
            let error = error.unwrap_err();
            for shown in [format!("{error}"), format!("{error:?}")] {
                assert!(!shown.contains(secret().expose_secret()), "{shown}");
                assert!(!shown.contains(&expected), "{shown}");
            }
        }
    }

    fn payload(tags: &str) -> TriggerPayload {
        TriggerPayload {
            ticket_id: "42".into(),
            external_id: "hallpass-promotion-7".into(),
            status: "solved".into(),
            tags: tags.into(),
            agent: "agent@example.org".into(),
        }
    }

    #[test]
    fn the_trigger_body_from_the_interfaces_page_deserialises() {
        let parsed: TriggerPayload = serde_json::from_slice(BODY).unwrap();
        assert_eq!(parsed, payload("hallpass hallpass_approved"));
        assert_eq!(parsed.ticket_id_number(), Some(42));
    }

    #[test]
    fn the_approved_tag_approves_and_the_rejected_tag_rejects() {
        assert_eq!(
            payload("hallpass hallpass_approved promotion_request").decision(),
            Some(Decision::Approved)
        );
        assert_eq!(
            payload("hallpass_rejected hallpass").decision(),
            Some(Decision::Rejected)
        );
    }

    #[test]
    fn both_tags_or_neither_decide_nothing() {
        assert_eq!(
            payload("hallpass_approved hallpass_rejected").decision(),
            None
        );
        assert_eq!(payload("hallpass promotion_request").decision(), None);
        assert_eq!(payload("").decision(), None);
    }

    #[test]
    fn tags_match_whole_words_only() {
        assert_eq!(
            payload("hallpass_approved_draft not_hallpass_rejected").decision(),
            None
        );
    }

    #[test]
    fn a_ticket_id_that_did_not_render_to_a_number_is_none() {
        let mut unrendered = payload("");
        unrendered.ticket_id = "{{ticket.id}}".into();
        assert_eq!(unrendered.ticket_id_number(), None);
    }
}
