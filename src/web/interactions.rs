//! `POST /interactions`: Discord's Interactions Endpoint URL. Every request is
//! verified (Ed25519, recent timestamp) before anything else; a bad one gets
//! 401 and changes nothing. A verified request whose interaction id was already
//! received (a captured request sent again) gets 409 and runs nothing; the ids
//! are held in the database, so this holds across instances (an autocomplete,
//! read-only, is remembered by the instance that answered it: `store::replay`). Slow commands (password hashing, secrets to
//! deliver) are acknowledged at once and finished in the background, well
//! inside Discord's 3-second deadline.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::WebState;
use super::metrics::Outcome;
use crate::commands::{Invocation, Reply, Request, Route, handle};
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
    match accept(&state, &headers, &body).await {
        Ok(envelope) => answer(state, envelope).await,
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
            let reply = match envelope.request {
                Request::Autocomplete { .. } => crate::commands::Reply::choices(Vec::new()),
                _ => crate::commands::trouble(e),
            };
            Err(Json(render(&reply.body)).into_response())
        }
    }
}

/// Answers an accepted interaction: deferred when slow, else at once, with
/// what the answer leaves (a DM, notices) delivered in the background.
async fn answer(state: WebState, envelope: Envelope) -> Response {
    if envelope.request.is_slow() {
        // Tracked, so shutdown waits for the password on its way (see `cli::run`).
        state.tasks.spawn(finish_later(state.clone(), envelope));
        return Json(deferred_ephemeral()).into_response();
    }
    let started = Instant::now();
    let (kind, command) = crate::commands::labels(&envelope.request);
    let reply = handle(&state.app, &envelope.invocation, envelope.request).await;
    state.metrics.interaction(kind, command, started.elapsed());
    count_refusal_by_rate(&state, kind, &reply);
    if kind != "autocomplete" {
        count_outcome(&state, command, &envelope.invocation).await;
    }
    let rendered = render(&reply.body);
    if let Some(rest) = state.discord.clone() {
        let (task_state, token) = (state.clone(), envelope.token.clone());
        state.tasks.spawn(async move {
            let route = deliver_rest(&task_state.app, &rest, &token, reply).await;
            count_route(&task_state, route);
        });
    }
    Json(rendered).into_response()
}

/// The deferred path, in the background. `serve` refuses to start with
/// DISCORD_PUBLIC_KEY and no DISCORD_APPLICATION_ID, so `discord` is set here;
/// a listener wired without it (tests) still logs why nothing followed.
async fn finish_later(state: WebState, envelope: Envelope) {
    let started = Instant::now();
    let (kind, command) = crate::commands::labels(&envelope.request);
    let Some(rest) = state.discord.as_ref() else {
        tracing::error!(
            "DISCORD_APPLICATION_ID is not set, so a deferred answer cannot be delivered"
        );
        return;
    };
    let invocation = envelope.invocation.clone();
    let route = finish_deferred(&state.app, rest, envelope).await;
    state.metrics.interaction(kind, command, started.elapsed());
    count_route(&state, route);
    count_outcome(&state, command, &invocation).await;
}

/// The per-account limit answers before any handler, in these words
/// (`commands::handle`); an autocomplete gets the one rate-limited choice.
fn count_refusal_by_rate(state: &WebState, kind: &str, reply: &Reply) {
    if crate::commands::is_rate_limited(reply) {
        state.metrics.rate_limited(kind);
    }
}

fn count_route(state: &WebState, route: Option<Route>) {
    match route {
        Some(Route::PrivateReply) => state.metrics.dm_fallback(),
        Some(Route::Undone) => state.metrics.roll_back(),
        Some(Route::DirectMessage) | None => {}
    }
}

/// The outcome as audited for this interaction: a command that wrote no
/// entry (a lookup) counts as allowed; a store that does not answer, as failed.
async fn count_outcome(state: &WebState, command: &str, invocation: &Invocation) {
    let Some(id) = invocation.interaction_id.as_deref() else {
        return;
    };
    let outcome = match state.app.store.interaction_outcome(id).await {
        Ok(Some(o)) if o == "failed" => Outcome::Failed,
        Ok(Some(o)) if o == "refused" => Outcome::Refused,
        Ok(_) => Outcome::Allowed,
        Err(_) => Outcome::Failed,
    };
    state.metrics.outcome(command, outcome);
}
