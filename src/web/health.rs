//! `GET /healthz` (200 when the database answers) and `GET /metrics`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::WebState;

pub async fn healthz(State(state): State<WebState>) -> impl IntoResponse {
    if state.app.store.ping().await {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer\n",
        )
    }
}

pub async fn metrics(State(state): State<WebState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
