//! The platform API, `/api/v1/*`: `POST /api/v1/login` and
//! `POST /api/v1/password`, over the sign-in code in `crate::signin`.
//!
//! Promises:
//! * With `HALLPASS_API_TOKEN` set, every `/api/v1` request needs
//!   `Authorization: Bearer <token>`; without it, or with another, 401. The
//!   comparison takes the same time whatever is presented (SHA-256 of both,
//!   compared in constant time), so the token cannot be found byte by byte.
//! * Sign-in attempts (both routes) are limited per source address (the TCP
//!   peer, which `web::listen` serves the router with; a
//!   request whose peer is unknown shares one budget with every other such
//!   request). A limited attempt gets 429 with `Retry-After`, never silence.
//! * The JSON bodies carry passwords; they are read into `SecretString`s and
//!   never logged, and refusals never repeat them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::WebState;
use crate::limits::RetryAfter;
use crate::signin::{self, Attempt, Change, SignIn, SignInError};

const NEEDS_TOKEN: &str =
    "This API needs the bearer token its operator configured (Authorization: Bearer <token>).";
const BROKEN: &str = "Something went wrong on our side; try again in a minute.";

/// The TCP peer of the request, when the listener was served with connect info.
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

impl ClientAddr {
    /// The address the per-address sign-in limit counts (unspecified when the
    /// listener was wired without connect info).
    pub(super) fn ip(&self) -> IpAddr {
        self.0
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip())
    }

    /// How the audit log names the caller.
    fn caller(&self) -> String {
        format!("api {}", self.ip())
    }
}

#[derive(Deserialize)]
pub struct LoginBody {
    tenant: String,
    login: String,
    password: SecretString,
}

#[derive(Deserialize)]
pub struct PasswordBody {
    tenant: String,
    login: String,
    current_password: SecretString,
    new_password: SecretString,
}

/// `POST /api/v1/login`.
#[tracing::instrument(name = "api_login", skip_all)]
pub async fn login(
    State(state): State<WebState>,
    from: ClientAddr,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> Response {
    if let Err(retry) = state.app.limits.check_signin(from.ip()) {
        return too_many(retry);
    }
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let caller = from.caller();
    let attempt = Attempt {
        tenant: &body.tenant,
        login: &body.login,
        password: &body.password,
        caller: &caller,
    };
    match signin::sign_in(&state.app, &attempt).await {
        Ok(SignIn::Accepted {
            user,
            must_change_password,
        }) => (
            StatusCode::OK,
            Json(json!({
                "user_id": user.id.to_string(),
                "must_change_password": must_change_password,
            })),
        )
            .into_response(),
        Ok(SignIn::Refused(refusal)) => error(StatusCode::UNAUTHORIZED, &refusal.to_string()),
        Err(e) => broken(&e),
    }
}

/// `POST /api/v1/password`.
#[tracing::instrument(name = "api_password", skip_all)]
pub async fn password(
    State(state): State<WebState>,
    from: ClientAddr,
    body: Result<Json<PasswordBody>, JsonRejection>,
) -> Response {
    if let Err(retry) = state.app.limits.check_signin(from.ip()) {
        return too_many(retry);
    }
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(&rejection),
    };
    let caller = from.caller();
    let attempt = Attempt {
        tenant: &body.tenant,
        login: &body.login,
        password: &body.current_password,
        caller: &caller,
    };
    match signin::change_password(&state.app, &attempt, &body.new_password).await {
        Ok(Change::Changed) => StatusCode::NO_CONTENT.into_response(),
        Ok(Change::Refused(refusal)) => error(StatusCode::UNAUTHORIZED, &refusal.to_string()),
        Ok(Change::Invalid(reason)) => error(StatusCode::BAD_REQUEST, &reason),
        Err(e) => broken(&e),
    }
}

/// The bearer token check in front of every `/api/v1` route.
pub async fn require_token(
    State(state): State<WebState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(expected) = &state.api_token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer);
        if !presented.is_some_and(|token| same_token(token, expected)) {
            let mut response = error(StatusCode::UNAUTHORIZED, NEEDS_TOKEN);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hallpass\""),
            );
            return response;
        }
    }
    next.run(request).await
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

fn same_token(presented: &str, expected: &SecretString) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(expected.expose_secret().as_bytes());
    presented.ct_eq(&expected).into()
}

fn error(status: StatusCode, message: &str) -> Response {
    let mut response = (status, Json(json!({ "error": message }))).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn too_many(retry: RetryAfter) -> Response {
    let response = error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "Too many sign-in attempts from your network; try again {}.",
            retry.in_words()
        ),
    );
    with_retry_after(response, &retry)
}

/// Adds `Retry-After` in whole seconds (at least 1) to a 429: the API and
/// the sign-in page answer a spent budget alike.
pub(super) fn with_retry_after(mut response: Response, retry: &RetryAfter) -> Response {
    let seconds = retry.0.as_secs_f64().ceil().max(1.0) as u64;
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn bad_json(rejection: &JsonRejection) -> Response {
    // axum's rejection text names the missing field or the syntax error; it
    // never echoes values, so it cannot carry a password.
    error(rejection.status(), &rejection.body_text())
}

fn broken(e: &SignInError) -> Response {
    tracing::error!(error = %e, "a sign-in failed");
    error(StatusCode::INTERNAL_SERVER_ERROR, BROKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearerabc"), None);
    }

    #[test]
    fn only_the_same_token_matches() {
        let expected = SecretString::from("s3cret-token");
        assert!(same_token("s3cret-token", &expected));
        assert!(!same_token("s3cret-token ", &expected));
        assert!(!same_token("s3cret", &expected));
        assert!(!same_token("", &expected));
    }
}
