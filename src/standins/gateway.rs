//! A local stand-in for Discord's gateway (API v10, JSON text frames), used by
//! the tests: a websocket server on `127.0.0.1` (a free port) that the bot's
//! serenity client connects to once the REST stand-in answers `GET /gateway`
//! with [`GatewayStandIn::url`].
//!
//! Promise: it speaks the gateway protocol as Discord documents it
//! (<https://discord.com/developers/docs/events/gateway>): HELLO (op 10) on
//! connect; IDENTIFY (op 2) checked for the token (close 4004 "Authentication
//! failed." when wrong) and for privileged intents (close 4014 "Disallowed
//! intent(s)."; this application has none enabled); READY (op 0, with a
//! `session_id` and `resume_gateway_url`); heartbeats (op 1) acknowledged with
//! op 11; RESUME (op 6) replays the dispatches after the client's sequence
//! number, then RESUMED, or answers op 9 `false` for an unknown session. The
//! test supplies `INTERACTION_CREATE` payloads and, on demand, drops the
//! socket without a close frame, sends op 7 RECONNECT or op 9 INVALID SESSION.
//! Everything the client sends is recorded in a [`GatewayRecord`] a test can
//! wait on. Dispatches go out uncompressed text even though serenity asks for
//! `compress` in IDENTIFY: Discord compresses only some payloads, and serenity
//! reads both.
//!
//! A hand-written server rather than a crate: no maintained crate emulates
//! Discord's gateway; the websocket itself is tokio-tungstenite (the version
//! serenity uses).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use url::Url;

use crate::standins::discord::BOT_USER_ID;

/// Discord's default heartbeat interval, in milliseconds.
pub const DISCORD_HEARTBEAT_INTERVAL_MS: u64 = 41_250;
/// Intents that need a switch in the Developer Portal (members, presences,
/// message content): Discord closes with 4014 when they are asked for and off.
const PRIVILEGED_INTENTS: u64 = (1 << 1) | (1 << 8) | (1 << 15);

/// One IDENTIFY (op 2) as the stand-in received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identify {
    /// Whether the token was the expected one (with or without `Bot `).
    pub token_accepted: bool,
    pub intents: u64,
}

/// One RESUME (op 6) as the stand-in received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    pub session_id: String,
    pub seq: u64,
    /// Whether the session was known and resumed (otherwise op 9 `false`).
    pub accepted: bool,
}

/// What the client has done so far; tests wait on it with [`GatewayStandIn::wait_until`].
#[derive(Clone, Debug, Default)]
pub struct GatewayRecord {
    /// Websocket connections accepted, and the query string of each (`v=10`).
    pub connections: Vec<String>,
    pub identifies: Vec<Identify>,
    pub resumes: Vec<Resume>,
    /// Heartbeats (op 1) received, each answered with op 11.
    pub heartbeats: u32,
    /// Sessions started by a READY, oldest first.
    pub sessions: Vec<String>,
    /// Close codes the stand-in sent (4004, 4014, ...).
    pub closes_sent: Vec<u16>,
    /// Close frames the client sent, by code.
    pub closes_received: Vec<u16>,
    /// `true` while a session is established on a live socket (after READY
    /// or RESUMED, until it is dropped, invalidated or closed).
    pub live: bool,
}

/// What the test asks of the live connection.
enum Control {
    Frame(String),
    /// Drop the TCP stream without a closing handshake.
    Drop,
}

struct Session {
    seq: u64,
    /// Every numbered dispatch of the session, for replay on RESUME.
    dispatches: Vec<(u64, String)>,
}

struct State {
    token: String,
    application_id: u64,
    heartbeat_interval_ms: u64,
    url: Url,
    sessions: HashMap<String, Session>,
    /// The session on the live socket, and the way to that socket.
    current: Option<(String, mpsc::UnboundedSender<Control>)>,
    next_session: u64,
}

struct Shared {
    state: Mutex<State>,
    record: watch::Sender<GatewayRecord>,
}

/// A running gateway stand-in; it stops when dropped.
pub struct GatewayStandIn {
    url: Url,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// Starts a stand-in on `127.0.0.1` and a free port that accepts `token` (as
/// serenity sends it, `Bot TOKEN`, or bare), with Discord's heartbeat interval.
pub async fn start(token: &str, application_id: u64) -> std::io::Result<GatewayStandIn> {
    start_with(token, application_id, DISCORD_HEARTBEAT_INTERVAL_MS).await
}

/// As [`start`], announcing `heartbeat_interval_ms` in HELLO.
pub async fn start_with(
    token: &str,
    application_id: u64,
    heartbeat_interval_ms: u64,
) -> std::io::Result<GatewayStandIn> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    let url = Url::parse(&format!("ws://{address}")).map_err(std::io::Error::other)?;
    let (record, _) = watch::channel(GatewayRecord::default());
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            token: token.to_owned(),
            application_id,
            heartbeat_interval_ms,
            url: url.clone(),
            sessions: HashMap::new(),
            current: None,
            next_session: 1,
        }),
        record,
    });
    let accepting = Arc::clone(&shared);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(Arc::clone(&accepting), stream));
        }
    });
    Ok(GatewayStandIn { url, shared, task })
}

impl GatewayStandIn {
    /// The websocket URL to answer `GET /gateway` with (`ws://127.0.0.1:PORT`).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// What the client has done so far.
    pub fn record(&self) -> GatewayRecord {
        self.shared.record.borrow().clone()
    }

    /// Waits until `done` holds for the record (no timeout: wrap it in one).
    pub async fn wait_until(&self, done: impl FnMut(&GatewayRecord) -> bool) -> GatewayRecord {
        let mut record = self.shared.record.subscribe();
        match record.wait_for(done).await {
            Ok(seen) => seen.clone(),
            // The sender lives in `self`: it cannot be gone while we wait.
            Err(_) => self.record(),
        }
    }

    /// Dispatches `INTERACTION_CREATE` with `interaction` (an interaction
    /// object as Discord sends it) in the current session: at once on a live
    /// socket, or on RESUME when the socket is down. Returns its sequence
    /// number; `None` when there is no session to dispatch in.
    pub fn dispatch_interaction(&self, interaction: &Value) -> Option<u64> {
        let mut state = lock(&self.shared);
        let (session_id, live) = match &state.current {
            Some((id, sender)) => (id.clone(), Some(sender.clone())),
            None => (latest_session(&state)?, None),
        };
        let session = state.sessions.get_mut(&session_id)?;
        session.seq += 1;
        let seq = session.seq;
        let frame =
            json!({ "op": 0, "t": "INTERACTION_CREATE", "s": seq, "d": interaction }).to_string();
        session.dispatches.push((seq, frame.clone()));
        if let Some(sender) = live {
            let _ = sender.send(Control::Frame(frame));
        }
        Some(seq)
    }

    /// Drops the live socket without a closing handshake, as a network
    /// failure does; the session stays resumable.
    pub fn drop_connection(&self) {
        if let Some((_, sender)) = self.take_current() {
            let _ = sender.send(Control::Drop);
        }
    }

    /// Sends op 7 RECONNECT: the client should reconnect and resume.
    pub fn send_reconnect(&self) {
        if let Some((_, sender)) = self.take_current() {
            let _ = sender.send(Control::Frame(opcode(7, Value::Null)));
        }
    }

    /// Sends op 9 INVALID SESSION with `d: false` and forgets the session: the
    /// client must identify again.
    pub fn invalidate_session(&self) {
        if let Some((session_id, sender)) = self.take_current() {
            lock(&self.shared).sessions.remove(&session_id);
            let _ = sender.send(Control::Frame(opcode(9, json!(false))));
        }
    }

    fn take_current(&self) -> Option<(String, mpsc::UnboundedSender<Control>)> {
        let current = lock(&self.shared).current.take();
        self.shared.record.send_modify(|r| r.live = false);
        current
    }
}

impl Drop for GatewayStandIn {
    fn drop(&mut self) {
        self.task.abort();
        if let Some((_, sender)) = lock(&self.shared).current.take() {
            let _ = sender.send(Control::Drop);
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The most recently started session still known (for dispatches while the
/// socket is down).
fn latest_session(state: &State) -> Option<String> {
    let number = |id: &String| id.rsplit('-').next().and_then(|n| n.parse::<u64>().ok());
    state.sessions.keys().max_by_key(|id| number(id)).cloned()
}

/// A non-dispatch payload: `s` and `t` are null, as Discord sends them.
fn opcode(op: u8, d: Value) -> String {
    json!({ "op": op, "d": d, "s": null, "t": null }).to_string()
}

/// One websocket connection, from HELLO until either side ends it.
// The handshake callback's error type is tungstenite's (an HTTP response).
#[allow(clippy::result_large_err)]
async fn connection(shared: Arc<Shared>, stream: TcpStream) {
    let mut query = String::new();
    let callback = |request: &Request, response: Response| {
        query = request.uri().query().unwrap_or_default().to_owned();
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    shared.record.send_modify(|r| r.connections.push(query));
    let interval = lock(&shared).heartbeat_interval_ms;
    let hello = opcode(10, json!({ "heartbeat_interval": interval }));
    if socket.send(Message::Text(hello)).await.is_err() {
        return;
    }
    let (sender, mut controls) = mpsc::unbounded_channel::<Control>();
    loop {
        tokio::select! {
            incoming = socket.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.map_or(1005, |f| u16::from(f.code));
                        shared.record.send_modify(|r| r.closes_received.push(code));
                        forget_socket(&shared, &sender);
                        // tungstenite answers the close frame; read until it is done.
                        while let Some(Ok(_)) = socket.next().await {}
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        forget_socket(&shared, &sender);
                        return;
                    }
                };
                for reply in answer(&shared, &sender, &text) {
                    let sent = match reply {
                        Reply::Frame(frame) => socket.send(Message::Text(frame)).await,
                        Reply::Close(code, reason) => {
                            shared.record.send_modify(|r| r.closes_sent.push(code));
                            socket.send(Message::Close(Some(CloseFrame {
                                code: CloseCode::from(code),
                                reason: reason.into(),
                            }))).await
                        }
                    };
                    if sent.is_err() {
                        forget_socket(&shared, &sender);
                        return;
                    }
                }
            }
            control = controls.recv() => match control {
                Some(Control::Frame(frame)) => {
                    if socket.send(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                Some(Control::Drop) | None => return,
            },
        }
    }
}

/// The socket went away: if it carried the live session, nothing is live now.
fn forget_socket(shared: &Shared, sender: &mpsc::UnboundedSender<Control>) {
    let mut state = lock(shared);
    if state
        .current
        .as_ref()
        .is_some_and(|(_, s)| s.same_channel(sender))
    {
        state.current = None;
        drop(state);
        shared.record.send_modify(|r| r.live = false);
    }
}

enum Reply {
    Frame(String),
    Close(u16, &'static str),
}

/// The stand-in's answer to one text frame from the client.
fn answer(shared: &Shared, sender: &mpsc::UnboundedSender<Control>, text: &str) -> Vec<Reply> {
    let Ok(payload) = serde_json::from_str::<Value>(text) else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let d = &payload["d"];
    match payload["op"].as_u64() {
        Some(1) => {
            shared.record.send_modify(|r| r.heartbeats += 1);
            vec![Reply::Frame(opcode(11, Value::Null))]
        }
        Some(2) => identify(shared, sender, d),
        Some(6) => resume(shared, sender, d),
        // Presence updates and the like: accepted, nothing to say.
        Some(3 | 4 | 8) => Vec::new(),
        _ => vec![Reply::Close(4001, "Unknown opcode.")],
    }
}

fn token_matches(expected: &str, presented: &str) -> bool {
    presented == expected || presented.strip_prefix("Bot ") == Some(expected)
}

fn identify(shared: &Shared, sender: &mpsc::UnboundedSender<Control>, d: &Value) -> Vec<Reply> {
    let (Some(token), Some(intents), true) = (
        d["token"].as_str(),
        d["intents"].as_u64(),
        d["properties"].is_object(),
    ) else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let mut state = lock(shared);
    let token_accepted = token_matches(&state.token, token);
    shared.record.send_modify(|r| {
        r.identifies.push(Identify {
            token_accepted,
            intents,
        });
    });
    if !token_accepted {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    if intents & PRIVILEGED_INTENTS != 0 {
        return vec![Reply::Close(4014, "Disallowed intent(s).")];
    }
    let session_id = format!("standin-session-{}", state.next_session);
    state.next_session += 1;
    let ready = json!({
        "op": 0,
        "t": "READY",
        "s": 1,
        "d": {
            "v": 10,
            "user": {
                "id": BOT_USER_ID.to_string(),
                "username": "hallpass",
                "discriminator": "0",
                "global_name": null,
                "avatar": null,
                "bot": true,
                "verified": true,
                "mfa_enabled": false,
                "flags": 0,
            },
            "guilds": [],
            "session_id": session_id,
            "resume_gateway_url": state.url.as_str().trim_end_matches('/'),
            "shard": [0, 1],
            "application": { "id": state.application_id.to_string(), "flags": 0 },
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["[\"hallpass-standin\"]"],
        }
    })
    .to_string();
    state.sessions.insert(
        session_id.clone(),
        Session {
            seq: 1,
            dispatches: vec![(1, ready.clone())],
        },
    );
    state.current = Some((session_id.clone(), sender.clone()));
    drop(state);
    shared.record.send_modify(|r| {
        r.sessions.push(session_id);
        r.live = true;
    });
    vec![Reply::Frame(ready)]
}

fn resume(shared: &Shared, sender: &mpsc::UnboundedSender<Control>, d: &Value) -> Vec<Reply> {
    let (Some(token), Some(session_id), Some(seq)) = (
        d["token"].as_str(),
        d["session_id"].as_str(),
        d["seq"].as_u64(),
    ) else {
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let mut state = lock(shared);
    if !token_matches(&state.token, token) {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    let State {
        sessions, current, ..
    } = &mut *state;
    let Some(session) = sessions.get_mut(session_id) else {
        drop(state);
        shared.record.send_modify(|r| {
            r.resumes.push(Resume {
                session_id: session_id.to_owned(),
                seq,
                accepted: false,
            });
        });
        return vec![Reply::Frame(opcode(9, json!(false)))];
    };
    let mut replies: Vec<Reply> = session
        .dispatches
        .iter()
        .filter(|(s, _)| *s > seq)
        .map(|(_, frame)| Reply::Frame(frame.clone()))
        .collect();
    session.seq += 1;
    replies.push(Reply::Frame(
        json!({ "op": 0, "t": "RESUMED", "s": session.seq, "d": { "_trace": ["[\"hallpass-standin\"]"] } })
            .to_string(),
    ));
    *current = Some((session_id.to_owned(), sender.clone()));
    drop(state);
    shared.record.send_modify(|r| {
        r.resumes.push(Resume {
            session_id: session_id.to_owned(),
            seq,
            accepted: true,
        });
        r.live = true;
    });
    replies
}
