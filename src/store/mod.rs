//! The database, behind one API for SQLite (embedded default) and PostgreSQL
//! (several instances sharing one database).
//!
//! Both backends run the same SQL through sqlx's `Any` driver; the schemas in
//! `migrations/sqlite` and `migrations/postgres` are kept portable for that
//! (text ids and times, integer flags), and the few statements that must differ
//! branch on [`Backend`]. Promises:
//!
//! * a change to a record and its audit entry commit in one transaction;
//! * hierarchy changes are optimistic: an update names the version it was based
//!   on and fails with [`StoreError::Conflict`] if someone changed it since;
//! * nothing here returns a password hash except [`Store::password_hash`].

mod alerts;
mod audit;
mod bot;
#[cfg(test)]
mod checkpoint_tests;
mod class_import;
mod classes;
mod credentials;
mod decisions;
mod directory;
mod error;
mod handoffs;
mod hierarchy;
mod json_pages;
#[cfg(test)]
mod json_pages_tests;
mod links;
mod moves;
mod outbox;
mod promotion_listing;
mod promotions;
mod replay;
mod reset_tokens;
mod roster;
mod roster_values;
mod rows;
mod scratch;
mod search;
mod signins;
#[cfg(test)]
mod sqlite_build_tests;
#[cfg(test)]
mod test_support;
mod time;
mod user_rows;
mod users;
mod writer_connection;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

pub use audit::AuditedOutcomes;
pub use bot::{QuotaDecision, RedeemError};
pub use credentials::StoredPassword;
pub use decisions::{DecisionInput, DecisionOutcome, PromotionDecision};
pub use directory::{CallerFound, DirectoryCheck, PersonFound, PersonRow};
pub use error::StoreError;
pub use handoffs::{HandoffId, NewPassword, RollBack};
pub use hierarchy::OrgTable;
pub use outbox::{ClaimedDelivery, RetryPlan};
pub use promotion_listing::PromotionListing;
pub use promotions::{NewPromotion, PromotionError, PromotionRequest, PromotionState};
pub use reset_tokens::ResetTokenError;
#[doc(hidden)]
pub use scratch::{ScratchDatabase, test_postgres_url};
pub use search::SearchScope;
pub use users::{NewUser, UserChanges, UserRecord};

pub(crate) use class_import::{ClassImport, EnrollmentRow, RosterUserRef};
pub(crate) use roster::{RosterWrite, RosterWriter};
pub(crate) use roster_values::RosterValues;
#[cfg(test)]
pub(crate) use test_support::{
    PostgresForTests, migrated_sqlite_for_tests, postgres_generic_plan,
    store_tests_on_both_backends,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// The directory's database. Cheap to clone (it is a pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions run: on SQLite a pool of one connection, so
    /// writers queue in order here instead of polling SQLite's write lock
    /// (its busy handler sleeps 1, 2, 5, 10 … ms between tries, which is
    /// what made a write's p99 tens of milliseconds under contention); on
    /// PostgreSQL, and for an in-memory SQLite database (one database per
    /// connection), the same pool as the reads.
    writer: AnyPool,
    backend: Backend,
    replays: std::sync::Arc<replay::ReplayMemory>,
    /// Autocomplete's in-memory index of the directory (`store::directory`).
    directory: std::sync::Arc<directory::DirectoryCache>,
    /// The callers' statements, run together (`store::directory::lookups`).
    lookups: std::sync::Arc<directory::Lookups>,
    /// How to open a connection outside the pools (the import's); `None`
    /// for an in-memory SQLite database, which is one per connection.
    own: Option<AnyConnectOptions>,
}

impl Store {
    /// Connects to `sqlite://PATH` (the file is created if missing) or `postgres://…`.
    #[tracing::instrument(skip(url))]
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(StoreError::Connect)?;
        let readers = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = open_pool(backend, readers, options.clone(), false).await?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let own = (!in_memory).then(|| options.clone());
        let lookups = directory::Lookups::start(
            backend,
            match in_memory {
                true => directory::Source::Pool(pool.clone()),
                false => directory::Source::Own(options.clone()),
            },
        );
        let writer = match backend {
            Backend::Sqlite if !in_memory => {
                let writer = open_pool(backend, 1, options, true).await?;
                tokio::spawn(checkpoint_in_background(pool.clone()));
                writer
            }
            _ => pool.clone(),
        };
        Ok(Self {
            pool,
            writer,
            backend,
            replays: std::sync::Arc::default(),
            directory: std::sync::Arc::default(),
            lookups: std::sync::Arc::new(lookups),
            own,
        })
    }

    /// Applies the embedded migrations for this backend.
    #[tracing::instrument(skip(self))]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(StoreError::Migrate)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for the few callers (tests, health checks) that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// `true` when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a read-then-write transaction waits for another
    /// writer instead of failing half-way with SQLITE_BUSY.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(tx)
    }

    pub async fn close(&self) {
        self.lookups.stop().await;
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// How often SQLite's write-ahead log is copied back into the database file,
/// away from the writer (see [`checkpoint_in_background`]).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// SQLite: copies the write-ahead log into the database file once a
/// [`CHECKPOINT_EVERY`], on a reader connection, until the pool is closed.
/// The writer connection does not checkpoint itself (`wal_autocheckpoint =
/// 0`): by default the commit that crosses 1,000 pages of log runs the
/// checkpoint before it returns, and that was most of the tail of an edit's
/// latency (measured: submit p99 22 ms with it, 11 ms without). PASSIVE
/// never waits for readers or the writer; what it cannot copy now, it copies
/// next time.
async fn checkpoint_in_background(pool: AnyPool) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "could not checkpoint the SQLite write-ahead log");
        }
    }
}

/// How long opening a connection may take.
pub(crate) const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// Sets a new connection up for its backend; `writer`: the SQLite writer,
/// which leaves checkpoints to [`checkpoint_in_background`].
pub(crate) async fn prepare_connection(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    writer: bool,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        // WAL lets readers run beside a writer; a busy writer is
        // waited for rather than failed. Each connection keeps SQLite's
        // default page cache of 2 MiB: the hot pages (the callers'
        // rows, bindings, links) fit, and the 8 MiB it had cost the
        // server 5 MiB of resident memory at 100,000 users and 8 at
        // 1,000,000 (where the limit is 256), with edits no faster
        // (submit p99 5.6-7.4 ms with 2 MiB, 7.3-7.7 with 8). The
        // file is not memory-mapped (mmap_size 0): mapped pages
        // count in the server's resident memory, up to the size of
        // the database, while pages read with pread stay in the
        // kernel's cache, shared and reclaimable. Autocomplete, the
        // hot path, answers from its own index (`store::directory`).
        // `synchronous = NORMAL` in WAL mode syncs at checkpoints,
        // not at every commit: a power cut can lose the last
        // commits, never corrupt the database.
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -2048; PRAGMA mmap_size = 0; \
             PRAGMA temp_store = MEMORY;",
        )
        .await?;
        if writer {
            conn.execute("PRAGMA wal_autocheckpoint = 0;").await?;
        }
    }
    Ok(())
}

/// Opens a connection of its own (not the pool's), set up as the pool's
/// readers are ([`prepare_connection`]), within [`CONNECT_WITHIN`].
pub(crate) async fn connect_own(
    backend: Backend,
    options: &AnyConnectOptions,
) -> Result<sqlx::AnyConnection, sqlx::Error> {
    let connecting = async {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect_with(options).await?;
        prepare_connection(&mut conn, backend, false).await?;
        Ok(conn)
    };
    match tokio::time::timeout(CONNECT_WITHIN, connecting).await {
        Ok(done) => done,
        Err(_) => Err(sqlx::Error::PoolTimedOut),
    }
}

/// A pool of up to `size` connections, each set up for its backend
/// ([`prepare_connection`]).
async fn open_pool(
    backend: Backend,
    size: u32,
    options: AnyConnectOptions,
    writer: bool,
) -> Result<AnyPool, StoreError> {
    AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(CONNECT_WITHIN)
        // sqlx pings a connection before handing it out, a round trip to
        // the connection's thread on SQLite. A file's connection does not
        // drop the way a socket does; on PostgreSQL the ping finds the
        // connections a server restart left dead, before a statement does.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _meta| {
            Box::pin(async move { prepare_connection(conn, backend, writer).await })
        })
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)
}
