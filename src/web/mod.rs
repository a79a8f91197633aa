//! The HTTP listener (axum): Discord's interactions endpoint, the Zendesk
//! webhook, the email reset page, the sign-in page, the platform API (`/api/v1/*`, see `api`),
//! health and metrics. No request logging: a reset path carries its token.
//!
//! Start a listener with [`listen`]: it serves [`router`] with each request's
//! peer address, which the per-address sign-in limit reads.

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
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
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

/// A listener bound and serving: where it listens, and the way to stop it.
/// Dropping it leaves it serving until the runtime ends (as the tests and
/// the demo want); [`Listening::shutdown`] stops it gracefully.
pub struct Listening {
    addr: SocketAddr,
    stop: CancellationToken,
    served: JoinHandle<std::io::Result<()>>,
}

/// Binds `addr` (port 0 takes a free one) and serves [`router`] there: the
/// one way `serve`, the demo, the bench and the tests start a listener.
pub async fn listen(addr: impl ToSocketAddrs, state: WebState) -> std::io::Result<Listening> {
    Ok(bind(addr).await?.serve(state))
}

/// A port bound and not yet serving, for a caller whose state needs the
/// address first (the public URL in reset links).
pub struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
}

/// Binds `addr` (port 0 takes a free one); [`Bound::serve`] starts serving.
pub async fn bind(addr: impl ToSocketAddrs) -> std::io::Result<Bound> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    Ok(Bound { listener, addr })
}

impl Bound {
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr><path>`; `path` is empty or starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves [`router`] with each request's peer address, which the
    /// per-address sign-in limit reads.
    pub fn serve(self, state: WebState) -> Listening {
        self.serve_routes(router(state))
    }

    /// Serves [`metrics_router`] alone (HALLPASS_METRICS_LISTEN).
    pub fn serve_metrics(self, state: WebState) -> Listening {
        self.serve_routes(metrics_router(state))
    }

    fn serve_routes(self, routes: Router) -> Listening {
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let served = tokio::spawn(async move {
            axum::serve(
                self.listener,
                routes.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await
        });
        Listening {
            addr: self.addr,
            stop,
            served,
        }
    }
}

impl Listening {
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr><path>`; `path` is empty or starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops accepting connections, lets the requests in flight finish, and
    /// says how serving ended.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.stop.cancel();
        joined(self.served.await)
    }

    /// Serves until `signal` resolves, then shuts down as [`Self::shutdown`]
    /// does. A listener that fails before the signal ends this with its error.
    pub async fn shutdown_on(mut self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        tokio::select! {
            served = &mut self.served => return joined(served),
            () = signal => {}
        }
        self.shutdown().await
    }
}

fn joined(served: Result<std::io::Result<()>, tokio::task::JoinError>) -> std::io::Result<()> {
    served.unwrap_or_else(|e| Err(std::io::Error::other(e)))
}
