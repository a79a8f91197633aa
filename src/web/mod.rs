//! The HTTP listener (axum): Discord's interactions endpoint, the Zendesk
//! webhook, the email reset page, the sign-in page, the platform API (`/api/v1/*`, see `api`),
//! health and metrics. No request logging: a reset path carries its token.
//!
//! Serve [`router`] with `into_make_service_with_connect_info::<SocketAddr>()`
//! (as [`serve`] does): the per-address sign-in limit reads the peer address.

mod api;
mod health;
mod html;
mod interactions;
mod limits;
mod metrics;
mod reset;
mod signin_page;
mod zendesk;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

pub use limits::ListenerLimits;
pub use metrics::Metrics;
pub use zendesk::FOLLOW_UP_GRACE;

use crate::app::App;
use crate::discord::gateway::GatewayHealth;
use crate::discord::{DiscordRest, InteractionVerifier};
use crate::support::ZendeskClient;

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// `None` when DISCORD_PUBLIC_KEY is unset: `/interactions` answers 503.
    pub verifier: Option<Arc<InteractionVerifier>>,
    /// Discord's REST API, for DMs, edits and follow-ups.
    pub discord: Option<Arc<DiscordRest>>,
    pub metrics: Arc<Metrics>,
    /// `None` when ZENDESK_WEBHOOK_SECRET is unset: `/webhooks/zendesk` answers 503.
    pub zendesk_webhook_secret: Option<Arc<SecretString>>,
    /// Zendesk's API, for the note on a ticket whose approval could not apply.
    pub zendesk: Option<Arc<ZendeskClient>>,
    /// HALLPASS_METRICS_TOKEN: the bearer token `GET /metrics` requires; `None`: open.
    pub metrics_token: Option<Arc<SecretString>>,
    /// The deadline, concurrency and body bounds around every route.
    pub limits: ListenerLimits,
    /// `false` when HALLPASS_METRICS_LISTEN moves `/metrics` to a listener of
    /// its own ([`metrics_router`]).
    pub metrics_here: bool,
    /// HALLPASS_API_TOKEN: when set, every `/api/v1` request must carry it as
    /// a bearer token; `None` leaves the API open.
    pub api_token: Option<Arc<SecretString>>,
    /// The gateway client's state when DISCORD_TOKEN is set: `/healthz`
    /// reports it (503 once it has failed).
    pub gateway: Option<GatewayHealth>,
    /// The deliveries still in flight (deferred answers, DMs, follow-ups):
    /// graceful shutdown waits for them, within a bound.
    pub tasks: TaskTracker,
    /// How long a Zendesk webhook's answer waits for the DMs and the ticket
    /// note that follow a decision ([`FOLLOW_UP_GRACE`]; tests wait longer, so
    /// that the answer means the follow-up is done).
    pub follow_up_grace: std::time::Duration,
}

impl WebState {
    /// A listener with nothing outside configured: `/interactions` and
    /// `/webhooks/zendesk` answer 503 until their keys are set, and deferred
    /// answers need `discord`.
    pub fn new(app: App) -> Self {
        Self {
            app,
            verifier: None,
            discord: None,
            metrics: Arc::new(Metrics::default()),
            zendesk_webhook_secret: None,
            zendesk: None,
            metrics_token: None,
            limits: ListenerLimits::default(),
            metrics_here: true,
            api_token: None,
            gateway: None,
            tasks: TaskTracker::new(),
            follow_up_grace: FOLLOW_UP_GRACE,
        }
    }
}

pub fn router(state: WebState) -> Router {
    let platform_api = Router::new()
        .route("/login", post(api::login))
        .route("/password", post(api::password))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::require_token,
        ));
    let limits = state.limits;
    let mut routes = Router::new()
        .nest("/api/v1", platform_api)
        .route("/interactions", post(interactions::interactions))
        .route("/webhooks/zendesk", post(zendesk::zendesk_webhook))
        .route("/reset/{token}", get(reset::show).post(reset::submit))
        .route("/signin", get(signin_page::show).post(signin_page::submit))
        .route("/healthz", get(health::healthz));
    if state.metrics_here {
        routes = routes.route("/metrics", get(health::metrics));
    }
    limits.apply(routes.with_state(state))
}

/// `GET /metrics` alone, for HALLPASS_METRICS_LISTEN.
pub fn metrics_router(state: WebState) -> Router {
    let limits = state.limits;
    limits.apply(
        Router::new()
            .route("/metrics", get(health::metrics))
            .with_state(state),
    )
}

/// Serves [`router`] on `listener` with each request's peer address (which the
/// per-address sign-in limit needs) until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: WebState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
