//! `POST /interactions`: Discord's Interactions Endpoint URL. Every request is
//! verified (Ed25519, recent timestamp) before anything else; a bad one gets
//! 401 and changes nothing. A verified request whose interaction id was already
//! received (a captured request sent again) gets 409 and runs nothing; the ids
//! are held in the database, so this holds across instances (an autocomplete,
//! read-only, is remembered by the instance that answered it: `store::replay`). Slow commands (password hashing, secrets to
//! deliver) are acknowledged at once and finished in the background, well
//! inside Discord's 3-second deadline.

use std::sync::Mutex;

use async_trait::async_trait;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::WebState;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::commands::Request;
use crate::discord::{
    Envelope, FirstResponse, Incoming, REPLAY_MEMORY, answer, parse, pong, render_answer,
};

pub async fn interactions(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accept(&state, &headers, &body).await {
        Ok(envelope) => respond(state, envelope).await,
        Err(refused) => refused,
    }
}

/// Checks the signature, parses the body and refuses a replay: the envelope
/// to answer, or the response that ends the request here (a PONG included).
async fn accept(state: &WebState, headers: &HeaderMap, body: &Bytes) -> Result<Envelope, Response> {
    let Some(verifier) = &state.verifier else {
        state.metrics.rejected("not_configured");
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "DISCORD_PUBLIC_KEY is not set on this hallpass server.",
        )
            .into_response());
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let verified = verifier.verify(
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        body,
        state.app.now(),
    );
    if let Err(e) = verified {
        state.metrics.rejected("bad_signature");
        tracing::warn!(error = %e, "refused an interaction");
        return Err((StatusCode::UNAUTHORIZED, "invalid request signature").into_response());
    }
    let envelope = match parse(body) {
        Ok(Incoming::Ping) => return Err(Json(pong()).into_response()),
        Ok(Incoming::Request(envelope)) => *envelope,
        Ok(Incoming::Unsupported) => {
            state.metrics.rejected("unsupported");
            return Err((StatusCode::BAD_REQUEST, "unsupported interaction type").into_response());
        }
        Err(e) => {
            state.metrics.rejected("malformed");
            tracing::warn!(error = %e, "malformed interaction");
            return Err((StatusCode::BAD_REQUEST, "malformed interaction").into_response());
        }
    };
    let (id, now, store) = (envelope.interaction_id, state.app.now(), &state.app.store);
    let sighting = match envelope.request {
        // Read-only: this instance's memory suffices (see `store::replay`).
        Request::Autocomplete { .. } => Ok(store.first_sighting_here(id, now, REPLAY_MEMORY)),
        _ => store.first_sighting(id, now, REPLAY_MEMORY).await,
    };
    match sighting {
        Ok(true) => Ok(envelope),
        Ok(false) => {
            state.metrics.rejected("replayed");
            tracing::warn!(
                interaction = envelope.interaction_id,
                "refused a replayed interaction"
            );
            Err((
                StatusCode::CONFLICT,
                "this interaction was already received",
            )
                .into_response())
        }
        Err(e) => {
            // The database is unreachable: the person is told privately, the
            // way a failed command is, rather than Discord getting a 500 and
            // showing "This interaction failed". Nothing ran, nothing is written.
            tracing::error!(error = %e, "could not check an interaction against replays");
            state.metrics.rejected("database_unavailable");
            let reply = match &envelope.request {
                Request::Autocomplete { .. } => crate::commands::Reply::choices(Vec::new()),
                _ => crate::commands::trouble(e),
            };
            Err(Json(render_answer(&envelope.request, &reply.body)).into_response())
        }
    }
}

/// Answers an accepted interaction by the routine the gateway uses too
/// ([`answer`]); its first response becomes this request's response body,
/// while what follows (a deferred answer, a DM) goes on in the background,
/// tracked so shutdown waits for a password on its way (see `cli::run`).
async fn respond(state: WebState, envelope: Envelope) -> Response {
    let (sender, first) = oneshot::channel();
    if matches!(envelope.request, Request::Autocomplete { .. }) {
        // Read-only, and nothing follows its answer: answered in the
        // request's own task rather than handed to another and woken back.
        let body = ResponseBody(Mutex::new(Some(sender)));
        let rest = state.discord.as_deref();
        answer(&state.app, rest, envelope, &body, &*state.metrics).await;
    } else {
        let task_state = state.clone();
        state.tasks.spawn(async move {
            let body = ResponseBody(Mutex::new(Some(sender)));
            let rest = task_state.discord.as_deref();
            answer(&task_state.app, rest, envelope, &body, &*task_state.metrics).await;
        });
    }
    match first.await {
        Ok(response) => Json(response).into_response(),
        Err(_) => {
            tracing::error!("an interaction ended without a first response");
            (StatusCode::INTERNAL_SERVER_ERROR, "no answer").into_response()
        }
    }
}

/// The HTTP endpoint's first response: handed back to [`respond`], which
/// returns it as the body.
struct ResponseBody(Mutex<Option<oneshot::Sender<Value>>>);

#[async_trait]
impl FirstResponse for ResponseBody {
    async fn send(&self, response: Value) -> Result<(), ()> {
        let sender = self.0.lock().map_err(|_| ())?.take().ok_or(())?;
        sender.send(response).map_err(|_| ())
    }
}
