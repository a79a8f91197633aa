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
//! lets them go. It never talks to the real Discord.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

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
    /// The JSON body; `None` when there was none or it was not JSON.
    pub body: Option<Value>,
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
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("status", &self.status)
            .finish()
    }
}

#[derive(Default)]
struct Standin {
    requests: Vec<RecordedRequest>,
    dms: Vec<(u64, String)>,
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

    /// Answers `GET /gateway` and `GET /gateway/bot` with `url` (a gateway
    /// stand-in's `ws://127.0.0.1:PORT`), as Discord answers with its gateway.
    pub fn serve_gateway(&self, url: &Url) {
        lock(&self.state).gateway_url = Some(url.as_str().trim_end_matches('/').to_owned());
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

/// An answer: status, JSON body, extra headers.
struct Answer(StatusCode, Value, Vec<(&'static str, &'static str)>);

impl Answer {
    fn ok(body: Value) -> Self {
        Self(StatusCode::OK, body, Vec::new())
    }

    /// Discord's error body: `{"message": ..., "code": ...}`.
    fn error(status: StatusCode, code: u64, message: &str) -> Self {
        Self(
            status,
            json!({ "message": message, "code": code }),
            Vec::new(),
        )
    }

    fn invalid_form(field: &str, code: &str, message: &str) -> Self {
        Self(
            StatusCode::BAD_REQUEST,
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": { field: { "_errors": [{ "code": code, "message": message }] } }
            }),
            Vec::new(),
        )
    }
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed: Option<Result<Value, _>> =
        (!body.is_empty()).then(|| serde_json::from_slice::<Value>(&body));
    let json = parsed.as_ref().and_then(|p| p.as_ref().ok()).cloned();
    if let Some(faulty) = play_fault(&state, &method, uri.path(), json, &authorization).await {
        return faulty;
    }
    let mut state = lock(&state);
    let Answer(status, answer, extra) = if state.rate_limited > 0 {
        state.rate_limited -= 1;
        Answer(
            StatusCode::TOO_MANY_REQUESTS,
            json!({ "message": "You are being rate limited.", "retry_after": 0.05, "global": false }),
            vec![("retry-after", "1"), ("x-ratelimit-scope", "user")],
        )
    } else {
        match &parsed {
            Some(Err(_)) => Answer::error(
                StatusCode::BAD_REQUEST,
                50109,
                "The request body contains invalid JSON.",
            ),
            Some(Ok(json)) => route(
                &mut state,
                &method,
                uri.path(),
                authorization.as_deref(),
                json,
            ),
            None => route(
                &mut state,
                &method,
                uri.path(),
                authorization.as_deref(),
                &Value::Null,
            ),
        }
    };
    state.requests.push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        body: parsed.and_then(Result::ok),
        authorization,
        status: status.as_u16(),
    });
    let count = state.requests.len();
    state.recorded.send_replace(count);
    let mut response = (status, axum::Json(answer)).into_response();
    for (name, value) in extra {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

fn route(
    state: &mut Standin,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
    body: &Value,
) -> Answer {
    let Some(rest) = path.strip_prefix("/api/v10/") else {
        return Answer::error(StatusCode::NOT_FOUND, 0, "404: Not Found");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let bot = authorization.is_some_and(|a| a.starts_with("Bot ") && a.len() > 4);
    let unauthorized = || Answer::error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["users", "@me", "channels"]) if bot => create_dm(state, body),
        ("POST", ["channels", channel, "messages"]) if bot => create_message(state, channel, body),
        ("PUT", ["applications", app, "commands"]) if bot => overwrite(state, app, None, body),
        ("PUT", ["applications", app, "guilds", guild, "commands"]) if bot => {
            overwrite(state, app, Some(guild), body)
        }
        ("POST", ["users", "@me", "channels"])
        | ("POST", ["channels", _, "messages"])
        | ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => unauthorized(),
        // Interaction webhooks are authorised by their token, not the bot's.
        ("PATCH", ["webhooks", app, token, "messages", "@original"]) => {
            webhook_message(state, app, token, body)
        }
        ("POST", ["webhooks", app, token]) => webhook_message(state, app, token, body),
        // The first answer to an interaction that came over the gateway.
        ("POST", ["interactions", _id, _token, "callback"]) => match body["type"].as_u64() {
            Some(1 | 4 | 5 | 6 | 7 | 8 | 9) => {
                Answer(StatusCode::NO_CONTENT, Value::Null, Vec::new())
            }
            _ => Answer::error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"),
        },
        ("GET", ["gateway"]) => gateway(state, false),
        ("GET", ["gateway", "bot"]) if bot => gateway(state, true),
        ("GET", ["gateway", "bot"]) => unauthorized(),
        _ => Answer::error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

/// `GET /gateway` (`{url}`) and `GET /gateway/bot` (with one shard and the
/// session start limit), when a gateway stand-in is served.
fn gateway(state: &Standin, bot: bool) -> Answer {
    let Some(url) = &state.gateway_url else {
        return Answer::error(StatusCode::NOT_FOUND, 0, "404: Not Found");
    };
    if !bot {
        return Answer::ok(json!({ "url": url }));
    }
    Answer::ok(json!({
        "url": url,
        "shards": 1,
        "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1 },
    }))
}

fn snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

fn next_id(state: &mut Standin) -> u64 {
    state.next_id += 1;
    state.next_id
}

fn user_object(id: u64, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": if bot { "hallpass".to_owned() } else { format!("user{id}") },
        "global_name": null,
        "discriminator": "0",
        "avatar": null,
        "public_flags": 0,
        "bot": bot,
    })
}

/// `POST /users/@me/channels`: the existing DM channel with the recipient, or a new one.
fn create_dm(state: &mut Standin, body: &Value) -> Answer {
    let Some(recipient) = snowflake(&body["recipient_id"]) else {
        return Answer::invalid_form(
            "recipient_id",
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
    };
    let existing = state
        .dm_channels
        .iter()
        .find(|(_, r)| **r == recipient)
        .map(|(channel, _)| *channel);
    let channel = match existing {
        Some(channel) => channel,
        None => {
            let channel = next_id(state);
            state.dm_channels.insert(channel, recipient);
            channel
        }
    };
    Answer::ok(json!({
        "id": channel.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user_object(recipient, false)],
    }))
}

fn content(body: &Value) -> Result<String, Answer> {
    match body["content"].as_str() {
        Some(text) if text.chars().count() > MAX_CONTENT => Err(Answer::invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        )),
        Some(text) if !text.trim().is_empty() => Ok(text.to_owned()),
        _ => Err(Answer::error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        )),
    }
}

fn message_object(state: &mut Standin, channel: u64, content: &str, body: &Value) -> Value {
    let id = next_id(state);
    json!({
        "id": id.to_string(),
        "type": 0,
        "channel_id": channel.to_string(),
        "author": user_object(BOT_USER_ID, true),
        "content": content,
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "flags": body["flags"].as_u64().unwrap_or(0),
    })
}

/// `POST /channels/{channel.id}/messages`, to a DM channel opened before or
/// to a server text channel the test added.
fn create_message(state: &mut Standin, channel: &str, body: &Value) -> Answer {
    let id = channel.parse::<u64>().ok();
    if let Some(id) = id.filter(|id| state.channels.contains_key(id)) {
        let text = match content(body) {
            Ok(text) => text,
            Err(answer) => return answer,
        };
        state.channels.entry(id).or_default().push(text.clone());
        return Answer::ok(message_object(state, id, &text, body));
    }
    let Some((channel, recipient)) = id.and_then(|c| state.dm_channels.get(&c).map(|r| (c, *r)))
    else {
        return Answer::error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if let Some(code) = state.fail_dms {
        return Answer::error(
            StatusCode::FORBIDDEN,
            code,
            "Cannot send messages to this user",
        );
    }
    let text = match content(body) {
        Ok(text) => text,
        Err(answer) => return answer,
    };
    state.dms.push((recipient, text.clone()));
    Answer::ok(message_object(state, channel, &text, body))
}

/// `PATCH /webhooks/{application.id}/{interaction.token}/messages/@original`
/// and `POST /webhooks/{application.id}/{interaction.token}` (a follow-up,
/// where Discord always waits and answers the message).
fn webhook_message(state: &mut Standin, app: &str, token: &str, body: &Value) -> Answer {
    if app.parse::<u64>().is_err() || token.is_empty() || state.fail_followups {
        return Answer::error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
    }
    let text = match content(body) {
        Ok(text) => text,
        Err(answer) => return answer,
    };
    let channel = next_id(state);
    let mut message = message_object(state, channel, &text, body);
    message["webhook_id"] = json!(app);
    message["application_id"] = json!(app);
    Answer::ok(message)
}

/// `PUT /applications/{application.id}[/guilds/{guild.id}]/commands`: replaces
/// the whole set and answers the stored commands.
fn overwrite(state: &mut Standin, app: &str, guild: Option<&str>, body: &Value) -> Answer {
    let Ok(app) = app.parse::<u64>() else {
        return Answer::error(StatusCode::NOT_FOUND, 10002, "Unknown Application");
    };
    let guild = match guild.map(str::parse::<u64>) {
        None => None,
        Some(Ok(guild)) => Some(guild),
        Some(Err(_)) => return Answer::error(StatusCode::NOT_FOUND, 10004, "Unknown Guild"),
    };
    let Some(commands) = body.as_array() else {
        return Answer::invalid_form("_", "BASE_TYPE_ARRAY", "Must be an array.");
    };
    let mut stored = Vec::with_capacity(commands.len());
    for (i, command) in commands.iter().enumerate() {
        let named = command["name"].as_str().is_some_and(|n| !n.is_empty());
        let described = command["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty());
        if !named || !described {
            return Answer::invalid_form(
                &i.to_string(),
                "BASE_TYPE_REQUIRED",
                "name and description are required",
            );
        }
        let mut command = command.clone();
        command["id"] = json!(next_id(state).to_string());
        command["version"] = json!(next_id(state).to_string());
        command["application_id"] = json!(app.to_string());
        command["default_member_permissions"] = Value::Null;
        command["nsfw"] = json!(false);
        if command.get("type").is_none() {
            command["type"] = json!(1);
        }
        if let Some(guild) = guild {
            command["guild_id"] = json!(guild.to_string());
        }
        stored.push(command);
    }
    state.commands.insert(guild, stored.clone());
    Answer::ok(Value::Array(stored))
}

// Scripted faults: what Discord does on a bad day, played once per matching
// request, in the order scripted.

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
struct Faults {
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

fn record(state: &mut Standin, request: RecordedRequest) {
    state.requests.push(request);
    let count = state.requests.len();
    state.recorded.send_replace(count);
}

/// Plays the first scripted fault that matches, if any: answers the faulty
/// response, or `None` to answer as usual (a held request, once released).
async fn play_fault(
    state: &Shared,
    method: &Method,
    path: &str,
    body: Option<Value>,
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
