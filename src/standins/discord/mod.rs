//! A local stand-in for Discord's REST API, used by `hallpass demo` and by the
//! tests: an HTTP server on `127.0.0.1` (a free port) that answers under
//! `/api/v10` for exactly the routes the bot calls.
//!
//! Promise: it speaks Discord's documented wire format for those routes (DM
//! channel and message objects, server text channel messages, snowflakes as strings, the command list of a
//! bulk overwrite, Discord's error bodies), checks what Discord checks that the
//! bot could get wrong (a `Bot` token on bot routes, valid JSON, a known
//! channel, 1 to 2,000 characters of content), records every request it gets,
//! and fails on demand the way Discord fails: closed inboxes (403, code 50007
//! or 50278), expired interactions (404 Unknown Webhook, 10015), rate limits
//! (429 with `retry_after`), and, scripted per route ([`Fault`]), with 500s,
//! 429s, requests that never get an answer, and requests held until the test
//! lets them go. A message may carry files as Discord takes them
//! (`multipart/form-data`: `payload_json` and `files[n]`, each described in
//! `attachments`); they are kept with the request, and with the DM or the
//! follow-up they came with. It never talks to the real Discord.

mod faults;
mod messages;
mod multipart;
mod routes;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use faults::Faults;
pub use faults::{FOLLOWUPS, Fault, MESSAGES, OPEN_DM};
use routes::handle;

/// The stand-in's own bot user (the author of every message it stores).
pub const BOT_USER_ID: u64 = 1_300_000_000_000_000_001;
/// Ids it hands out count up from here (plausible snowflakes).
const FIRST_ID: u64 = 1_300_000_000_000_001_000;
/// Discord's longest message.
const MAX_CONTENT: usize = 2000;

/// One request as the stand-in received it.
#[derive(Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path, `/api/v10/...`, without the query.
    pub path: String,
    /// The JSON body (a multipart body's `payload_json`); `None` when there
    /// was none or it was not JSON.
    pub body: Option<Value>,
    /// The files of a multipart body, in order.
    pub files: Vec<Upload>,
    /// The `Authorization` header, e.g. `Bot MTIz...`.
    pub authorization: Option<String>,
    /// The status the stand-in answered.
    pub status: u16,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body", &self.body)
            .field("files", &self.files)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("status", &self.status)
            .finish()
    }
}

/// A file uploaded with a message (`files[index]`).
#[derive(Clone, PartialEq, Eq)]
pub struct Upload {
    pub index: u64,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Upload {
    /// The bytes (a class's login cards) are not printed, only their size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("index", &self.index)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[derive(Default)]
struct Standin {
    requests: Vec<RecordedRequest>,
    dms: Vec<(u64, String)>,
    /// Files delivered by DM: (recipient, file).
    dm_files: Vec<(u64, Upload)>,
    /// Files delivered in follow-ups: (interaction token, file).
    followup_files: Vec<(String, Upload)>,
    /// DM channel id -> recipient.
    dm_channels: BTreeMap<u64, u64>,
    /// Server text channels the bot may post in -> the messages posted there.
    channels: BTreeMap<u64, Vec<String>>,
    fail_dms: Option<u64>,
    fail_followups: bool,
    rate_limited: u32,
    next_id: u64,
    /// Registered commands: `None` global, `Some(guild)` per server.
    commands: BTreeMap<Option<u64>, Vec<Value>>,
    /// What `GET /gateway` answers (a gateway stand-in's URL); unset: 404.
    gateway_url: Option<String>,
    /// The shards `GET /gateway/bot` recommends.
    gateway_shards: u64,
    /// Interactions whose callback was answered: Discord takes one
    /// response an interaction and refuses the next with code 40060.
    acknowledged: std::collections::BTreeSet<String>,
    /// How many requests are recorded; tests wait on it instead of polling.
    recorded: tokio::sync::watch::Sender<usize>,
    /// Scripted faults ([`DiscordStandIn::script`]).
    faults: Faults,
}

type Shared = Arc<Mutex<Standin>>;

/// A running stand-in; it stops when dropped.
pub struct DiscordStandIn {
    url: Url,
    state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
}

/// Starts a stand-in on `127.0.0.1` and a free port, on the current Tokio runtime.
pub async fn start() -> std::io::Result<DiscordStandIn> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    let url = Url::parse(&format!("http://{address}/")).map_err(std::io::Error::other)?;
    let state: Shared = Arc::new(Mutex::new(Standin {
        next_id: FIRST_ID,
        ..Standin::default()
    }));
    let app = Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&state));
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(error) = serve.await {
            tracing::warn!(%error, "The Discord stand-in stopped");
        }
    });
    Ok(DiscordStandIn {
        url,
        state,
        shutdown: Some(shutdown),
    })
}

impl DiscordStandIn {
    /// The base to give the bot as `DISCORD_API_URL` (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// Every request so far, oldest first (rate-limited ones included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Waits until `found` finds what it looks for among the requests so far,
    /// woken by each new request, for at most `within` (`None` after that).
    pub async fn wait_for<T>(
        &self,
        within: std::time::Duration,
        mut found: impl FnMut(&[RecordedRequest]) -> Option<T>,
    ) -> Option<T> {
        let mut changed = lock(&self.state).recorded.subscribe();
        let wait = async {
            loop {
                let answer = found(&lock(&self.state).requests);
                if answer.is_some() {
                    return answer;
                }
                if changed.changed().await.is_err() {
                    return None;
                }
            }
        };
        tokio::time::timeout(within, wait).await.ok().flatten()
    }

    /// Every direct message delivered so far: (recipient's user id, content).
    pub fn dms(&self) -> Vec<(u64, String)> {
        lock(&self.state).dms.clone()
    }

    /// Every file delivered by DM so far: (recipient's user id, file).
    pub fn dm_files(&self) -> Vec<(u64, Upload)> {
        lock(&self.state).dm_files.clone()
    }

    /// Every file delivered in a follow-up so far: (interaction token, file).
    pub fn followup_files(&self) -> Vec<(String, Upload)> {
        lock(&self.state).followup_files.clone()
    }

    /// Makes `channel` a server text channel the bot can post in (an audit channel).
    pub fn add_text_channel(&self, channel: u64) {
        lock(&self.state).channels.entry(channel).or_default();
    }

    /// The contents posted in a server text channel so far, oldest first.
    pub fn channel_messages(&self, channel: u64) -> Vec<String> {
        lock(&self.state)
            .channels
            .get(&channel)
            .cloned()
            .unwrap_or_default()
    }

    /// The commands registered by the last bulk overwrite, globally (`None`)
    /// or in one server.
    pub fn registered_commands(&self, guild: Option<u64>) -> Vec<Value> {
        lock(&self.state)
            .commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    /// Answers `GET /gateway` and `GET /gateway/bot` with `gateway`'s URL
    /// (`ws://127.0.0.1:PORT`), as Discord answers with its gateway, and
    /// `/gateway/bot` with the shards it requires.
    pub fn serve_gateway(&self, gateway: &crate::standins::gateway::GatewayStandIn) {
        let mut state = lock(&self.state);
        state.gateway_url = Some(gateway.url().as_str().trim_end_matches('/').to_owned());
        state.gateway_shards = gateway.shards();
    }

    /// From now on, every DM is refused with 403 and this JSON error code
    /// (50007: the person's privacy settings; 50278: same message, newer code).
    pub fn fail_dms_with(&self, code: u64) {
        lock(&self.state).fail_dms = Some(code);
    }

    /// From now on, follow-ups and edits of the original answer fail with 404
    /// Unknown Webhook (10015), as when the interaction's 15 minutes are up.
    pub fn fail_followups(&self) {
        lock(&self.state).fail_followups = true;
    }

    /// The next `n` requests, whatever they are, are answered 429 with
    /// `retry_after` 0.05 s (and `Retry-After: 1`, Discord's rounded-up header).
    pub fn rate_limit_next(&self, n: u32) {
        lock(&self.state).rate_limited = n;
    }
}

impl Drop for DiscordStandIn {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, Standin> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
