//! One short handler per subcommand: parse the arguments into domain types,
//! call the store (or Discord), print. Errors become one line on standard
//! error (exit 1).

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};

use super::output::{audit_line, user_card};
use super::{
    AuditArgs, Cli, Command, GuildCommand, ImportCommand, LinkArgs, TenantCommand, UserCommand,
};
use crate::app::{App, Settings};
use crate::audit::{Action, AuditActor, AuditEntry, AuditQuery, Origin};
use crate::config::{Config, redact_url};
use crate::console::{Console, interactive};
use crate::credentials::{HashParams, PasswordHasher, SecretKey, resolve_secret_key};
use crate::directory::{
    DiscordChannelId, DiscordGuildId, DiscordUserId, Login, Tenant, TenantName, UserId,
};
use crate::discord::{DiscordRest, InteractionVerifier, command_definitions, gateway};
use crate::limits::Limits;
use crate::mail::{Mailer, plaintext_warning};
use crate::roster::{ImportOptions, import_oneroster};
use crate::store::Store;
use crate::support::{
    LogNotifier, Notifier, OutboxSettings, OutboxWorker, ZendeskClient, ZendeskConfig,
};

/// An import that ran but refused rows: `main` exits with [`RowsRefused::EXIT_STATUS`].
#[derive(Debug, thiserror::Error)]
#[error("{rows} row(s) of the bundle were refused (listed above); the others were imported.")]
pub struct RowsRefused {
    pub rows: usize,
}

impl RowsRefused {
    /// The documented exit status of an import that refused rows.
    pub const EXIT_STATUS: u8 = 3;
}

/// How long one call to Zendesk may take.
const ZENDESK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
use crate::web::WebState;
use std::sync::Arc;

pub async fn run(cli: Cli) -> Result<()> {
    // The benchmark opens its own databases: it needs no configuration.
    if let Command::Bench {
        json,
        postgres_url,
        quick,
        users,
    } = &cli.command
    {
        return bench(*json, postgres_url, *quick, *users).await;
    }
    let config = Config::load(cli.config.as_deref()).context("Failed to read the configuration")?;
    let now = Utc::now();
    match cli.command {
        Command::Serve => serve(&config).await,
        Command::Import(ImportCommand::Oneroster {
            dir,
            tenant,
            dry_run,
            json,
        }) => {
            let store = open(&config).await?;
            let tenant = TenantName::parse(&tenant)?;
            let options = ImportOptions {
                show_progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                dry_run,
                limits: crate::roster::CsvLimits {
                    max_rows: u64::from(config.import_max_rows),
                    ..Default::default()
                },
            };
            let report = import_oneroster(&store, &tenant, &dir, &options, now)
                .await
                .with_context(|| format!("Failed to import {}", dir.display()))?;
            if json {
                for line in report.json_lines() {
                    println!("{line}");
                }
            } else {
                print!("{report}");
            }
            match report.refused.len() {
                0 => Ok(()),
                rows => Err(RowsRefused { rows }.into()),
            }
        }
        Command::Demo => demo().await,
        Command::Migrate => {
            open(&config).await?;
            println!(
                "Migrations applied to {}.",
                redact_url(&config.database_url)
            );
            Ok(())
        }
        Command::Guild(GuildCommand::Bind { guild_id, tenant }) => {
            guild_bind(&open(&config).await?, &guild_id, &tenant, now).await
        }
        Command::Tenant(TenantCommand::SetAuditChannel { channel_id, tenant }) => {
            set_audit_channel(&open(&config).await?, &channel_id, &tenant, now).await
        }
        Command::Link(args) => link(&open(&config).await?, &args, now).await,
        Command::User(UserCommand::Show {
            login,
            tenant,
            json,
        }) => user_show(&open(&config).await?, &login, &tenant, json).await,
        Command::Audit(args) => audit(&open(&config).await?, &args).await,
        Command::RegisterCommands { guild } => register_commands(&config, guild.as_deref()).await,
        Command::Promotions(command) => {
            let store = open(&config).await?;
            super::promotions::run(&store, command, now, config.zendesk_url.is_some()).await
        }
        Command::Cards(args) => {
            // The cards need no link-code key: a throwaway one keeps the key file untouched.
            let key = SecretKey::generate(&mut rand::rngs::OsRng).0;
            super::cards::run(&app(&config, key, open(&config).await?)?, &args).await
        }
        Command::Console { tenant, login } => {
            let key = secret_key(&config)?;
            console(app(&config, key, open(&config).await?)?, &tenant, &login).await
        }
        Command::Bench {
            json,
            postgres_url,
            quick,
            users,
        } => bench(json, &postgres_url, quick, users).await,
    }
}
/// `hallpass bench [--json] [--quick] [--users N]`: the human lines, then
/// (with --json) the summary.
async fn bench(json: bool, postgres_url: &str, quick: bool, users: Option<usize>) -> Result<()> {
    let mut scale = if quick {
        crate::bench::BenchScale::tiny(postgres_url)
    } else {
        crate::bench::BenchScale::full(postgres_url)
    };
    if let Some(users) = users {
        scale.users = users;
    }
    let mut out = std::io::stdout();
    let summary = crate::bench::run_suite(&scale, &mut out).await;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    Ok(())
}

/// `hallpass demo`: in a temporary directory, so every run starts fresh.
async fn demo() -> Result<()> {
    let dir = tempfile::tempdir().context("Failed to create a directory for the demo database")?;
    let here = std::env::current_dir().context("Failed to read the current directory")?;
    let mut out = std::io::stdout();
    crate::demo::run_with_cards_in(dir.path(), &here, &mut out).await
}

/// `hallpass serve`: the listener, and the gateway client when a token is set.
async fn serve(config: &Config) -> Result<()> {
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
    let verifier = match &config.discord_public_key {
        Some(key) => Some(Arc::new(
            InteractionVerifier::from_hex(key).context("DISCORD_PUBLIC_KEY is invalid")?,
        )),
        None => {
            tracing::warn!("DISCORD_PUBLIC_KEY is not set: /interactions answers 503");
            None
        }
    };
    let zendesk = ZendeskConfig::from_app_config(config, ZENDESK_TIMEOUT)
        .context("The Zendesk settings are incomplete")?
        .map(ZendeskClient::new)
        .transpose()
        .context("Failed to set up the Zendesk client")?
        .map(Arc::new);
    let state = WebState {
        verifier,
        discord: discord.clone(),
        zendesk: zendesk.clone(),
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
    if let Some(address) = config.metrics_listen {
        serve_metrics(address, state.clone()).await?;
    }
    if state.api_token.is_none() {
        tracing::warn!(
            "HALLPASS_API_TOKEN is not set: /api/v1 is open to anyone who reaches the listener; set it in production"
        );
    }
    app.hasher
        .prepare_dummy()
        .await
        .context("Failed to prepare password hashing for sign-ins")?;
    if state.zendesk_webhook_secret.is_none() {
        tracing::warn!("ZENDESK_WEBHOOK_SECRET is not set: /webhooks/zendesk answers 503");
    }
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
    let tasks = state.tasks.clone();
    match zendesk {
        Some(client) => {
            let notifier: Arc<dyn Notifier> = match (&config.discord_token, &discord) {
                (Some(_), Some(rest)) => rest.clone(),
                _ => Arc::new(LogNotifier),
            };
            let worker =
                OutboxWorker::new(app.clone(), client, notifier, OutboxSettings::default());
            background.spawn(worker.run(stopped.clone()));
        }
        None => tracing::info!("ZENDESK_URL is not set: promotion requests queue until it is"),
    }
    background.spawn(sweep_handoffs(app.clone(), stopped));
    match (&config.discord_token, discord) {
        (Some(token), Some(rest)) => {
            let (token, app) = (token.clone(), app.clone());
            let (api_base, health) = (config.discord_api_url.clone(), state.gateway.clone());
            let health = health.unwrap_or_default();
            tokio::spawn(async move {
                // `run` has logged why it stopped, and /healthz reports it.
                let _ = gateway::run(&api_base, &token, app, rest, health).await;
            });
        }
        _ => tracing::warn!(
            "DISCORD_TOKEN is not set: the gateway client does not start, and no DM can be sent (temporary passwords and link codes arrive in a reply only the invoker sees)"
        ),
    }
    let served = listening
        .shutdown_on(async move {
            stop_signal().await;
            tracing::info!("stopping: finishing the interactions in flight");
            let _ = stop.send(true);
        })
        .await
        .context("The HTTP listener failed");
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
    served
}

/// How long shutdown waits for deliveries and the outbox worker's pass. Under
/// the 10 s an orchestrator gives between SIGTERM and SIGKILL.
const SHUTDOWN_BOUND: std::time::Duration = std::time::Duration::from_secs(8);

/// A hand-off still open this long after it started will not finish: its
/// interaction token (15 minutes) is dead, and delivery retries stop sooner.
const HANDOFF_LIFE: chrono::Duration = chrono::Duration::minutes(15);

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

/// The key one-time secrets are hashed under. Asked for before the database
/// is opened, so a PostgreSQL server without HALLPASS_SECRET_KEY is refused
/// with that one reason.
fn secret_key(config: &Config) -> Result<SecretKey> {
    let (key, source) = resolve_secret_key(config.secret_key.as_ref(), &config.database_url)?;
    tracing::info!(from = %source, "link codes and reset tokens are hashed under the server key");
    Ok(key)
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

/// The application core with production settings.
fn app(config: &Config, secret_key: SecretKey, store: Store) -> Result<App> {
    let hasher =
        PasswordHasher::new(HashParams::owasp()).context("Failed to set up password hashing")?;
    let mailer = config
        .smtp_url
        .as_ref()
        .map(|url| Mailer::new(url, &config.public_url))
        .transpose()
        .context("Failed to set up the SMTP client")?;
    let settings = Settings {
        email_configured: mailer.is_some(),
        public_url: config.public_url.as_str().trim_end_matches('/').to_owned(),
        signin_url: Some(config.signin_url.to_string()),
        zendesk_configured: config.zendesk_url.is_some(),
        burst_alert_resets: config.burst_alert_resets,
        lockout_threshold: config.lockout_threshold,
        ..Settings::default()
    };
    let mut app = App::new(store, hasher, settings);
    app.secret_key = secret_key;
    app.limits = Arc::new(Limits::default().with_signins_per_minute(config.signins_per_minute));
    if let Some(warning) = config.smtp_url.as_ref().and_then(plaintext_warning) {
        tracing::warn!("{warning}");
    }
    if mailer.is_none() {
        tracing::info!("SMTP_URL is not set: email reset links are refused");
    }
    app.mailer = mailer.map(Arc::new);
    Ok(app)
}

async fn console(app: App, tenant: &str, login: &str) -> Result<()> {
    let console = std::sync::Arc::new(Console::new(app, tenant, login).await?);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || interactive(console, runtime))
        .await
        .context("The console stopped unexpectedly")?
        .context("Failed to read from the terminal")
}

/// Connects and brings the schema up to date (every command that touches the
/// directory needs it; `register-commands` does not).
async fn open(config: &Config) -> Result<Store> {
    let shown = redact_url(&config.database_url);
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("Failed to open {shown}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("Failed to migrate {shown}"))?;
    Ok(store)
}

async fn tenant(store: &Store, name: &str) -> Result<Tenant> {
    let name = TenantName::parse(name)?;
    store.tenant_by_name(&name).await?.ok_or_else(|| {
        anyhow!("No tenant named {name}. Import a roster first: hallpass import oneroster DIR --tenant {name}")
    })
}

fn operator(tenant: &Tenant, action: Action, now: DateTime<Utc>) -> AuditEntry {
    AuditEntry::new(
        Some(tenant.id),
        now,
        AuditActor::system("cli"),
        action,
        Origin::api("cli"),
    )
}

async fn guild_bind(
    store: &Store,
    guild_id: &str,
    tenant_name: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let guild = DiscordGuildId::parse(guild_id)?;
    let tenant = tenant(store, tenant_name).await?;
    store
        .bind_guild(guild, tenant.id, operator(&tenant, Action::GuildBind, now))
        .await?;
    println!("Discord server {guild} is bound to tenant {}.", tenant.name);
    Ok(())
}

async fn set_audit_channel(
    store: &Store,
    channel_id: &str,
    tenant_name: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let channel = DiscordChannelId::parse(channel_id)?;
    let tenant = tenant(store, tenant_name).await?;
    store
        .set_audit_channel(
            &tenant,
            channel,
            operator(&tenant, Action::TenantAuditChannel, now),
        )
        .await?;
    println!(
        "Burst alerts for tenant {} go to Discord channel {channel}.",
        tenant.name
    );
    Ok(())
}

async fn link(store: &Store, args: &LinkArgs, now: DateTime<Utc>) -> Result<()> {
    let tenant = tenant(store, &args.tenant).await?;
    let login = Login::parse(&args.login)?;
    let discord = DiscordUserId::parse(&args.discord)?;
    let user = store
        .user_by_login(tenant.id, &login)
        .await?
        .ok_or_else(|| anyhow!("No user with login {login} in tenant {}.", tenant.name))?;
    store
        .link_discord(&user, discord, operator(&tenant, Action::ChatLink, now))
        .await?;
    println!(
        "Discord account {discord} is linked to {} ({}).",
        user.display_name(),
        user.login
    );
    Ok(())
}

async fn user_show(store: &Store, who: &str, tenant_name: &str, json: bool) -> Result<()> {
    let tenant = tenant(store, tenant_name).await?;
    let user = match UserId::parse(who) {
        Ok(id) => store.user(tenant.id, id).await?,
        Err(_) => store.user_by_login(tenant.id, &Login::parse(who)?).await?,
    };
    let Some(user) = user else {
        bail!("No user {who} in tenant {}.", tenant.name)
    };
    let record = store
        .user_record(tenant.id, user.id)
        .await?
        .ok_or_else(|| anyhow!("No user {who}."))?;
    if json {
        println!("{}", serde_json::to_string(&record)?);
    } else {
        print!("{}", user_card(&record));
    }
    Ok(())
}

async fn audit(store: &Store, args: &AuditArgs) -> Result<()> {
    let tenant_id = match &args.tenant {
        Some(name) => Some(tenant(store, name).await?.id),
        None => None,
    };
    let since = args
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    anyhow!(
                        "--since must be an RFC 3339 time such as 2026-11-28T09:00:00Z, not {s:?}"
                    )
                })
        })
        .transpose()?;
    let events = store
        .audit_events(&AuditQuery {
            tenant_id,
            since,
            ..AuditQuery::default()
        })
        .await?;
    for event in &events {
        if args.json {
            println!("{}", serde_json::to_string(event)?);
        } else {
            println!("{}", audit_line(event));
        }
    }
    Ok(())
}

/// Uploads `commands/` (embedded at build time) with a bulk overwrite.
async fn register_commands(config: &Config, guild: Option<&str>) -> Result<()> {
    let guild = guild.map(DiscordGuildId::parse).transpose()?;
    let Some(token) = &config.discord_token else {
        bail!(
            "DISCORD_TOKEN is not set: register-commands needs the bot token (Developer Portal → Bot → Reset Token)"
        )
    };
    let Some(application_id) = config.discord_application_id else {
        bail!(
            "DISCORD_APPLICATION_ID is not set: register-commands needs the application id (Developer Portal → General Information)"
        )
    };
    let commands = command_definitions()?;
    let discord = DiscordRest::new(&config.discord_api_url, Some(token), Some(application_id))?;
    let registered = discord
        .register_commands(guild.map(|g| g.get()), &commands)
        .await
        .context("Failed to register the slash commands")?;
    match guild {
        Some(guild) => println!(
            "Registered {registered} commands in Discord server {guild} (application {application_id})."
        ),
        None => println!(
            "Registered {registered} commands globally, for every server of application {application_id}."
        ),
    }
    Ok(())
}
