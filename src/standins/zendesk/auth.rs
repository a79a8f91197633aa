//! The stand-in's sign-in: OAuth client-credentials tokens, and the check of
//! Basic or Bearer credentials (and of the injected rate limits) on every
//! `/api/v2` request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::rate::RateAnswer;
use super::routes::{error, rate_limited};
use super::state::{IssuedToken, Shared, State as Inner, TokenIssue};

type SharedState = State<Arc<Shared>>;

pub(super) async fn issue_token(
    State(shared): SharedState,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let fields: HashMap<String, String> = if form {
        url::form_urlencoded::parse(&body).into_owned().collect()
    } else {
        match serde_json::from_slice::<HashMap<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                .collect(),
            Err(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
        }
    };
    let field = |name: &str| fields.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let options = &shared.options;
    if field("client_id") != Some(&options.oauth_client_id)
        || field("client_secret") != Some(&options.oauth_client_secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some(asked) = field("scope").filter(|s| !s.trim().is_empty()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    };
    let issue = TokenIssue {
        client_id: options.oauth_client_id.clone(),
        scope: options
            .granted_scope
            .clone()
            .unwrap_or_else(|| asked.to_owned()),
        access_token: format!("standin_{}", uuid::Uuid::new_v4().simple()),
        expires_in: options.token_expires_in,
    };
    let mut answer = json!({
        "access_token": issue.access_token,
        "token_type": "bearer",
        "scope": issue.scope,
    });
    if let Some(expires_in) = issue.expires_in {
        answer["expires_in"] = json!(expires_in);
    }
    shared.with(|s| {
        s.tokens.push(IssuedToken {
            issue,
            issued_at: Instant::now(),
            revoked: false,
        })
    });
    (StatusCode::OK, Json(answer)).into_response()
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    let description = match code {
        "invalid_client" => {
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
        }
        "unsupported_grant_type" => "The authorization grant type is not supported.",
        "invalid_scope" => "The requested scope is invalid, unknown, or malformed.",
        _ => "The request is missing a required parameter or is otherwise malformed.",
    };
    (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

// ---------------------------------------------------------------- signing in

#[derive(Clone, Copy)]
pub(super) enum Access {
    Read,
    Write,
}

/// Checks the credentials and the rate-limit switch for an `/api/v2`
/// request: `Some(answer)` when the request is refused.
pub(super) fn refusal(shared: &Shared, headers: &HeaderMap, access: Access) -> Option<Response> {
    let unauthorised = || error(StatusCode::UNAUTHORIZED, "Couldn't authenticate you", "");
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(token) = presented.strip_prefix("Bearer ") {
        let Some(scope) = shared.with(|s| bearer_scope(s, token.trim())) else {
            return Some(unauthorised());
        };
        let needed: &[&str] = match access {
            Access::Read => &["read", "tickets:read"],
            Access::Write => &["write", "tickets:write"],
        };
        if !scope.split_whitespace().any(|s| needed.contains(&s)) {
            return Some(error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!(
                    "You are missing the following required scopes: {}",
                    needed[1]
                ),
            ));
        }
    } else if let Some(encoded) = presented.strip_prefix("Basic ") {
        let options = &shared.options;
        let expected = format!("{}/token:{}", options.api_email, options.api_token);
        let decoded = STANDARD.decode(encoded.trim()).unwrap_or_default();
        if decoded != expected.as_bytes() {
            return Some(unauthorised());
        }
    } else {
        return Some(unauthorised());
    }
    if let Some(retry_after) = shared.with(|s| {
        let (nth, retry_after) = s.one_in?;
        s.api_requests_since_one_in += 1;
        (s.api_requests_since_one_in % u64::from(nth) == 0).then_some(retry_after)
    }) {
        return Some(rate_limited(retry_after));
    }
    shared
        .with(|s| {
            let bucket = s.bucket.as_mut()?;
            let at = Instant::now();
            let retry_after_seconds = bucket.take(at);
            s.rate_answers.push(RateAnswer {
                at,
                retry_after_seconds,
            });
            retry_after_seconds
        })
        .map(|seconds| rate_limited(Some(seconds)))
}

/// The scope of a live token, or `None` when it is unknown, revoked or expired.
fn bearer_scope(state: &Inner, token: &str) -> Option<String> {
    if state.refuse_all_tokens {
        return None;
    }
    let issued = state
        .tokens
        .iter()
        .find(|t| t.issue.access_token == token)?;
    let expired = issued
        .issue
        .expires_in
        .is_some_and(|s| issued.issued_at.elapsed() >= Duration::from_secs(s));
    (!issued.revoked && !expired).then(|| issued.issue.scope.clone())
}
