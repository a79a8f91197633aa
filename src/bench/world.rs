//! The ground every scenario stands on: a fresh database (a SQLite file in a
//! temporary directory, or `hallpass_bench_<uuid>` on the PostgreSQL server,
//! dropped afterwards) and, once a roster is imported into it, a [`Directory`]:
//! the tenant bound to a Discord server, a realistic set of educators linked
//! to chat accounts, and an [`App`] with production hashing (OWASP argon2id).
//!
//! The in-process rate limits are raised for the benchmark (a million commands
//! and autocomplete requests per minute per account): the suite measures the
//! work behind each request, and 32 clients typing on a few dozen accounts
//! would otherwise be answered "too fast" in microseconds.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use sqlx::{AssertSqlSafe, Connection};

use crate::app::{App, Settings};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::commands::Invocation;
use crate::credentials::{HashParams, PasswordHasher};
use crate::directory::{DiscordGuildId, DiscordUserId, Tenant, TenantName, User, UserId};
use crate::limits::Limits;
use crate::store::Store;

/// The Discord server the benchmark's tenant is bound to.
const GUILD: u64 = 9_000_000_001;
/// The tenant every scenario imports into.
pub const TENANT: &str = "bench";

/// A database that exists only for one scenario.
pub enum FreshDb {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        admin_url: String,
        name: String,
    },
}

impl FreshDb {
    pub async fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir().context("Failed to create a temporary directory")?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        Ok(Self::Sqlite { url, _dir: dir })
    }

    /// Creates `hallpass_bench_<uuid>` on the server `admin_url` points at.
    pub async fn postgres(admin_url: &str) -> Result<Self> {
        let name = format!("hallpass_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin(admin_url).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("Failed to create database {name}"))?;
        let _ = conn.close().await;
        let mut url = url::Url::parse(admin_url).context("The PostgreSQL URL is invalid")?;
        url.set_path(&format!("/{name}"));
        Ok(Self::Postgres {
            url: url.to_string(),
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// Connects and migrates (not timed by any scenario).
    pub async fn open(&self) -> Result<Store> {
        let store = Store::connect(self.url())
            .await
            .context("Failed to connect")?;
        store.migrate().await.context("Failed to migrate")?;
        Ok(store)
    }

    /// Removes the database (the SQLite directory goes when dropped).
    pub async fn remove(self) -> Result<()> {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
        {
            let mut conn = admin(&admin_url).await?;
            sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .with_context(|| format!("Failed to drop database {name}"))?;
            let _ = conn.close().await;
        }
        Ok(())
    }
}

async fn admin(url: &str) -> Result<sqlx::AnyConnection> {
    sqlx::any::install_default_drivers();
    tokio::time::timeout(Duration::from_secs(5), sqlx::AnyConnection::connect(url))
        .await
        .map_err(|_| anyhow!("PostgreSQL at {} did not answer within 5 s", shown(url)))?
        .with_context(|| format!("PostgreSQL at {} is unreachable", shown(url)))
}

fn shown(url: &str) -> String {
    crate::config::redact_url(url)
}

/// A chat account linked to a directory user, ready to invoke commands.
#[derive(Debug, Clone)]
pub struct Account {
    pub inv: Invocation,
}

/// An imported directory the bot can be driven against.
pub struct Directory {
    pub app: App,
    pub tenant: Tenant,
    pub district_admins: Vec<Account>,
    pub school_admins: Vec<Account>,
    pub teachers: Vec<Account>,
    /// How long autocomplete's index took to read in (`serve` does the same at start).
    pub index_load: std::time::Duration,
}

/// How many accounts each load client takes in turn (see
/// [`Directory::client_account_for`]).
pub const ROTATION: usize = 5;

impl Directory {
    /// Binds the server and links up to 5 district admins, 40 school admins
    /// and 110 teachers (in roster order) to chat accounts: what
    /// [`Directory::client_account`] hands out to `ROTATION` x 32 clients.
    pub async fn prepare(store: &Store) -> Result<Self> {
        let name = TenantName::parse(TENANT)?;
        let tenant = store
            .tenant_by_name(&name)
            .await?
            .ok_or_else(|| anyhow!("the roster import made no tenant {TENANT}"))?;
        store
            .bind_guild(
                DiscordGuildId::new(GUILD),
                tenant.id,
                operator(&tenant, Action::GuildBind),
            )
            .await
            .context("Failed to bind the Discord server")?;
        let mut next_account = 10_000;
        let mut link = async |role: &str, limit: usize| -> Result<Vec<Account>> {
            let mut accounts = Vec::new();
            for user in users_with_role(store, &tenant, role, limit).await? {
                next_account += 1;
                let discord = DiscordUserId::new(next_account);
                store
                    .link_discord(&user, discord, operator(&tenant, Action::ChatLink))
                    .await
                    .context("Failed to link a chat account")?;
                accounts.push(Account {
                    inv: invocation(discord),
                });
            }
            Ok(accounts)
        };
        let district_admins = link("district_admin", 5).await?;
        let school_admins = link("school_admin", 40).await?;
        let teachers = link("teacher", 110).await?;
        if district_admins.is_empty() || school_admins.is_empty() || teachers.is_empty() {
            return Err(anyhow!(
                "the directory needs a district admin, a school admin and a teacher"
            ));
        }
        // As `hallpass serve` does at start: autocomplete's index, read in.
        let started = std::time::Instant::now();
        store
            .preload_directory(tenant.id)
            .await
            .context("Failed to read the directory in for autocomplete")?;
        let index_load = started.elapsed();
        let hasher = PasswordHasher::new(HashParams::owasp())?;
        let mut app = App::new(store.clone(), hasher, Settings::default());
        app.limits = Arc::new(Limits::per_minute(1_000_000, 1_000_000));
        Ok(Self {
            app,
            tenant,
            district_admins,
            school_admins,
            teachers,
            index_load,
        })
    }

    /// The account the `request`-th request of client `client` (of `clients`)
    /// is sent as: each client takes [`ROTATION`] accounts in turn, so that
    /// a phase of 1,000 requests a client keeps every account within the
    /// production autocomplete limit `hallpass serve` keeps (600 a minute).
    pub fn client_account_for(&self, client: usize, clients: usize, request: usize) -> &Account {
        self.client_account(client + clients * (request % ROTATION))
    }

    /// The account of load slot `i`. The mix (1 in 16 a district admin,
    /// 4 in 16 school admins, the rest teachers) follows who searches for
    /// people most: teachers outnumber admins, admins search wider. Slots of
    /// one role take that role's accounts in turn, so the 160 slots of 32
    /// clients are 160 educators, but for the district admins, of whom each
    /// of the 5 has two slots.
    pub fn client_account(&self, i: usize) -> &Account {
        let (round, slot) = (i / 16, i % 16);
        let (accounts, n) = match slot {
            0 => (&self.district_admins, round),
            1..=4 => (&self.school_admins, round * 4 + slot - 1),
            _ => (&self.teachers, round * 11 + slot - 5),
        };
        &accounts[n % accounts.len()]
    }

    /// Students in roster order (targets for edits and resets).
    pub async fn students(&self, limit: usize) -> Result<Vec<User>> {
        users_with_role(&self.app.store, &self.tenant, "student", limit).await
    }
}

fn invocation(discord: DiscordUserId) -> Invocation {
    Invocation {
        guild: Some(DiscordGuildId::new(GUILD)),
        channel: Some("bench".into()),
        interaction_id: None,
        user: Some(discord),
        api_caller: None,
    }
}

fn operator(tenant: &Tenant, action: Action) -> AuditEntry {
    AuditEntry::new(
        Some(tenant.id),
        Utc::now(),
        AuditActor::system("bench"),
        action,
        Origin::api("bench"),
    )
}

/// Users of one role in roster order. The role is one of our own literals, so
/// it is spelled into the SQL (placeholders differ between the backends).
async fn users_with_role(
    store: &Store,
    tenant: &Tenant,
    role: &str,
    limit: usize,
) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT id FROM users WHERE role = '{role}' AND disabled = 0 ORDER BY source_id LIMIT {limit}"
    );
    let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await
        .with_context(|| format!("Failed to list {role} users"))?;
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        let id = UserId::parse(&id)?;
        if let Some(user) = store.user(tenant.id, id).await? {
            users.push(user);
        }
    }
    Ok(users)
}
