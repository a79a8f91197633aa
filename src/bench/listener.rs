//! The real listener for the latency scenarios: `crate::web::listen` on a
//! loopback port, with the interaction verifier of a [`SimulatedDiscord`], so
//! every request the load generator sends is a signed Discord interaction that
//! `POST /interactions` verifies, checks against replays and routes exactly as
//! in production. Each load client is its own reqwest client holding one
//! keep-alive connection, so a client's requests all travel one socket.

use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use serde_json::Value;
use url::Url;

use crate::app::App;
use crate::commands::Invocation;
use crate::discord::InteractionVerifier;
use crate::standins::simulate::{Member, SimulatedDiscord};
use crate::web::{Listening, WebState};

/// The simulated application the listener trusts.
const APPLICATION_ID: u64 = 9_000_000_100;

pub struct Listener {
    pub endpoint: Url,
    pub discord: Arc<SimulatedDiscord>,
    listening: Listening,
}

impl Listener {
    /// Serves `app` on a fresh loopback port until [`Listener::stop`].
    pub async fn start(app: &App) -> Result<Self> {
        // One simulated Discord for the whole run: its interaction ids are
        // unique only within one instance, and the listeners of one run share
        // a database that refuses an id seen before (a replay).
        static DISCORD: OnceLock<Arc<SimulatedDiscord>> = OnceLock::new();
        let discord = DISCORD
            .get_or_init(|| Arc::new(SimulatedDiscord::new([42; 32], APPLICATION_ID)))
            .clone();
        let verifier = InteractionVerifier::from_hex(&discord.public_key_hex())
            .map_err(|e| anyhow!("the simulated Discord key was refused: {e}"))?;
        let state = WebState {
            verifier: Some(Arc::new(verifier)),
            ..WebState::new(app.clone())
        };
        let listening = crate::web::listen("127.0.0.1:0", state)
            .await
            .context("Failed to listen on loopback")?;
        let endpoint = Url::parse(&listening.url("/interactions"))?;
        Ok(Self {
            endpoint,
            discord,
            listening,
        })
    }

    pub async fn stop(self) {
        let _ = self.listening.shutdown().await;
    }

    /// One load client: one keep-alive connection.
    pub fn client() -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .context("Failed to build an HTTP client")
    }

    /// Signs `payload` now and posts it; the status and the JSON answer.
    pub async fn send(&self, client: &reqwest::Client, payload: &Value) -> Result<(u16, Value)> {
        self.discord
            .send(client, &self.endpoint, payload, Utc::now())
            .await
            .context("An interaction could not be sent to the listener")
    }
}

/// The chat account of `inv` as Discord names it in an interaction.
pub fn member(inv: &Invocation) -> Member<'static> {
    Member {
        guild: inv.guild.map(|g| g.get()).unwrap_or_default(),
        user: inv.user.map(|u| u.get()).unwrap_or_default(),
        username: "bench-educator",
    }
}
