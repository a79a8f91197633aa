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

mod connection;
use connection::connection;

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
