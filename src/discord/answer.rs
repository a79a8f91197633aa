//! The parts of answering an interaction that the HTTP endpoint and the
//! gateway share: finishing a deferred answer, and delivering what a quick
//! answer leaves for later (notices to other people).

use super::courier::InteractionCourier;
use super::interaction::Envelope;
use super::rest::DiscordRest;
use crate::app::App;
use crate::commands::{Body, Reply, deliver, handle};

/// Runs the handler, delivers any secret (DM, else private follow-up, else
/// undo), then edits the "thinking…" message into the answer.
pub async fn finish_deferred(app: &App, rest: &DiscordRest, envelope: Envelope) {
    let reply = handle(app, &envelope.invocation, envelope.request).await;
    let courier = InteractionCourier {
        rest,
        token: &envelope.token,
    };
    let (body, _route) = deliver(app, &courier, reply).await;
    let content = match body {
        Body::Text { content, .. } => content,
        _ => String::new(),
    };
    if let Err(e) = rest.edit_original(&envelope.token, &content).await {
        tracing::error!(error = %e, "could not edit the deferred answer");
    }
}

/// Delivers the secret and notices of a reply whose body was already sent.
pub async fn deliver_rest(app: &App, rest: &DiscordRest, token: &str, reply: Reply) {
    if reply.secret.is_none() && reply.notices.is_empty() {
        return;
    }
    let courier = InteractionCourier { rest, token };
    let leftovers = Reply {
        body: Body::Choices(Vec::new()),
        ..reply
    };
    let _ = deliver(app, &courier, leftovers).await;
}
