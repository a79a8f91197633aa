//! `GET /healthz` (200 when the database answers and, with DISCORD_TOKEN set,
//! the gateway client has not failed: its state is the second line) and `GET /metrics`, which
//! asks for `Authorization: Bearer HALLPASS_METRICS_TOKEN` when that is set
//! (compared in constant time; a missing or wrong token gets 401).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::WebState;
use crate::discord::gateway::{GatewayHealth, GatewayState};

pub async fn healthz(State(state): State<WebState>) -> impl IntoResponse {
    if !state.app.store.ping().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer\n".to_owned(),
        );
    }
    match state.gateway.as_ref().map(GatewayHealth::state) {
        None => (StatusCode::OK, "ok\n".to_owned()),
        Some(GatewayState::Connected) => (StatusCode::OK, "ok\ngateway: connected\n".to_owned()),
        // Starting, or resuming after a drop: serenity is on it.
        Some(GatewayState::Connecting) => (StatusCode::OK, "ok\ngateway: connecting\n".to_owned()),
        Some(GatewayState::Failed { reason, retrying }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "gateway: failed{}: {reason}\n",
                if retrying { " (retrying)" } else { "" }
            ),
        ),
    }
}

pub async fn metrics(State(state): State<WebState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let right: bool = presented
            .as_bytes()
            .ct_eq(token.expose_secret().as_bytes())
            .into();
        if !right {
            state.metrics.rejected("metrics_unauthorized");
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "GET /metrics needs the bearer token HALLPASS_METRICS_TOKEN\n",
            )
                .into_response();
        }
    }
    match state.app.store.outbox_backlog().await {
        Ok((depth, oldest)) => {
            let age = oldest.and_then(|t| (state.app.now() - t).to_std().ok());
            state.metrics.outbox(depth, age);
        }
        Err(e) => tracing::warn!(error = %e, "could not read the outbox backlog for /metrics"),
    }
    if let Some(gateway) = &state.gateway {
        state.metrics.gateway(gateway.state().label());
    }
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}
