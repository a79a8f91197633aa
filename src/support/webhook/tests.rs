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
