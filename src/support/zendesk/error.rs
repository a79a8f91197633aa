//! What went wrong talking to Zendesk, sorted by what the caller must do next.
//!
//! The promise: every failure lands in exactly one variant that tells the
//! outbox worker whether to wait (`RateLimited`), retry with the same
//! idempotency key (`Transient`), give up (`Rejected`), or call a person
//! (`Auth`, `Setup`); and `is_uncertain` says whether the request may have
//! reached Zendesk, so a ticket may exist although we never saw its id.
//! Messages carry Zendesk's own error text and never a credential.

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use thiserror::Error;

/// The longest piece of a Zendesk error body we keep in a message.
const MAX_BODY_CHARS: usize = 500;

#[derive(Debug, Error)]
pub enum ZendeskError {
    /// 429: Zendesk did not process the request. Wait `retry_after` (from the
    /// `Retry-After` header, in seconds) before the next call.
    #[error("Zendesk is rate limiting requests (429); retry after {retry_after:?}")]
    RateLimited { retry_after: Option<Duration> },
    /// A 5xx, a timeout, a broken or refused connection, or an answer we could
    /// not read. Worth retrying. When `may_have_reached_zendesk` is true the
    /// request may have been carried out (the ticket may exist): retry with the
    /// same idempotency key, or look the ticket up by its external id.
    #[error("Zendesk did not answer clearly: {message}")]
    Transient {
        message: String,
        may_have_reached_zendesk: bool,
    },
    /// Any other 4xx (or an unexpected 3xx): the request is wrong and will not
    /// succeed if repeated.
    #[error("Zendesk refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// 401 even with a freshly fetched token, 403, or a token endpoint that
    /// refuses our client: the credentials or their scope need a person.
    #[error("Zendesk refused our credentials: {0}")]
    Auth(String),
    /// The client could not be built from its configuration.
    #[error("The Zendesk client is misconfigured: {0}")]
    Setup(String),
}

impl ZendeskError {
    /// True when the request may have reached Zendesk and been carried out:
    /// a timeout after sending, a 5xx, a connection broken mid-request, or a
    /// success we could not read. False when it certainly was not (refused
    /// connection, 4xx, 429) and false for failures before the API call
    /// itself (fetching the OAuth token).
    pub fn is_uncertain(&self) -> bool {
        matches!(
            self,
            Self::Transient {
                may_have_reached_zendesk: true,
                ..
            }
        )
    }

    /// True when the same call may succeed later without anyone changing
    /// anything: rate limits and transient failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    /// The same error, for a failure that happened before the API request was
    /// sent (while fetching a token): nothing can have reached the ticket API,
    /// and a token endpoint that answers 4xx is a credentials problem.
    pub(super) fn before_api_call(self) -> Self {
        match self {
            Self::Transient { message, .. } => Self::Transient {
                message: format!("fetching an OAuth token: {message}"),
                may_have_reached_zendesk: false,
            },
            Self::Rejected { status, message } => {
                Self::Auth(format!("the token endpoint answered {status}: {message}"))
            }
            Self::Auth(message) => Self::Auth(format!("the token endpoint refused: {message}")),
            other => other,
        }
    }
}

/// The error for a request that failed below HTTP.
pub(super) fn from_transport(error: &reqwest::Error, timeout: Duration) -> ZendeskError {
    let detail = chain(error);
    if error.is_connect() {
        // No connection, so no request: Zendesk cannot have seen it.
        ZendeskError::Transient {
            message: format!("could not connect to Zendesk: {detail}"),
            may_have_reached_zendesk: false,
        }
    } else if error.is_timeout() {
        ZendeskError::Transient {
            message: format!("Zendesk did not answer within {timeout:?}"),
            may_have_reached_zendesk: true,
        }
    } else {
        ZendeskError::Transient {
            message: format!("the exchange with Zendesk broke off: {detail}"),
            may_have_reached_zendesk: true,
        }
    }
}

/// The error for a response that is not a success.
pub(super) fn from_status(
    status: StatusCode,
    retry_after: Option<&HeaderValue>,
    body: &str,
) -> ZendeskError {
    let message = summarise(body);
    match status {
        StatusCode::TOO_MANY_REQUESTS => ZendeskError::RateLimited {
            retry_after: retry_after.and_then(parse_retry_after),
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            ZendeskError::Auth(format!("{status}: {message}"))
        }
        s if s.is_server_error() => ZendeskError::Transient {
            message: format!("{status}: {message}"),
            may_have_reached_zendesk: true,
        },
        s => ZendeskError::Rejected {
            status: s.as_u16(),
            message,
        },
    }
}

/// `Retry-After` as Zendesk sends it: whole seconds. The HTTP-date form is
/// not used by Zendesk and reads as `None`.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    value
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn summarise(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(no body)".into();
    }
    match body.char_indices().nth(MAX_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    }
}

/// The error and its causes, without the URL (a misconfigured base URL could
/// carry user info).
fn chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        "no further detail".into()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn status(code: u16, retry_after: Option<&str>, body: &str) -> ZendeskError {
        let header = retry_after.map(|v| HeaderValue::from_str(v).unwrap());
        from_status(StatusCode::from_u16(code).unwrap(), header.as_ref(), body)
    }

    #[test]
    fn a_429_is_rate_limited_with_the_retry_after_seconds() {
        assert!(matches!(
            status(429, Some("7"), ""),
            ZendeskError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)
        ));
        assert!(matches!(
            status(429, Some("0"), ""),
            ZendeskError::RateLimited { retry_after: Some(d) } if d == Duration::ZERO
        ));
        assert!(matches!(
            status(429, None, ""),
            ZendeskError::RateLimited { retry_after: None }
        ));
        assert!(matches!(
            status(429, Some("Wed, 21 Oct 2026 07:28:00 GMT"), ""),
            ZendeskError::RateLimited { retry_after: None }
        ));
    }

    #[test]
    fn every_5xx_is_transient_and_uncertain() {
        for code in [500, 502, 503, 504] {
            let error = status(code, None, "oops");
            assert!(error.is_uncertain(), "{code}");
            assert!(error.is_retryable(), "{code}");
        }
    }

    #[test]
    fn a_401_or_403_is_an_auth_error_and_other_4xx_are_rejections() {
        assert!(matches!(status(401, None, ""), ZendeskError::Auth(_)));
        assert!(matches!(status(403, None, ""), ZendeskError::Auth(_)));
        for code in [400, 404, 409, 422] {
            let error = status(code, None, r#"{"error":"RecordInvalid"}"#);
            assert!(
                matches!(&error, ZendeskError::Rejected { status, message } if *status == code && message.contains("RecordInvalid")),
                "{error:?}"
            );
            assert!(!error.is_uncertain());
            assert!(!error.is_retryable());
        }
    }

    #[test]
    fn a_long_error_body_is_cut_short() {
        let error = status(422, None, &"x".repeat(10_000));
        let ZendeskError::Rejected { message, .. } = error else {
            panic!("not a rejection")
        };
        assert_eq!(message.chars().count(), MAX_BODY_CHARS + 1);
    }

    #[test]
    fn failures_while_fetching_a_token_are_never_uncertain() {
        let error = status(503, None, "").before_api_call();
        assert!(!error.is_uncertain());
        assert!(error.is_retryable());
        assert!(matches!(
            status(400, None, "invalid_client").before_api_call(),
            ZendeskError::Auth(_)
        ));
    }
}
