//! `hallpass serve`: the listener, the gateway client when a token is set,
//! the outbox worker, the hand-off sweep, and a shutdown that waits for the
//! deliveries in flight. Promise: a process stopped mid-delivery leaves no
//! password nobody received (the next start, or another instance's sweep,
//! rolls its hand-offs back).

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::run::{app, open, secret_key};
use crate::app::App;
use crate::config::Config;
use crate::discord::{DiscordRest, InteractionVerifier, gateway};
use crate::support::{
    LogNotifier, Notifier, OutboxSettings, OutboxWorker, ZendeskClient, ZendeskConfig,
};
use crate::web::WebState;

/// How long one call to Zendesk may take.
const ZENDESK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long shutdown waits for deliveries and the outbox worker's pass. Under
/// the 10 s an orchestrator gives between SIGTERM and SIGKILL.
const SHUTDOWN_BOUND: std::time::Duration = std::time::Duration::from_secs(8);

/// A hand-off still open this long after it started will not finish: its
/// interaction token (15 minutes) is dead, and delivery retries stop sooner.
const HANDOFF_LIFE: chrono::Duration = chrono::Duration::minutes(15);

pub(super) async fn serve(config: &Config) -> Result<()> {
    let key = secret_key(config)?;
    // Over HTTP, slow commands are deferred and finished with the application
    // id; without it the educator would watch "thinking…" forever.
    if config.discord_public_key.is_some() && config.discord_application_id.is_none() {
        bail!(
            "DISCORD_PUBLIC_KEY is set but DISCORD_APPLICATION_ID is not: /interactions could acknowledge a slow command but never deliver its answer. Set DISCORD_APPLICATION_ID (Developer Portal → General Information), or unset DISCORD_PUBLIC_KEY"
        )
    }
    let mut app = app(config, key, open(config).await?)?;
    roll_back_stale_handoffs(&app, config).await?;
    // Autocomplete answers from memory once the directory is read in (a
    // search meanwhile, or after a failure here, is answered in SQL).
    if let Err(e) = app.store.preload_directories().await {
        tracing::warn!(error = %e, "could not read the directory in for autocomplete; searching the database instead");
    }
    let discord = match (&config.discord_token, config.discord_application_id) {
        (None, None) => None,
        (token, id) => Some(Arc::new(
            DiscordRest::new(&config.discord_api_url, token.as_ref(), id)
                .context("Failed to set up the Discord REST client")?,
        )),
    };
    if let (Some(_), Some(rest)) = (&config.discord_token, &discord) {
        app.alerts = Some(rest.clone());
    }
    let zendesk = ZendeskConfig::from_app_config(config, ZENDESK_TIMEOUT)
        .context("The Zendesk settings are incomplete")?
        .map(ZendeskClient::new)
        .transpose()
        .context("Failed to set up the Zendesk client")?
        .map(Arc::new);
    let state = web_state(config, &app, discord.clone(), zendesk.clone())?;
    if let Some(address) = config.metrics_listen {
        serve_metrics(address, state.clone()).await?;
    }
    app.hasher
        .prepare_dummy()
        .await
        .context("Failed to prepare password hashing for sign-ins")?;
    let listening = crate::web::listen(config.listen, state.clone())
        .await
        .with_context(|| format!("Failed to listen on {}", config.listen))?;
    // The bound address (HALLPASS_LISTEN may ask for port 0).
    let address = listening.addr();
    tracing::info!(%address, "listening");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // The outbox worker and the hand-off sweep: shutdown waits for them to end
    // their pass (so the worker's claim is settled or released).
    let background = tokio_util::task::TaskTracker::new();
    if let Some(client) = zendesk {
        let notifier: Arc<dyn Notifier> = match (&config.discord_token, &discord) {
            (Some(_), Some(rest)) => rest.clone(),
            _ => Arc::new(LogNotifier),
        };
        let worker = OutboxWorker::new(app.clone(), client, notifier, OutboxSettings::default());
        background.spawn(worker.run(stopped.clone()));
    } else {
        tracing::info!("ZENDESK_URL is not set: promotion requests queue until it is");
    }
    start_gateway(config, &app, discord, (&state, stopped.clone()));
    background.spawn(sweep_handoffs(app.clone(), stopped));
    let served = listening
        .shutdown_on(async move {
            stop_signal().await;
            tracing::info!("stopping: finishing the interactions in flight");
            let _ = stop.send(true);
        })
        .await
        .context("The HTTP listener failed");
    drain(&state, background).await;
    served
}

/// What the listener serves with, and a word in the log for each part left
/// unconfigured.
fn web_state(
    config: &Config,
    app: &App,
    discord: Option<Arc<DiscordRest>>,
    zendesk: Option<Arc<ZendeskClient>>,
) -> Result<WebState> {
    let verifier = match &config.discord_public_key {
        Some(key) => Some(Arc::new(
            InteractionVerifier::from_hex(key).context("DISCORD_PUBLIC_KEY is invalid")?,
        )),
        None => {
            tracing::warn!("DISCORD_PUBLIC_KEY is not set: /interactions answers 503");
            None
        }
    };
    let state = WebState {
        verifier,
        discord,
        zendesk,
        zendesk_webhook_secret: config.zendesk_webhook_secret.clone().map(Arc::new),
        metrics_token: config.metrics_token.clone().map(Arc::new),
        metrics_here: config.metrics_listen.is_none(),
        api_token: config.api_token.clone().map(Arc::new),
        gateway: config
            .discord_token
            .as_ref()
            .map(|_| gateway::GatewayHealth::default()),
        ..WebState::new(app.clone())
    };
    if state.metrics_token.is_none() {
        tracing::info!("HALLPASS_METRICS_TOKEN is not set: /metrics is open");
    }
    if state.api_token.is_none() {
        tracing::warn!(
            "HALLPASS_API_TOKEN is not set: /api/v1 is open to anyone who reaches the listener; set it in production"
        );
    }
    if state.zendesk_webhook_secret.is_none() {
        tracing::warn!("ZENDESK_WEBHOOK_SECRET is not set: /webhooks/zendesk answers 503");
    }
    Ok(state)
}

/// The gateway client, in the background, when a bot token is set.
/// It leaves the gateway when `stop` turns true.
fn start_gateway(
    config: &Config,
    app: &App,
    discord: Option<Arc<DiscordRest>>,
    (state, stop): (&WebState, tokio::sync::watch::Receiver<bool>),
) {
    match (&config.discord_token, discord) {
        (Some(token), Some(rest)) => {
            let (token, app) = (token.clone(), app.clone());
            let api_base = config.discord_api_url.clone();
            let health = state.gateway.clone().unwrap_or_default();
            let answering = gateway::Answering {
                rest,
                hooks: state.metrics.clone(),
                in_flight: state.tasks.clone(),
            };
            tokio::spawn(async move {
                // `run` has logged why it stopped, and /healthz reports it.
                let _ = gateway::run(&api_base, &token, app, answering, (health, stop)).await;
            });
        }
        _ => tracing::warn!(
            "DISCORD_TOKEN is not set: the gateway client does not start, and no DM can be sent (temporary passwords and link codes arrive in a reply only the invoker sees)"
        ),
    }
}

/// After the listener stopped: waits (a bounded time) for the deliveries in
/// flight and the background tasks' pass.
async fn drain(state: &WebState, background: tokio_util::task::TaskTracker) {
    let tasks = state.tasks.clone();
    tasks.close();
    background.close();
    let drained = tokio::time::timeout(SHUTDOWN_BOUND, async {
        tasks.wait().await;
        background.wait().await;
    })
    .await;
    match drained {
        Ok(()) => tracing::info!("stopped: every delivery in flight finished"),
        Err(_) => tracing::warn!(
            in_flight = tasks.len(),
            "stopped with deliveries still in flight; the next start rolls their hand-offs back"
        ),
    }
}

/// SIGTERM (what an orchestrator sends) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still stops"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// On start-up, rolls back the hand-offs that never finished (a process
/// stopped while delivering). On SQLite this process is the only one, so all
/// of them; on PostgreSQL other instances may be delivering theirs, so only
/// those older than [`HANDOFF_LIFE`] (the sweep catches the rest later).
async fn roll_back_stale_handoffs(app: &App, config: &Config) -> Result<()> {
    let now = app.now();
    let before = if config.database_url.starts_with("sqlite:") {
        now + chrono::Duration::seconds(1)
    } else {
        now - HANDOFF_LIFE
    };
    let rolled = app
        .store
        .roll_back_unfinished_handoffs(before, now)
        .await
        .context("Failed to roll back unfinished password hand-offs")?;
    if rolled > 0 {
        tracing::warn!(
            rolled,
            "rolled back password resets that were never delivered"
        );
    }
    // The same for the outbox: on SQLite no one else can be delivering.
    if config.database_url.starts_with("sqlite:") {
        let due = app
            .store
            .reclaim_abandoned_claims(now)
            .await
            .context("Failed to take back the outbox entries of a stopped process")?;
        if due > 0 {
            tracing::warn!(
                due,
                "outbox entries claimed by a process that stopped are due again (each is looked up in Zendesk before it is created)"
            );
        }
    }
    Ok(())
}

/// Every minute, rolls back hand-offs older than [`HANDOFF_LIFE`] that never
/// finished (another instance stopped while delivering them).
async fn sweep_handoffs(app: App, mut stopped: tokio::sync::watch::Receiver<bool>) {
    while !*stopped.borrow() {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            changed = stopped.changed() => if changed.is_err() { break } else { continue },
        }
        let now = app.now();
        match app
            .store
            .roll_back_unfinished_handoffs(now - HANDOFF_LIFE, now)
            .await
        {
            Ok(0) => {}
            Ok(rolled) => tracing::warn!(
                rolled,
                "rolled back password resets that were never delivered"
            ),
            Err(e) => tracing::warn!(error = %e, "could not sweep unfinished hand-offs"),
        }
    }
}

/// `GET /metrics` on a listener of its own (HALLPASS_METRICS_LISTEN).
async fn serve_metrics(address: std::net::SocketAddr, state: WebState) -> Result<()> {
    let listening = crate::web::bind(address)
        .await
        .with_context(|| format!("Failed to listen on {address} for /metrics"))?
        .serve_metrics(state);
    // The bound address (HALLPASS_METRICS_LISTEN may ask for port 0).
    tracing::info!(address = %listening.addr(), "serving /metrics");
    tokio::spawn(async move {
        if let Err(e) = listening.shutdown_on(std::future::pending()).await {
            tracing::error!(error = %e, "the /metrics listener stopped");
        }
    });
    Ok(())
}
