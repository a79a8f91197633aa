//! The HTTP listener (axum): Discord's interactions endpoint, health and
//! metrics (and, as they land, the Zendesk webhook, the platform API and the
//! reset page).

mod health;
mod interactions;
mod metrics;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use metrics::Metrics;

use crate::app::App;
use crate::discord::{DiscordRest, InteractionVerifier};

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// `None` when DISCORD_PUBLIC_KEY is unset: `/interactions` answers 503.
    pub verifier: Option<Arc<InteractionVerifier>>,
    /// Discord's REST API, for DMs, edits and follow-ups.
    pub discord: Option<Arc<DiscordRest>>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/interactions", post(interactions::interactions))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}
