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
use crate::discord::{DiscordRest, command_definitions};
use crate::limits::Limits;
use crate::mail::{Mailer, plaintext_warning};
use crate::roster::{ImportOptions, import_oneroster};
use crate::store::Store;

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

use std::io::Write;
use std::sync::Arc;

pub async fn run(cli: Cli) -> Result<()> {
    // The benchmark opens its own databases: it needs no configuration.
    if let Command::Bench {
        json,
        postgres_url,
        quick,
        users,
        only,
    } = &cli.command
    {
        return bench(*json, postgres_url, *quick, *users, only).await;
    }
    let config = Config::load(cli.config.as_deref()).context("Failed to read the configuration")?;
    let now = Utc::now();
    match cli.command {
        Command::Serve => super::serve::serve(&config).await,
        Command::Import(ImportCommand::Oneroster {
            dir,
            tenant,
            dry_run,
            json,
        }) => import(&config, &dir, &tenant, dry_run, json).await,
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
            only,
        } => bench(json, &postgres_url, quick, users, &only).await,
    }
}
/// `hallpass import oneroster DIR --tenant NAME [--dry-run] [--json]`.
async fn import(
    config: &Config,
    dir: &std::path::Path,
    tenant: &str,
    dry_run: bool,
    json: bool,
) -> Result<()> {
    let store = open(config).await?;
    let tenant = TenantName::parse(tenant)?;
    let options = ImportOptions {
        show_progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        dry_run,
        limits: crate::roster::CsvLimits {
            max_rows: u64::from(config.import_max_rows),
            ..Default::default()
        },
    };
    let report = import_oneroster(&store, &tenant, dir, &options, Utc::now())
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

/// `hallpass bench [--json] [--quick] [--users N] [--only A,B]`: the human
/// lines, then (with --json) the summary.
async fn bench(
    json: bool,
    postgres_url: &str,
    quick: bool,
    users: Option<usize>,
    only: &[String],
) -> Result<()> {
    let mut scale = if quick {
        crate::bench::BenchScale::tiny(postgres_url)
    } else {
        crate::bench::BenchScale::full(postgres_url)
    };
    if let Some(users) = users {
        scale.users = users;
    }
    crate::bench::check_scenarios(only)?;
    scale.only = only.to_vec();
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

/// The key one-time secrets are hashed under. Asked for before the database
/// is opened, so a PostgreSQL server without HALLPASS_SECRET_KEY is refused
/// with that one reason.
pub(super) fn secret_key(config: &Config) -> Result<SecretKey> {
    let (key, source) = resolve_secret_key(config.secret_key.as_ref(), &config.database_url)?;
    tracing::info!(from = %source, "link codes and reset tokens are hashed under the server key");
    Ok(key)
}

/// The application core with production settings.
pub(super) fn app(config: &Config, secret_key: SecretKey, store: Store) -> Result<App> {
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
pub(super) async fn open(config: &Config) -> Result<Store> {
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
    let query = AuditQuery {
        tenant_id,
        since,
        ..AuditQuery::default()
    };
    // Printed as read, not gathered first: a district's whole log is
    // millions of events.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let printed = store
        .for_each_audit_event(&query, |event| -> Result<()> {
            match args.json {
                true => writeln!(out, "{}", serde_json::to_string(&event)?)?,
                false => writeln!(out, "{}", audit_line(&event))?,
            }
            Ok(())
        })
        .await
        .and_then(|()| Ok(out.flush()?));
    match printed {
        // The reader has gone (`hallpass audit | head`): what it wanted is out.
        Err(e)
            if e.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                == Some(std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
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
