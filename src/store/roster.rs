//! Bulk operations for the OneRoster import (`crate::roster`). Promises:
//!
//! * a batch of creates and updates commits in one transaction, every record
//!   together with its audit entry: a batch is written whole or not at all;
//! * an update names the version the import read, as [`Store::update_user`]
//!   does, so an edit made while the import ran is never silently overwritten;
//! * the tenant's users load in one query, so the import decides create,
//!   update and unchanged in memory and the database does not see a constraint
//!   failure in normal operation;
//! * an import writes through one connection of its own ([`RosterWriter`]),
//!   tuned for bulk work on SQLite, and closed afterwards so the tuning never
//!   reaches the connections the service answers with.

pub(super) mod bulk;
mod staged;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::{ConnectOptions, Connection};

use super::json_pages::{Pages, read_pages};
use super::roster_values::{RosterValues, remember};
use super::rows::{USER_COLUMNS, USER_FROM, UserRaw};
use super::users::{audit_fields, diff};
use super::writer_connection::WriterConnection;
use super::{Backend, Store, StoreError, audit};
use crate::audit::{Action, AuditEntry};
use crate::directory::{Place, TenantId, User};

/// One record the import writes: a new user (`before` is `None`) or the new
/// state of an existing one, with the audit action that describes the change,
/// and what the roster said about them now when that changed (`remember`).
/// When `after` equals `before` only the remembered values are written, and
/// nothing is audited.
#[derive(Debug, Clone)]
pub(crate) struct RosterWrite {
    pub before: Option<User>,
    pub after: User,
    pub action: Action,
    pub remember: Option<RosterValues>,
}

impl RosterWrite {
    /// Whether the user's record itself changes (not only what the roster said).
    pub fn changes_record(&self) -> bool {
        self.before.as_ref() != Some(&self.after)
    }
}

impl Store {
    /// Every user of the tenant, with or without a `source_id`: the import
    /// needs them all to find records by `sourcedId` and taken logins. Read
    /// in pages of JSON by id ([`read_pages`]), so the raw rows of a large
    /// tenant are never all held at once beside the records made from them.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn tenant_users(&self, tenant: TenantId) -> Result<Vec<User>, StoreError> {
        self.tenant_users_in_pages(tenant, 10_000).await
    }

    pub(super) async fn tenant_users_in_pages(
        &self,
        tenant: TenantId,
        page: i64,
    ) -> Result<Vec<User>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut users = Vec::new();
        let tenant = tenant.to_string();
        read_pages(
            &mut conn,
            self.backend,
            &USER_PAGES,
            (&tenant, page),
            |raw: UserRaw| {
                users.push(raw.into_user()?);
                Ok(())
            },
        )
        .await?;
        Ok(users)
    }

    /// A connection for the import's writes, taken from the pool for the
    /// whole import. On SQLite it gets a 64 MiB page cache (the indexes of
    /// 100,000 users do not fit the default 2 MiB, and pages would be written
    /// out and read back within a batch; 256 MiB measured 10% faster on the
    /// inserts alone, not worth the importing process's memory), keeps temporary data (statement
    /// journals of multi-row inserts) in memory, and lets the write-ahead log
    /// grow to 64 MiB between checkpoints, so an index page changed by many
    /// batches is copied into the database file once rather than every batch.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn roster_writer(&self) -> Result<RosterWriter, StoreError> {
        let mut conn = match &self.own {
            // On SQLite a batch's new users go in with one statement
            // (`INSERT ... SELECT` of up to 25,000 staged rows), about a
            // second by design, so sqlx's slow-statement warning (1 s, with
            // the whole statement) fired for batch after batch of a large
            // import. On the import's own connection it is at debug level.
            Some(options) => {
                let options = options
                    .clone()
                    .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
                WriterConnection::Own(super::connect_own(self.backend, &options).await?)
            }
            None => {
                let mut conn = self.pool.acquire().await?;
                // The tuning below stays with the connection: close it, not return it.
                conn.close_on_drop();
                WriterConnection::Pooled(conn)
            }
        };
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA cache_size = -65536")
                .execute(&mut *conn)
                .await?;
            sqlx::query("PRAGMA temp_store = MEMORY")
                .execute(&mut *conn)
                .await?;
            sqlx::query("PRAGMA wal_autocheckpoint = 16384")
                .execute(&mut *conn)
                .await?;
        }
        Ok(RosterWriter {
            conn,
            backend: self.backend,
        })
    }
}

/// The import's own connection; see [`Store::roster_writer`].
pub(crate) struct RosterWriter {
    conn: WriterConnection,
    backend: Backend,
}

impl RosterWriter {
    /// Ends the import's writing, `wrote` records having been written. On
    /// SQLite the write-ahead log is copied into the database and emptied
    /// now, rather than left at up to 64 MiB. On PostgreSQL, after an import
    /// that wrote, the planner's statistics of `users` and `roster_values`
    /// are gathered now (PostgreSQL's advice after a bulk load) rather than
    /// by autovacuum up to a minute later: without them a freshly imported
    /// tenant's reads in pages (autocomplete's index load, the next
    /// import) were planned as a sort of the whole tenant for every page
    /// (measured at 100,000 users: 240 ms a page of roster values, 54 ms
    /// after ANALYZE, which took 0.2 s). Both are best effort.
    pub(crate) async fn finish(mut self, wrote: usize) {
        let sql = match self.backend {
            Backend::Sqlite => Some("PRAGMA wal_checkpoint(TRUNCATE)"),
            Backend::Postgres if wrote > 0 => Some("ANALYZE users, roster_values"),
            Backend::Postgres => None,
        };
        if let Some(sql) = sql
            && let Err(e) = sqlx::query(sql).execute(&mut *self.conn).await
        {
            tracing::debug!(error = %e, statement = sql, "left to the database's own upkeep after the import");
        }
        self.conn.close().await;
    }

    /// Writes `writes` and their audit entries in one transaction. `template`
    /// gives each entry its tenant, time, actor and origin; the action, the
    /// target and the changed fields come from the write itself.
    ///
    /// New records go in with one statement per batch (on SQLite through a
    /// staging table, [`staged`]), remembered values and audit entries with
    /// multi-row statements of 500 rows on SQLite and one statement per table
    /// on PostgreSQL ([`bulk`]); updates go one by one because each names the
    /// version it was read at. Updates run first: one may free a login that a
    /// new record of the same batch takes.
    #[tracing::instrument(skip(self, writes, template), fields(rows = writes.len()))]
    pub(crate) async fn write_batch(
        &mut self,
        writes: &[RosterWrite],
        template: &AuditEntry,
    ) -> Result<(), StoreError> {
        // As `Store::begin_write`: on SQLite, take the write lock up front.
        let mut tx = match self.backend {
            Backend::Sqlite => self.conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.conn.begin().await?,
        };
        let mut entries = Vec::with_capacity(writes.len());
        for write in writes.iter().filter(|w| w.changes_record()) {
            let (old, new) = match &write.before {
                None => (
                    Value::Object(Map::new()),
                    Value::Object(audit_fields(&write.after)),
                ),
                Some(before) => {
                    update_user_row(&mut tx, before, &write.after).await?;
                    diff(before, &write.after)
                }
            };
            let entry = AuditEntry {
                action: write.action,
                ..template.clone()
            }
            .target(write.after.id, write.after.display_name())
            .change(old, new);
            entries.push(entry);
        }
        let created: Vec<&User> = writes
            .iter()
            .filter(|w| w.before.is_none())
            .map(|w| &w.after)
            .collect();
        check_places(&mut tx, &created).await?;
        insert_users(&mut tx, self.backend, &created).await?;
        let remembered: Vec<_> = writes
            .iter()
            .filter_map(|w| w.remember.as_ref().map(|v| (w.after.id, v)))
            .collect();
        remember(&mut tx, self.backend, &remembered, template.at).await?;
        audit::insert_many(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Inserts new records (their places checked): on SQLite through a staging
/// table ([`staged`]), on PostgreSQL in one statement ([`bulk`]). A login taken
/// meanwhile fails the batch; with one row, the error names the login.
async fn insert_users(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    users: &[&User],
) -> Result<(), StoreError> {
    let result = match backend {
        Backend::Postgres => bulk::insert_users(conn, users).await,
        Backend::Sqlite => staged::insert_users(conn, users).await,
    };
    match (result, users) {
        (Err(StoreError::Database(e)), [one])
            if StoreError::is_unique_violation_on(&e, "login_key") =>
        {
            Err(StoreError::LoginTaken(one.login.to_string()))
        }
        (result, _) => result,
    }
}

/// Fails with [`StoreError::NotFound`] unless every new record's district is in
/// its tenant and its school (if any) in that district: the promise
/// `insert_user` keeps row by row, checked here once per distinct place.
async fn check_places(conn: &mut sqlx::AnyConnection, users: &[&User]) -> Result<(), StoreError> {
    let places: HashSet<(TenantId, Place)> = users.iter().map(|u| (u.tenant_id, u.place)).collect();
    for (tenant, place) in places {
        let found = sqlx::query(
            "SELECT 1 AS ok FROM districts d WHERE d.id = $1 AND d.tenant_id = $2 \
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM schools s WHERE s.id = $3 AND s.district_id = $1))",
        )
        .bind(place.district().to_string())
        .bind(tenant.to_string())
        .bind(place.school().map(|s| s.to_string()))
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

/// `(…), (…)` for a multi-row INSERT of `rows` rows of `columns` values.
///
/// SQLite gets anonymous `?` parameters: sqlx looks up each parameter's name
/// when binding, and SQLite finds a name by walking a list, so thousands of
/// named (`$n`) parameters cost quadratic time; anonymous ones have no list.
pub(super) fn values_list(backend: Backend, rows: usize, columns: usize) -> String {
    use std::fmt::Write as _;
    // Written into one string: it is built for every multi-row statement of
    // an import, and a string per parameter and per row was 4% of one.
    let mut sql = String::with_capacity(rows * columns * 8);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                // Writing to a String cannot fail.
                Backend::Postgres => {
                    let _ = write!(sql, "${}", r * columns + c + 1);
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Rewrites a record read at `before.version` as `after`, with the same checks
/// as [`Store::update_user`].
async fn update_user_row(
    conn: &mut sqlx::AnyConnection,
    before: &User,
    after: &User,
) -> Result<(), StoreError> {
    // Nothing written means someone changed the record since the import read
    // it, or the place left the tenant: both mean "read it again", never "overwrite".
    match super::user_rows::write_user_row(conn, before, after).await? {
        true => Ok(()),
        false => Err(StoreError::Conflict),
    }
}

/// The tenant's users, as [`Store::tenant_users`] reads them in pages (`json_pages`).
pub(super) const USER_PAGES: Pages<'static> = Pages {
    columns: USER_COLUMNS,
    tables: USER_FROM,
    tenant: "u.tenant_id",
    key: "u.id",
    what: "users",
};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::audit::{AuditActor, Origin};
    use crate::directory::{Login, PersonName, Role, TenantName};
    use crate::store::NewUser;

    #[test]
    fn a_values_list_has_a_group_per_row_and_numbers_postgres_parameters_across_rows() {
        assert_eq!(values_list(Backend::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(
            values_list(Backend::Postgres, 3, 2),
            "($1, $2), ($3, $4), ($5, $6)"
        );
        assert_eq!(values_list(Backend::Sqlite, 1, 1), "(?)");
        assert_eq!(values_list(Backend::Postgres, 0, 4), "");
    }

    #[tokio::test]
    async fn a_tenants_users_are_all_read_across_pages_and_no_other_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
        let mut tenants = Vec::new();
        for name in ["a", "b"] {
            let tenant = store
                .create_tenant(&TenantName::parse(name).unwrap(), now)
                .await
                .unwrap()
                .id;
            let district = store.create_district(tenant, "D", None).await.unwrap().id;
            let audit = AuditEntry::new(
                Some(tenant),
                now,
                AuditActor::system("t"),
                Action::UserCreate,
                Origin::api("t"),
            );
            for n in 0..7 {
                let new = NewUser {
                    login: Login::parse(&format!("{name}{n}")).unwrap(),
                    first_name: PersonName::parse("A").unwrap(),
                    last_name: PersonName::parse("B").unwrap(),
                    role: Role::DistrictAdmin,
                    place: Place::District { district },
                    grade: None,
                    title: None,
                    source_id: None,
                    disabled: false,
                };
                store
                    .insert_user(tenant, &new, audit.clone())
                    .await
                    .unwrap();
            }
            tenants.push(tenant);
        }
        for page in [1, 3, 7, 100] {
            let users = store.tenant_users_in_pages(tenants[0], page).await.unwrap();
            let mut logins: Vec<String> = users.iter().map(|u| u.login.to_string()).collect();
            logins.sort();
            assert_eq!(
                logins,
                (0..7).map(|n| format!("a{n}")).collect::<Vec<_>>(),
                "page size {page}"
            );
        }
    }
}
