//! `POST /interactions`: Discord's Interactions Endpoint URL. Every request is
//! verified (Ed25519, recent timestamp) before anything else; a bad one gets
//! 401 and changes nothing. A verified request whose interaction id was already
//! received (a captured request sent again) gets 409 and runs nothing; the ids
//! are held in the database, so this holds across instances. Slow commands (password hashing, secrets to
//! deliver) are acknowledged at once and finished in the background, well
//! inside Discord's 3-second deadline.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::WebState;
use crate::commands::handle;
use crate::discord::MAX_SKEW_SECONDS;
use crate::discord::{
    Envelope, Incoming, deferred_ephemeral, deliver_rest, finish_deferred, parse, pong, render,
};

/// How long an interaction id is remembered: a signed request verifies while
/// its timestamp is within the skew of `now` either way, so a replay can come
/// up to twice the skew after the original; a minute more for clocks.
const REPLAY_MEMORY: chrono::Duration = chrono::Duration::seconds(2 * MAX_SKEW_SECONDS + 60);

pub async fn interactions(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(verifier) = &state.verifier else {
        state.metrics.rejected("not_configured");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "DISCORD_PUBLIC_KEY is not set on this hallpass server.",
        )
            .into_response();
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let verified = verifier.verify(
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        &body,
        state.app.now(),
    );
    if let Err(e) = verified {
        state.metrics.rejected("bad_signature");
        tracing::warn!(error = %e, "refused an interaction");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let envelope = match parse(&body) {
        Ok(Incoming::Ping) => return Json(pong()).into_response(),
        Ok(Incoming::Request(envelope)) => *envelope,
        Ok(Incoming::Unsupported) => {
            state.metrics.rejected("unsupported");
            return (StatusCode::BAD_REQUEST, "unsupported interaction type").into_response();
        }
        Err(e) => {
            state.metrics.rejected("malformed");
            tracing::warn!(error = %e, "malformed interaction");
            return (StatusCode::BAD_REQUEST, "malformed interaction").into_response();
        }
    };
    match state
        .app
        .store
        .first_sighting(envelope.interaction_id, state.app.now(), REPLAY_MEMORY)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            state.metrics.rejected("replayed");
            tracing::warn!(
                interaction = envelope.interaction_id,
                "refused a replayed interaction"
            );
            return (
                StatusCode::CONFLICT,
                "this interaction was already received",
            )
                .into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "could not check an interaction against replays");
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response();
        }
    }
    if envelope.request.is_slow() {
        tokio::spawn(finish_later(state, envelope));
        return Json(deferred_ephemeral()).into_response();
    }
    let started = Instant::now();
    let (kind, command) = crate::commands::labels(&envelope.request);
    let reply = handle(&state.app, &envelope.invocation, envelope.request).await;
    state.metrics.interaction(kind, command, started.elapsed());
    let rendered = render(&reply.body);
    if let Some(rest) = state.discord.clone() {
        let (app, token) = (state.app.clone(), envelope.token.clone());
        tokio::spawn(async move { deliver_rest(&app, &rest, &token, reply).await });
    }
    Json(rendered).into_response()
}

/// The deferred path, in the background.
async fn finish_later(state: WebState, envelope: Envelope) {
    let started = Instant::now();
    let (kind, command) = crate::commands::labels(&envelope.request);
    let Some(rest) = state.discord.as_ref() else {
        tracing::error!(
            "DISCORD_APPLICATION_ID is not set, so a deferred answer cannot be delivered"
        );
        return;
    };
    finish_deferred(&state.app, rest, envelope).await;
    state.metrics.interaction(kind, command, started.elapsed());
}
