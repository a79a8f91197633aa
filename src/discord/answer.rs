//! The one way an interaction is answered, for the HTTP endpoint and the
//! gateway alike: a slow request is acknowledged first (a command or a form
//! with "thinking…", a button silently) and its answer edited in once the
//! handler and any secret's delivery are done; a quick one is answered at
//! once, and what the answer leaves (a DM, notices) is delivered after.
//!
//! The two transports differ only in how the first response leaves
//! ([`FirstResponse`]: over HTTP it is the response body, over the gateway a
//! POST of the interaction callback) and in what they count ([`Hooks`]).

use std::future::Future;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use super::courier::InteractionCourier;
use super::interaction::Envelope;
use super::response::{deferral, deferred_edit, render_answer};
use super::rest::DiscordRest;
use crate::app::App;
use crate::audit::Outcome;
use crate::commands::{Body, Reply, Route, deliver, handle, is_rate_limited, labels};
use crate::store::AuditedOutcomes;

/// How the first response to an interaction leaves.
#[async_trait]
pub trait FirstResponse: Send + Sync {
    /// Sends `response` (an interaction-response object); `Err` when it could
    /// not go, which ends a slow request there (Discord shows it failed).
    async fn send(&self, response: Value) -> Result<(), ()>;
}

/// What a transport counts about its answers; every hook does nothing unless
/// the transport says otherwise.
pub trait Hooks: Send + Sync {
    /// A request answered (for a slow one, once its answer was edited in).
    fn answered(&self, _kind: &'static str, _command: &'static str, _took: std::time::Duration) {}
    /// A request answered by the per-account limit rather than a handler.
    fn rate_limited(&self, _kind: &'static str) {}
    /// How a secret went, if there was one.
    fn route(&self, _route: Option<Route>) {}
    /// The audited outcome of a request that is not an autocomplete and has
    /// an interaction id: the worst of the entries its handling wrote
    /// (failed, then refused, then applied), `None` when it wrote none.
    fn outcome(&self, _command: &'static str, _audited: Option<Outcome>) {}
    /// A gateway session began: `identified` (a new session: the first, or
    /// after Discord invalidated the last) or `resumed` (after a drop,
    /// nothing missed).
    fn gateway_session(&self, _how: &'static str) {}
}

/// Hooks that count nothing (the gateway).
pub struct NoHooks;

impl Hooks for NoHooks {}

/// Answers one understood interaction: deferred when slow, else at once.
/// `rest` reaches Discord for edits, follow-ups and DMs; without it (an
/// endpoint wired with no application id) a deferred answer cannot follow.
pub async fn answer(
    app: &App,
    rest: Option<&DiscordRest>,
    envelope: Envelope,
    first: &dyn FirstResponse,
    hooks: &dyn Hooks,
) {
    let (kind, command) = labels(&envelope.request);
    if envelope.request.is_slow() {
        if first.send(deferral(&envelope.request)).await.is_err() {
            return;
        }
        let Some(rest) = rest else {
            tracing::error!(
                "DISCORD_APPLICATION_ID is not set, so a deferred answer cannot be delivered"
            );
            return;
        };
        let started = Instant::now();
        let id = envelope.invocation.interaction_id.clone();
        let (route, audited) = gathered(id.as_deref(), finish_deferred(app, rest, envelope)).await;
        hooks.answered(kind, command, started.elapsed());
        hooks.route(route);
        if let Some(audited) = audited {
            hooks.outcome(command, audited.outcome());
        }
        return;
    }
    let started = Instant::now();
    let Envelope {
        invocation,
        request,
        token,
        ..
    } = envelope;
    let (reply, audited) = if kind == "autocomplete" {
        (handle(app, &invocation, request.clone()).await, None)
    } else {
        let id = invocation.interaction_id.as_deref();
        gathered(id, handle(app, &invocation, request.clone())).await
    };
    hooks.answered(kind, command, started.elapsed());
    if is_rate_limited(&reply) {
        hooks.rate_limited(kind);
    }
    if let Some(audited) = audited {
        hooks.outcome(command, audited.outcome());
    }
    // An unsent quick answer still delivers its secret: the handler acted.
    let _ = first.send(render_answer(&request, &reply.body)).await;
    if let Some(rest) = rest {
        hooks.route(deliver_rest(app, rest, &token, reply).await);
    }
}

/// Runs `work`, gathering the outcomes of the audit entries it writes for
/// interaction `id` (none to gather without an id): what the endpoint counts
/// in `/metrics`, known without reading the log back.
async fn gathered<F: Future>(id: Option<&str>, work: F) -> (F::Output, Option<AuditedOutcomes>) {
    match id {
        Some(id) => {
            let (output, audited) = AuditedOutcomes::gather(id, work).await;
            (output, Some(audited))
        }
        None => (work.await, None),
    }
}

/// Runs the handler, delivers any secret (DM, else private follow-up, else
/// undo), then edits the first answer ("thinking…", or the prompt whose
/// button was clicked) into the answer. Answers how the secret went.
pub async fn finish_deferred(app: &App, rest: &DiscordRest, envelope: Envelope) -> Option<Route> {
    let request = envelope.request.clone();
    let reply = handle(app, &envelope.invocation, envelope.request).await;
    let courier = InteractionCourier {
        rest,
        token: &envelope.token,
    };
    let (body, route) = deliver(app, &courier, reply).await;
    let edit = deferred_edit(&request, &body);
    if let Err(e) = rest.edit_original_data(&envelope.token, &edit).await {
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
