//! The gateway way in (`serve` with `DISCORD_TOKEN`): serenity's client
//! receives interactions over the websocket; they are understood and answered
//! by the same code as the HTTP endpoint, with the answer sent over REST.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serenity::Client;
use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Ready};
use serenity::async_trait;

use super::answer::{deliver_rest, finish_deferred};
use super::interaction::{Incoming, understand};
use super::response::{deferred_ephemeral, render};
use super::rest::DiscordRest;
use crate::app::App;
use crate::commands::handle;

struct Handler {
    app: App,
    rest: Arc<DiscordRest>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, guilds = ready.guilds.len(), "connected to the Discord gateway");
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        answer_interaction(&self.app, &self.rest, &interaction).await;
    }
}

/// Answers one interaction received over the gateway: slow requests are
/// acknowledged first and edited later, quick ones answered at once, both
/// through the interaction callback over REST.
pub async fn answer_interaction(app: &App, rest: &DiscordRest, interaction: &Interaction) {
    let Incoming::Request(envelope) = understand(interaction) else {
        return;
    };
    let (id, token) = (envelope.interaction_id, envelope.token.clone());
    if envelope.request.is_slow() {
        if let Err(e) = rest
            .create_response(id, &token, &deferred_ephemeral())
            .await
        {
            tracing::error!(error = %e, "could not acknowledge an interaction");
            return;
        }
        finish_deferred(app, rest, *envelope).await;
        return;
    }
    let reply = handle(app, &envelope.invocation, envelope.request).await;
    if let Err(e) = rest.create_response(id, &token, &render(&reply.body)).await {
        tracing::error!(error = %e, "could not answer an interaction");
    }
    deliver_rest(app, rest, &token, reply).await;
}

/// Connects to the gateway and answers interactions until the connection ends.
pub async fn run(
    token: &SecretString,
    app: App,
    rest: Arc<DiscordRest>,
) -> Result<(), serenity::Error> {
    // Slash commands need no privileged intents.
    let mut client = Client::builder(token.expose_secret(), GatewayIntents::GUILDS)
        .event_handler(Handler { app, rest })
        .await?;
    client.start().await
}
