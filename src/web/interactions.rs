//! `POST /interactions`: Discord's Interactions Endpoint URL. Every request is
//! verified (Ed25519, recent timestamp) before anything else; a bad one gets
//! 401 and changes nothing. Slow commands (password hashing, secrets to
//! deliver) are acknowledged at once and finished in the background, well
//! inside Discord's 3-second deadline.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::WebState;
use crate::commands::{Body, Request, deliver, handle};
use crate::discord::{
    Envelope, Incoming, InteractionCourier, deferred_ephemeral, parse, pong, render,
};

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
    if envelope.request.is_slow() {
        tokio::spawn(finish_later(state, envelope));
        return Json(deferred_ephemeral()).into_response();
    }
    let started = Instant::now();
    let (kind, command) = labels(&envelope.request);
    let reply = handle(&state.app, &envelope.invocation, envelope.request).await;
    state.metrics.interaction(kind, &command, started.elapsed());
    let rendered = render(&reply.body);
    if !reply.notices.is_empty() {
        if let Some(rest) = state.discord.clone() {
            let (app, token) = (state.app.clone(), envelope.token.clone());
            tokio::spawn(async move {
                let courier = InteractionCourier {
                    rest: &rest,
                    token: &token,
                };
                let notices_only = crate::commands::Reply {
                    body: Body::Choices(Vec::new()),
                    ..reply
                };
                let _ = deliver(&app, &courier, notices_only).await;
            });
        }
    }
    Json(rendered).into_response()
}

/// The deferred path: run the handler, deliver any secret, then edit the
/// "thinking…" message into the answer.
async fn finish_later(state: WebState, envelope: Envelope) {
    let started = Instant::now();
    let (kind, command) = labels(&envelope.request);
    let reply = handle(&state.app, &envelope.invocation, envelope.request).await;
    let Some(rest) = state.discord.as_ref() else {
        tracing::error!(
            "DISCORD_APPLICATION_ID is not set, so a deferred answer cannot be delivered"
        );
        return;
    };
    let courier = InteractionCourier {
        rest,
        token: &envelope.token,
    };
    let (body, _route) = deliver(&state.app, &courier, reply).await;
    let content = match body {
        Body::Text { content, .. } => content,
        _ => String::new(),
    };
    if let Err(e) = rest.edit_original(&envelope.token, &content).await {
        tracing::error!(error = %e, "could not edit the deferred answer");
    }
    state.metrics.interaction(kind, &command, started.elapsed());
}

fn labels(request: &Request) -> (&'static str, String) {
    match request {
        Request::Command { name, .. } => ("command", name.clone()),
        Request::Autocomplete { name, .. } => ("autocomplete", name.clone()),
        Request::ModalSubmit { .. } => ("modal_submit", "edit-user".to_owned()),
    }
}
