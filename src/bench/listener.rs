//! The real listener for the latency scenarios, trusting the key of a
//! [`SimulatedDiscord`], so every request the load generator sends is a signed
//! Discord interaction that `POST /interactions` verifies, checks against
//! replays and routes exactly as in production: either `hallpass serve` in a
//! child process ([`Listener::spawn`], see [`super::server`]) or
//! `crate::web::listen` in this process ([`Listener::start`], for scenarios
//! that need the benchmark's raised rate limits). Each load client is its own
//! reqwest client holding one keep-alive connection, so a client's requests
//! all travel one socket.

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

use super::server::Served;

/// The simulated application the listener trusts.
const APPLICATION_ID: u64 = 9_000_000_100;

pub struct Listener {
    pub endpoint: Url,
    pub discord: Arc<SimulatedDiscord>,
    serving: Serving,
}

enum Serving {
    InProcess(Listening),
    Child(Box<Served>),
}

/// One simulated Discord for the whole run: its interaction ids are unique
/// only within one instance, and the listeners of one run share a database
/// that refuses an id seen before (a replay).
fn discord() -> Arc<SimulatedDiscord> {
    static DISCORD: OnceLock<Arc<SimulatedDiscord>> = OnceLock::new();
    DISCORD
        .get_or_init(|| Arc::new(SimulatedDiscord::new([42; 32], APPLICATION_ID)))
        .clone()
}

impl Listener {
    /// Starts `hallpass serve` on `database_url` until [`Listener::stop`].
    pub async fn spawn(database_url: &str) -> Result<Self> {
        let discord = discord();
        let served = Served::start(database_url, &discord, APPLICATION_ID).await?;
        Ok(Self {
            endpoint: served.base.join("interactions")?,
            discord,
            serving: Serving::Child(Box::new(served)),
        })
    }

    /// The serving child's peak resident memory; `None` when serving in process.
    pub fn server_peak_rss_mib(&self) -> Option<Result<f64>> {
        match &self.serving {
            Serving::Child(served) => Some(served.peak_rss_mib()),
            Serving::InProcess(_) => None,
        }
    }

    /// Serves `app` on a fresh loopback port until [`Listener::stop`].
    pub async fn start(app: &App) -> Result<Self> {
        let discord = discord();
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
            serving: Serving::InProcess(listening),
        })
    }

    pub async fn stop(self) {
        match self.serving {
            Serving::InProcess(listening) => {
                let _ = listening.shutdown().await;
            }
            Serving::Child(served) => served.stop().await,
        }
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
