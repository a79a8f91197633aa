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
//!
//! Sharding as Discord does it: the stand-in is started with the number of
//! shards the bot's guilds need ([`start_sharded`]; `GET /gateway/bot`
//! recommends it); an IDENTIFY's `shard: [id, count]` (absent: `[0, 1]`) is
//! refused with close 4010 "Invalid shard." when `id >= count`, and with 4011
//! "Sharding required." when `count` is below that number. Each shard has its
//! own session and socket; a guild's interactions go to the shard
//! `(guild_id >> 22) % count`, direct messages to shard 0.
//!
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
    /// `[shard_id, num_shards]` as sent (`[0, 1]` when absent).
    pub shard: [u64; 2],
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
    /// `true` while every shard has a session established on a live socket
    /// (after READY or RESUMED, until it is dropped, invalidated or closed).
    pub live: bool,
    /// How many shards have a session on a live socket.
    pub live_shards: usize,
}

/// What the test asks of the live connection.
enum Control {
    Frame(String),
    /// Drop the TCP stream without a closing handshake.
    Drop,
}

struct Session {
    /// `[shard_id, num_shards]` of the IDENTIFY that started it.
    shard: [u64; 2],
    seq: u64,
    /// Every numbered dispatch of the session, for replay on RESUME.
    dispatches: Vec<(u64, String)>,
}

struct State {
    token: String,
    application_id: u64,
    heartbeat_interval_ms: u64,
    url: Url,
    /// The fewest shards the bot's guilds fit in (`GET /gateway/bot`'s `shards`).
    shards: u64,
    sessions: HashMap<String, Session>,
    /// By shard id: the session on the live socket, and the way to that socket.
    current: HashMap<u64, (String, mpsc::UnboundedSender<Control>)>,
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
    start_configured(token, application_id, heartbeat_interval_ms, 1).await
}

/// As [`start`], for a bot in so many guilds that it needs `shards` shards:
/// an IDENTIFY with fewer is closed with 4011.
pub async fn start_sharded(
    token: &str,
    application_id: u64,
    shards: u64,
) -> std::io::Result<GatewayStandIn> {
    start_configured(token, application_id, DISCORD_HEARTBEAT_INTERVAL_MS, shards).await
}

async fn start_configured(
    token: &str,
    application_id: u64,
    heartbeat_interval_ms: u64,
    shards: u64,
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
            shards: shards.max(1),
            sessions: HashMap::new(),
            current: HashMap::new(),
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

    /// The number of shards `GET /gateway/bot` recommends.
    pub fn shards(&self) -> u64 {
        lock(&self.shared).shards
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
    /// object as Discord sends it) in the current session of the shard its
    /// guild belongs to: at once on a live socket, or on RESUME when the
    /// socket is down. Returns its sequence number; `None` when that shard
    /// has no session to dispatch in.
    pub fn dispatch_interaction(&self, interaction: &Value) -> Option<u64> {
        let guild = interaction["guild_id"]
            .as_str()
            .and_then(|g| g.parse::<u64>().ok());
        let mut state = lock(&self.shared);
        let live = state
            .current
            .values()
            .find(|(id, _)| {
                let shard = state.sessions.get(id).map(|s| s.shard);
                shard.is_some_and(|shard| shard_of(guild, shard[1]) == shard[0])
            })
            .map(|(id, sender)| (id.clone(), sender.clone()));
        let (session_id, live) = match live {
            Some((id, sender)) => (id, Some(sender)),
            None => (latest_session(&state, guild)?, None),
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

    /// Drops every live socket without a closing handshake, as a network
    /// failure does; the sessions stay resumable.
    pub fn drop_connection(&self) {
        for (_, sender) in self.take_current() {
            let _ = sender.send(Control::Drop);
        }
    }

    /// Sends op 7 RECONNECT on every live socket: the client should
    /// reconnect and resume.
    pub fn send_reconnect(&self) {
        for (_, sender) in self.take_current() {
            let _ = sender.send(Control::Frame(opcode(7, Value::Null)));
        }
    }

    /// Sends op 9 INVALID SESSION with `d: false` on every live socket and
    /// forgets their sessions: the client must identify again.
    pub fn invalidate_session(&self) {
        for (session_id, sender) in self.take_current() {
            lock(&self.shared).sessions.remove(&session_id);
            let _ = sender.send(Control::Frame(opcode(9, json!(false))));
        }
    }

    fn take_current(&self) -> Vec<(String, mpsc::UnboundedSender<Control>)> {
        let current: Vec<_> = lock(&self.shared).current.drain().map(|(_, c)| c).collect();
        self.shared.record.send_modify(|r| {
            r.live = false;
            r.live_shards = 0;
        });
        current
    }
}

impl Drop for GatewayStandIn {
    fn drop(&mut self) {
        self.task.abort();
        for (_, (_, sender)) in lock(&self.shared).current.drain() {
            let _ = sender.send(Control::Drop);
        }
    }
}

/// The shard of `count` that carries `guild`'s events, as Discord computes
/// it; direct messages (no guild) go to shard 0.
fn shard_of(guild: Option<u64>, count: u64) -> u64 {
    guild.map_or(0, |g| (g >> 22) % count.max(1))
}

/// Publishes how many shards are live (after `state.current` changed): all
/// are when every shard of the count the client identified with (at least
/// the count required) has a live session.
fn publish_live(shared: &Shared, state: &State) {
    let counts = state
        .current
        .values()
        .filter_map(|(id, _)| state.sessions.get(id));
    let shards = counts.map(|s| s.shard[1]).fold(state.shards, u64::max);
    let live_shards = state.current.len();
    shared.record.send_modify(|r| {
        r.live_shards = live_shards;
        r.live = live_shards as u64 >= shards;
    });
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The most recently started session still known of the shard that carries
/// `guild` (for dispatches while its socket is down).
fn latest_session(state: &State, guild: Option<u64>) -> Option<String> {
    let number = |id: &String| id.rsplit('-').next().and_then(|n| n.parse::<u64>().ok());
    state
        .sessions
        .iter()
        .filter(|(_, s)| shard_of(guild, s.shard[1]) == s.shard[0])
        .map(|(id, _)| id)
        .max_by_key(|id| number(id))
        .cloned()
}

/// A non-dispatch payload: `s` and `t` are null, as Discord sends them.
fn opcode(op: u8, d: Value) -> String {
    json!({ "op": op, "d": d, "s": null, "t": null }).to_string()
}
