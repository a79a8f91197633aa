//! The parts of answering an interaction that the HTTP endpoint and the
//! gateway share: finishing a deferred answer, and delivering what a quick
//! answer leaves for later (notices to other people).

use super::courier::InteractionCourier;
use super::interaction::Envelope;
use super::rest::DiscordRest;
use crate::app::App;
use crate::commands::{Body, Reply, Route, deliver, handle};

/// Runs the handler, delivers any secret (DM, else private follow-up, else
/// undo), then edits the "thinking…" message into the answer. Answers how the
/// secret went, if there was one.
pub async fn finish_deferred(app: &App, rest: &DiscordRest, envelope: Envelope) -> Option<Route> {
    let reply = handle(app, &envelope.invocation, envelope.request).await;
    let courier = InteractionCourier {
        rest,
        token: &envelope.token,
    };
    let (body, route) = deliver(app, &courier, reply).await;
    let content = match body {
        Body::Text { content, .. } => content,
        _ => String::new(),
    };
    if let Err(e) = rest.edit_original(&envelope.token, &content).await {
        tracing::error!(error = %e, "could not edit the deferred answer");
    }
    route
}

/// Delivers the secret and notices of a reply whose body was already sent.
pub async fn deliver_rest(
    app: &App,
    rest: &DiscordRest,
    token: &str,
    reply: Reply,
) -> Option<Route> {
    if reply.secret.is_none() && reply.notices.is_empty() {
        return None;
    }
    let courier = InteractionCourier { rest, token };
    let leftovers = Reply {
        body: Body::Choices(Vec::new()),
        ..reply
    };
    deliver(app, &courier, leftovers).await.1
}
