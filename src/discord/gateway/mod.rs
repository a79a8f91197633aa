//! The gateway way in (`serve` with `DISCORD_TOKEN`): serenity's client
//! receives interactions over the websocket; they are understood and answered
//! by the same code as the HTTP endpoint, with the answer sent over REST.
//!
//! The client is built on a serenity [`Http`] sent to `DISCORD_API_URL` (as
//! the REST client is), so `GET /gateway/bot` asks the configured base and
//! the websocket goes where that answer says (serenity appends `?v=10`; it
//! resumes on the same URL, not on READY's `resume_gateway_url`). It connects
//! as many shards as that answer recommends (Discord requires one per 2,500
//! guilds, and closes an IDENTIFY with 4011 below that), each a session of
//! its own carrying its share of the guilds; the count is read at start, and
//! Discord's recommendation leaves room to grow (about one shard per 1,000
//! guilds). Its state (connecting, connected once every shard is, failed
//! with a reason) is logged and published in a [`GatewayHealth`] that
//! `/healthz` reads. Reconnects are serenity's: a resume at once, a new
//! IDENTIFY at most every 5 seconds (its shard queuer); a refused token
//! (close 4004) or refused intents stop the client for good.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serenity::all::{
    ConnectionStage, Context, EventHandler, GatewayIntents, Interaction, Ready, ResumedEvent,
    ShardStageUpdateEvent,
};
use serenity::async_trait;
use serenity::client::ClientBuilder;
use serenity::gateway::GatewayError;
use serenity::http::{Http, HttpBuilder};
use tokio::sync::watch;
use url::Url;

use super::answer::{FirstResponse, Hooks, answer};
use super::interaction::{Envelope, Incoming, understand};
use super::response::render_answer;
use super::rest::{ALREADY_ACKNOWLEDGED, DiscordRest, RestError};
use super::verify::REPLAY_MEMORY;
use crate::app::App;
use crate::commands::Request;

mod shards;
use shards::Shards;

/// The longest wait between two attempts to ask `GET /gateway/bot`.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Where the gateway connection stands, as `/healthz` reports it (and
/// `/metrics`, by [`GatewayState::label`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayState {
    /// Starting, or between a lost connection and its resume.
    Connecting,
    /// Every shard has a session established (after READY or RESUMED).
    Connected,
    /// Not connected, and why (no secret in it); retrying when `retrying`.
    Failed { reason: String, retrying: bool },
}

/// The gateway's state, shared between the client (which sets it) and the
/// listener (`/healthz`, which reads it).
#[derive(Clone, Debug)]
pub struct GatewayHealth {
    state: Arc<watch::Sender<GatewayState>>,
}

impl Default for GatewayHealth {
    fn default() -> Self {
        Self {
            state: Arc::new(watch::Sender::new(GatewayState::Connecting)),
        }
    }
}

impl GatewayState {
    /// Every [`GatewayState::label`].
    pub const LABELS: [&'static str; 3] = ["connected", "connecting", "failed"];

    /// The state without its reason: one of [`GatewayState::LABELS`].
    pub fn label(&self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Failed { .. } => "failed",
        }
    }
}

impl GatewayHealth {
    pub fn state(&self) -> GatewayState {
        self.state.borrow().clone()
    }

    fn set(&self, state: GatewayState) {
        self.state.send_replace(state);
    }
}

/// What the gateway client answers with: REST for the answers, the hooks
/// that count them (`serve`'s `/metrics`), and the tracker of the work in
/// flight that `serve` waits for when it stops (the HTTP endpoint's too), so
/// a password on its way is delivered rather than cut off with the process.
pub struct Answering {
    pub rest: Arc<DiscordRest>,
    pub hooks: Arc<dyn Hooks>,
    pub in_flight: tokio_util::task::TaskTracker,
}

struct Handler {
    app: App,
    answering: Answering,
    health: GatewayHealth,
    shards: Shards,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let shard = ctx.shard_id.0;
        let again = self.shards.up(shard);
        self.health.set(self.shards.state());
        self.answering.hooks.gateway_session("identified");
        let shard = self.shards.name(shard);
        if again {
            tracing::info!(
                bot = %ready.user.name, %shard,
                "re-identified with the Discord gateway: a new session (interactions sent while disconnected are lost)"
            );
        } else {
            tracing::info!(bot = %ready.user.name, %shard, guilds = ready.guilds.len(), "connected to the Discord gateway");
        }
    }

    async fn resume(&self, ctx: Context, _resumed: ResumedEvent) {
        self.shards.up(ctx.shard_id.0);
        self.health.set(self.shards.state());
        self.answering.hooks.gateway_session("resumed");
        let shard = self.shards.name(ctx.shard_id.0);
        tracing::info!(%shard, "resumed the Discord gateway session");
    }

    async fn shard_stage_update(&self, _ctx: Context, update: ShardStageUpdateEvent) {
        if update.old == ConnectionStage::Connected && update.new != ConnectionStage::Connected {
            self.shards.down(update.shard_id.0);
            self.health.set(self.shards.state());
            let shard = self.shards.name(update.shard_id.0);
            tracing::warn!(stage = ?update.new, %shard, "lost the Discord gateway connection: reconnecting");
        }
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let Answering {
            rest,
            hooks,
            in_flight,
        } = &self.answering;
        in_flight
            .track_future(answer_interaction(&self.app, rest, &interaction, &**hooks))
            .await;
    }
}

/// Answers one interaction received over the gateway, by the same routine
/// as the HTTP endpoint ([`answer`]), the first response going out as the
/// interaction callback over REST, counted by `hooks` as the endpoint counts
/// its own (`serve` passes its `/metrics`).
pub async fn answer_interaction(
    app: &App,
    rest: &DiscordRest,
    interaction: &Interaction,
    hooks: &dyn Hooks,
) {
    let Incoming::Request(envelope) = understand(interaction) else {
        return;
    };
    let callback = Callback {
        rest,
        id: envelope.interaction_id,
        token: envelope.token.clone(),
    };
    if !first_here(app, &envelope, &callback).await {
        return;
    }
    answer(app, Some(rest), *envelope, &callback, hooks).await;
}

/// Whether this instance is the one to answer `envelope`. Every instance
/// connected with the bot's token receives every interaction (two `serve`s
/// with DISCORD_TOKEN, as while a rolling deploy overlaps), so a command
/// would run once per instance: two resets, two DMs, one of them with a
/// password that no longer works. The interaction's id is claimed in the
/// shared replay table, as `/interactions` records it, and the instances
/// that find it taken leave it. An autocomplete is answered by all: it is
/// read-only, and Discord takes the first answer.
async fn first_here(app: &App, envelope: &Envelope, callback: &Callback<'_>) -> bool {
    if matches!(envelope.request, Request::Autocomplete { .. }) {
        return true;
    }
    let id = envelope.interaction_id;
    match app.store.first_sighting(id, app.now(), REPLAY_MEMORY).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(
                interaction = id,
                "left to the instance that received this interaction first"
            );
            false
        }
        Err(e) => {
            // As the endpoint does: told privately, nothing run.
            tracing::error!(error = %e, "could not claim an interaction from the gateway");
            let reply = crate::commands::trouble(e);
            let _ = callback
                .send(render_answer(&envelope.request, &reply.body))
                .await;
            false
        }
    }
}

/// The gateway's first response: `POST /interactions/{id}/{token}/callback`.
struct Callback<'a> {
    rest: &'a DiscordRest,
    id: u64,
    token: String,
}

#[async_trait]
impl FirstResponse for Callback<'_> {
    async fn send(&self, response: serde_json::Value) -> Result<(), ()> {
        match self
            .rest
            .create_response(self.id, &self.token, &response)
            .await
        {
            Ok(()) => Ok(()),
            // Every instance on the gateway answers an autocomplete (see
            // `first_here`); Discord keeps the first and refuses the rest.
            Err(RestError::Discord {
                code: Some(ALREADY_ACKNOWLEDGED),
                ..
            }) => {
                tracing::debug!(
                    interaction = self.id,
                    "another instance answered this interaction first"
                );
                Err(())
            }
            Err(e) => {
                tracing::error!(error = %e, "could not answer an interaction");
                Err(())
            }
        }
    }
}

/// Connects to the gateway and answers interactions until the client stops
/// for good (a refused token or intents), publishing its state in `health`
/// and answering as `answering` says; or until `stop` turns true (`serve`
/// stopping), when it leaves the gateway at once, so that the interactions
/// sent from then on go to the instances that stay, and returns `Ok`.
pub async fn run(
    api_base: &Url,
    token: &SecretString,
    app: App,
    answering: Answering,
    (health, stop): (GatewayHealth, watch::Receiver<bool>),
) -> Result<(), serenity::Error> {
    let http = proxied_http(api_base, token);
    let Some((ws_url, shards)) = bot_gateway(&http, &health, stop.clone()).await else {
        return Ok(());
    };
    health.set(GatewayState::Connecting);
    if shards > 1 {
        tracing::info!(shards, "connecting the shards Discord recommends");
    }
    // Slash commands need no privileged intents.
    let handler = Handler {
        app,
        answering,
        health: health.clone(),
        shards: Shards::new(shards),
    };
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(handler)
        .await?;
    *client.ws_url.lock().await = ws_url;
    let manager = client.shard_manager.clone();
    let mut stopping = stop.clone();
    let leave = tokio::spawn(async move {
        if stopping.wait_for(|stop| *stop).await.is_ok() {
            tracing::info!("leaving the Discord gateway: this instance is stopping");
            manager.shutdown_all().await;
        }
    });
    let stopped = client.start_shards(shards).await;
    leave.abort();
    client.shard_manager.shutdown_all().await;
    if *stop.borrow() {
        return Ok(());
    }
    let error = match stopped {
        Ok(()) => serenity::Error::Gateway(GatewayError::Closed(None)),
        Err(e) => e,
    };
    let reason = match &error {
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "Discord refused DISCORD_TOKEN (gateway close 4004, Authentication failed): reset the token under Bot in the Developer Portal and set it again".to_owned()
        }
        serenity::Error::Gateway(
            GatewayError::InvalidGatewayIntents | GatewayError::DisallowedGatewayIntents,
        ) => format!("Discord refused the gateway intents: {error}"),
        other => format!("the gateway client stopped: {other}"),
    };
    tracing::error!(error = %reason, "the Discord gateway client has stopped and will not reconnect");
    health.set(GatewayState::Failed {
        reason,
        retrying: false,
    });
    Err(error)
}

/// The websocket's URL and the recommended number of shards, from `GET
/// /gateway/bot` under `DISCORD_API_URL`, asked until it answers (up to
/// [`MAX_BACKOFF`] apart); `None` once `stop` turns true. Asked here because
/// serenity falls back to wss://gateway.discord.gg when its own `GET
/// /gateway` fails, whatever DISCORD_API_URL says.
async fn bot_gateway(
    http: &Http,
    health: &GatewayHealth,
    mut stop: watch::Receiver<bool>,
) -> Option<(String, u32)> {
    let mut wait = Duration::from_secs(1);
    loop {
        match http.get_bot_gateway().await {
            Ok(gateway) => return Some((gateway.url, gateway.shards.max(1))),
            Err(e) => {
                let reason = format!("GET /gateway/bot failed: {e}");
                tracing::warn!(error = %reason, retry_in_s = wait.as_secs(), "cannot reach the Discord gateway yet");
                health.set(GatewayState::Failed {
                    reason,
                    retrying: true,
                });
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    Ok(_) = stop.wait_for(|stop| *stop) => return None,
                }
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The serenity client's `Http`: the bot token, sent to `api_base` with the
/// rate limiter off, exactly as [`DiscordRest::new`] builds its own (serenity
/// only honours a proxy base with the rate limiter disabled).
fn proxied_http(api_base: &Url, token: &SecretString) -> Http {
    HttpBuilder::new(token.expose_secret())
        .proxy(api_base.as_str())
        .ratelimiter_disabled(true)
        .build()
}
