//! The stand-in's HTTP routes, answering with Zendesk's status codes and JSON:
//! the router, the recording of every request, and the error bodies Zendesk
//! sends (sign-in is in `auth`, tickets in `tickets`).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::auth::issue_token;
use super::state::{RecordedRequest, Shared};
use super::tickets::{create_ticket, list_tickets, show_ticket, update_ticket};

type SharedState = State<Arc<Shared>>;

/// The largest body the stand-in reads.
const MAX_BODY_BYTES: usize = 1 << 20;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/tokens", post(issue_token))
        .route("/api/v2/tickets", get(list_tickets).post(create_ticket))
        .route(
            "/api/v2/tickets.json",
            get(list_tickets).post(create_ticket),
        )
        .route("/api/v2/tickets/{id}", get(show_ticket).put(update_ticket))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "InvalidEndpoint",
                "Not found (this stand-in serves tokens and tickets only)",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

/// Keeps a copy of every request before it is answered.
async fn record(State(shared): SharedState, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "TooLarge", "Body too large");
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    shared.with(|s| s.requests.push(recorded));
    shared.changed();
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    shared.changed();
    response
}

pub(super) fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "description": description})),
    )
        .into_response()
}

pub(super) fn rate_limited(retry_after_seconds: Option<u64>) -> Response {
    let body = Json(json!({
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed API requests per minute exceeded"
    }));
    match retry_after_seconds {
        Some(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, seconds.to_string())],
            body,
        )
            .into_response(),
        None => (StatusCode::TOO_MANY_REQUESTS, body).into_response(),
    }
}

pub(super) fn server_error() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "Something went wrong (injected by the stand-in)",
    )
}

pub(super) fn invalid(description: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"base": [{"description": description, "error": "InvalidValue"}]}
        })),
    )
        .into_response()
}

pub(super) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
}
