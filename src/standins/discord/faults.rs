//! Scripted faults: what Discord does on a bad day, played once per matching
//! request, in the order scripted.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{DiscordStandIn, RecordedRequest, Shared, Standin, Upload, lock};

/// One scripted fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// 500 Internal Server Error; the request is not carried out.
    ServerError,
    /// 429 with this `retry_after` (seconds); the request is not carried out.
    RateLimited(f64),
    /// No answer ever: the request hangs until the client gives up. It is
    /// recorded on arrival with status 0, and never carried out.
    Hang,
    /// The request waits until [`DiscordStandIn::release_held`], then is
    /// answered (and recorded) as usual. [`DiscordStandIn::wait_held`] sees it.
    Hold,
}

/// What a fault applies to: the method and the start of the path, e.g.
/// `("POST", "/api/v10/channels/")` for messages (DMs among them).
#[derive(Debug)]
struct Scripted {
    method: String,
    path_prefix: String,
    fault: Fault,
}

#[derive(Default)]
pub(super) struct Faults {
    script: Vec<Scripted>,
    /// How many requests a [`Fault::Hold`] has held so far.
    held: tokio::sync::watch::Sender<usize>,
    /// Turns true once: held requests go on.
    released: tokio::sync::watch::Sender<bool>,
}

/// Messages to any channel (DMs, audit channels).
pub const MESSAGES: (&str, &str) = ("POST", "/api/v10/channels/");
/// Follow-ups on an interaction.
pub const FOLLOWUPS: (&str, &str) = ("POST", "/api/v10/webhooks/");
/// Opening a DM channel.
pub const OPEN_DM: (&str, &str) = ("POST", "/api/v10/users/@me/channels");

impl DiscordStandIn {
    /// The next requests matching `(method, path prefix)` meet `faults`, one
    /// each, in order; later ones are answered as usual.
    pub fn script(&self, (method, path_prefix): (&str, &str), faults: &[Fault]) {
        let mut state = lock(&self.state);
        for fault in faults {
            state.faults.script.push(Scripted {
                method: method.to_owned(),
                path_prefix: path_prefix.to_owned(),
                fault: *fault,
            });
        }
    }

    /// Scripted faults not played yet.
    pub fn faults_left(&self) -> usize {
        lock(&self.state).faults.script.len()
    }

    /// Waits until `n` requests have been held by [`Fault::Hold`], for at most
    /// `within`; answers whether they were.
    pub async fn wait_held(&self, n: usize, within: std::time::Duration) -> bool {
        let mut held = lock(&self.state).faults.held.subscribe();
        tokio::time::timeout(within, held.wait_for(|count| *count >= n))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Lets every held request (and every one held from now on) go on.
    pub fn release_held(&self) {
        lock(&self.state).faults.released.send_replace(true);
    }
}

/// Keeps `request` and wakes whoever waits on the requests.
pub(super) fn record(state: &mut Standin, request: RecordedRequest) {
    state.requests.push(request);
    let count = state.requests.len();
    state.recorded.send_replace(count);
}

/// Plays the first scripted fault that matches, if any: answers the faulty
/// response, or `None` to answer as usual (a held request, once released).
pub(super) async fn play_fault(
    state: &Shared,
    method: &Method,
    path: &str,
    body: Option<Value>,
    files: &[Upload],
    authorization: &Option<String>,
) -> Option<Response> {
    let (fault, mut released) = {
        let mut s = lock(state);
        let index = s
            .faults
            .script
            .iter()
            .position(|f| f.method == method.as_str() && path.starts_with(&f.path_prefix))?;
        let fault = s.faults.script.remove(index).fault;
        (fault, s.faults.released.subscribe())
    };
    let recorded = |status: u16| RecordedRequest {
        method: method.to_string(),
        path: path.to_owned(),
        body: body.clone(),
        files: files.to_vec(),
        authorization: authorization.clone(),
        status,
    };
    let (status, answer) = match fault {
        Fault::Hold => {
            lock(state).faults.held.send_modify(|n| *n += 1);
            let _ = released.wait_for(|go| *go).await;
            return None;
        }
        Fault::Hang => {
            record(&mut lock(state), recorded(0));
            std::future::pending::<()>().await;
            return None;
        }
        Fault::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": "500: Internal Server Error", "code": 0 }),
        ),
        Fault::RateLimited(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({ "message": "You are being rate limited.", "retry_after": seconds, "global": false }),
        ),
    };
    record(&mut lock(state), recorded(status.as_u16()));
    Some((status, axum::Json(answer)).into_response())
}
