//! Reading the directory into memory and keeping it current: a tenant loaded
//! whole at a watermark, then, at each keystroke, one cheap statement asking
//! whether anything changed since, and the changed rows when something did.
//!
//! The watermark is the backend's own notion of "everything committed up to
//! here" (see migrations 20261201000140):
//! - SQLite: the highest `directory_changes.seq` read. SQLite has one writer
//!   at a time, so a reader that sees seq N has seen every change up to N.
//! - PostgreSQL: the snapshot (`pg_current_snapshot()`) the rows were read at.
//!   A change is a row whose `written_by` transaction that snapshot could not
//!   see; concurrent writers may take ids and commit in any order.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::index::{PersonRow, TenantIndex};
use crate::directory::{SchoolId, TenantId};
use crate::store::{Backend, Store, StoreError};

/// How far a tenant's index has read the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watermark {
    Seq(i64),
    Snapshot(String),
}

/// People and schools changed since a watermark, and the watermark after them.
pub type Changes = (Vec<PersonRow>, Vec<(SchoolId, String)>, Watermark);

/// What the keystroke's check found.
#[derive(Debug)]
pub enum Check {
    Fresh,
    Changed,
    /// The changes since the watermark were pruned from SQLite's log: the
    /// tenant must be read whole again.
    Reload,
}

/// More changed people than this since the index looked (an import ran) and
/// the tenant is read again whole rather than row by row.
const CHANGES_APPLIED_AT_MOST: i64 = 10_000;

/// Changes kept in SQLite's log beyond the newest; an index that read
/// last before them reloads its tenant.
pub(super) const LOG_KEPT: i64 = 200_000;
/// The most change-log entries [`Store::prune_directory_log`] deletes in one
/// transaction.
const PRUNE_CHUNK: i64 = 2_000;
/// The pause between two of those transactions.
const PRUNE_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

use super::load::{PERSON_COLUMNS, person};

fn person_from_row(row: &AnyRow) -> Result<PersonRow, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    person((
        text("id")?,
        text("role")?,
        row.try_get("school_id")?,
        text("district_id")?,
        row.try_get("disabled")?,
        row.try_get("grade")?,
        text("first_name")?,
        text("last_name")?,
        text("login")?,
        text("first_key")?,
        text("last_key")?,
        text("login_key")?,
    ))
}

/// PostgreSQL: whether tenant `tenant` (an SQL expression) has a user or
/// school row written by a transaction the snapshot `snapshot` (a parameter)
/// could not see. The one predicate of every change check.
pub(super) fn changed_since(tenant: &str, snapshot: &str) -> String {
    let exists = |table: &str| {
        format!(
            "EXISTS (SELECT 1 FROM ({}) r WHERE NOT pg_visible_in_snapshot(r.written_by, {snapshot}::pg_snapshot))",
            candidates(table, "c.written_by", tenant, snapshot)
        )
    };
    format!("({} OR {})", exists("users"), exists("schools"))
}

/// PostgreSQL: `columns` of the rows of `table` (alias `c`) of tenant
/// `tenant` that snapshot `snapshot` may not have seen, those written by a
/// transaction at or after its xmin, as a subquery whose rows have
/// `written_by`; the caller keeps those `pg_visible_in_snapshot` says it
/// could not see.
///
/// Read in `written_by` order, through the index on (tenant_id, written_by),
/// with a LIMIT no tenant reaches: that makes the index the plan whatever
/// the statistics say. Written as a plain range, the planner estimated a
/// third of the tenant for `written_by >= pg_snapshot_xmin(…)` once
/// `users` had statistics (after ANALYZE, or autovacuum's), and scanned the
/// table: measured at 100,000 users, 27 ms for every keystroke's check
/// (a third of a second at a million), against 0.1 ms through the index.
pub(super) fn candidates(table: &str, columns: &str, tenant: &str, snapshot: &str) -> String {
    format!(
        "SELECT {columns} FROM {table} c WHERE c.tenant_id = {tenant} \
         AND c.written_by >= pg_snapshot_xmin({snapshot}::pg_snapshot) \
         ORDER BY c.written_by LIMIT 9223372036854775807"
    )
}

/// PostgreSQL: the people of tenant `$1` written by a transaction snapshot
/// `$2` could not see, at most `$3`, each row with the statement's own
/// snapshot (`snap`; one row with no person when there is none).
///
/// Each changed id is looked up by the primary key on its own (`LATERAL`,
/// kept from being flattened by `OFFSET 0`), whatever the estimates: joined
/// as `u.id IN (…)`, the plan made without the values (which a prepared
/// statement may keep) hashed the changed ids and scanned the whole of
/// `users` against them, since it cannot know how few rows changed.
pub(super) fn unseen_people_sql() -> String {
    format!(
        "SELECT pg_current_snapshot()::text AS snap, {PERSON_COLUMNS} FROM (SELECT 1) one \
         LEFT JOIN (SELECT r.id FROM ({}) r \
         WHERE NOT pg_visible_in_snapshot(r.written_by, $2::pg_snapshot)) w ON true \
         LEFT JOIN LATERAL (SELECT * FROM users x WHERE x.id = w.id OFFSET 0) u ON true LIMIT $3",
        candidates("users", "c.id, c.written_by", "$1", "$2")
    )
}

/// PostgreSQL: rows (of alias `alias`, given with its dot) written by a
/// transaction snapshot `snapshot` could not see.
pub(super) fn unseen(alias: &str, snapshot: &str) -> String {
    format!(
        "{alias}written_by >= pg_snapshot_xmin({snapshot}::pg_snapshot) \
         AND NOT pg_visible_in_snapshot({alias}written_by, {snapshot}::pg_snapshot)"
    )
}

/// SQLite: the change log's newest entry and how far it was pruned, as
/// columns `dir_top` and `dir_pruned`.
pub(super) const LOG_HEAD: &str = "(SELECT COALESCE(MAX(seq), 0) FROM directory_changes) AS dir_top, \
     (SELECT pruned_through FROM directory_log WHERE id = 1) AS dir_pruned";

fn school_from_row(row: &AnyRow) -> Result<(SchoolId, String), StoreError> {
    let id: String = row.try_get("id")?;
    let id = SchoolId::parse(&id).map_err(|e| StoreError::Corrupt(format!("schools.id: {e}")))?;
    Ok((id, row.try_get("name")?))
}

/// SQLite: what the log's newest entry and prune point say to an index
/// that has applied everything up to `seen`.
pub(super) fn judge_log(top: i64, pruned: i64, seen: i64) -> Check {
    if pruned > seen {
        Check::Reload
    } else if top > seen {
        Check::Changed
    } else {
        Check::Fresh
    }
}

impl Store {
    /// The whole of `tenant`'s directory and the watermark it was read at,
    /// in one read transaction (one snapshot).
    pub(super) async fn load_directory(
        &self,
        tenant: TenantId,
    ) -> Result<(TenantIndex, Watermark), StoreError> {
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let mark = match self.backend {
            Backend::Sqlite => {
                let top: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM directory_changes")
                        .fetch_one(&mut *tx)
                        .await?;
                Watermark::Seq(top)
            }
            Backend::Postgres => {
                let snap: String = sqlx::query_scalar("SELECT pg_current_snapshot()::text")
                    .fetch_one(&mut *tx)
                    .await?;
                Watermark::Snapshot(snap)
            }
        };
        let schools = sqlx::query("SELECT id, name FROM schools WHERE tenant_id = $1")
            .bind(tenant.to_string())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(school_from_row)
            .collect::<Result<HashMap<_, _>, _>>()?;
        let mut index = TenantIndex::with_schools(schools);
        super::load::load_people(&mut tx, self.backend, tenant, &mut index).await?;
        index.finish();
        tx.commit().await?;
        Ok((index, mark))
    }

    /// Whether `tenant` changed since `mark`: one statement.
    pub(super) async fn check_directory(
        &self,
        tenant: TenantId,
        mark: &Watermark,
    ) -> Result<Check, StoreError> {
        match mark {
            Watermark::Seq(seen) => {
                let sql = format!("SELECT {LOG_HEAD}");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(judge_log(
                    row.try_get("dir_top")?,
                    row.try_get("dir_pruned")?,
                    *seen,
                ))
            }
            Watermark::Snapshot(snap) => {
                let sql = format!("SELECT {}", changed_since("$1", "$2"));
                let changed: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(tenant.to_string())
                    .bind(snap.clone())
                    .fetch_one(&self.pool)
                    .await?;
                Ok(if changed {
                    Check::Changed
                } else {
                    Check::Fresh
                })
            }
        }
    }

    /// The people and schools of `tenant` changed since `mark`, and the new
    /// watermark; `None` when more than [`CHANGES_APPLIED_AT_MOST`] people
    /// changed. A row may be newer than the new watermark (it was read a
    /// moment later); applying it early is harmless, it is read again.
    pub(super) async fn directory_changes(
        &self,
        tenant: TenantId,
        mark: &Watermark,
    ) -> Result<Option<Changes>, StoreError> {
        match mark {
            Watermark::Seq(seen) => self.logged_changes(tenant, *seen).await,
            Watermark::Snapshot(snap) => self.unseen_writes(tenant, snap).await,
        }
    }

    async fn logged_changes(
        &self,
        tenant: TenantId,
        seen: i64,
    ) -> Result<Option<Changes>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let top: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM directory_changes")
            .fetch_one(&mut *tx)
            .await?;
        // Entries of every tenant count: a bound that needs no count query.
        if top - seen > CHANGES_APPLIED_AT_MOST {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM users u WHERE u.id IN \
             (SELECT user_id FROM directory_changes WHERE seq > $1 AND seq <= $2 AND tenant_id = $3)"
        );
        let people = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(seen)
            .bind(top)
            .bind(tenant.to_string())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(person_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let schools = sqlx::query(
            "SELECT id, name FROM schools WHERE id IN \
             (SELECT school_id FROM directory_changes WHERE seq > $1 AND seq <= $2 AND tenant_id = $3)",
        )
        .bind(seen)
        .bind(top)
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(school_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok(Some((people, schools, Watermark::Seq(top))))
    }

    async fn unseen_writes(
        &self,
        tenant: TenantId,
        snap: &str,
    ) -> Result<Option<Changes>, StoreError> {
        // One statement, so the snapshot returned is the one the rows were
        // read at (pg_current_snapshot() is the statement's snapshot).
        let rows = sqlx::query(sqlx::AssertSqlSafe(unseen_people_sql()))
            .bind(tenant.to_string())
            .bind(snap.to_owned())
            .bind(CHANGES_APPLIED_AT_MOST + 1)
            .fetch_all(&self.pool)
            .await?;
        if rows.len() as i64 > CHANGES_APPLIED_AT_MOST {
            return Ok(None);
        }
        let mut next = snap.to_owned();
        let mut people = Vec::new();
        for row in &rows {
            next = row.try_get("snap")?;
            if row.try_get::<Option<String>, _>("id")?.is_some() {
                people.push(person_from_row(row)?);
            }
        }
        // Read after the people, so it covers at least what their snapshot saw.
        let sql = format!(
            "SELECT id, name FROM schools WHERE tenant_id = $1 AND {}",
            unseen("", "$2")
        );
        let schools = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(snap.to_owned())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(school_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((people, schools, Watermark::Snapshot(next))))
    }

    /// Drops SQLite's change log but the newest [`LOG_KEPT`] entries, noting
    /// how far it was pruned (nothing to do on PostgreSQL, which keeps no log).
    ///
    /// In transactions of at most [`PRUNE_CHUNK`] entries, [`PRUNE_PAUSE`]
    /// apart: after the first import of a district of a million users the
    /// log holds a million, and deleting 800,000 of them in one transaction
    /// held the writer from every other write that long (an edit's p99 was
    /// 157-193 ms at 1,000,000 users).
    pub(crate) async fn prune_directory_log(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let top: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM directory_changes")
            .fetch_one(&self.pool)
            .await?;
        let below = top - LOG_KEPT;
        if below < 1 {
            return Ok(());
        }
        loop {
            let mut tx = self.begin_write().await?;
            let lowest: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM directory_changes")
                .fetch_one(&mut *tx)
                .await?;
            let Some(lowest) = lowest.filter(|lowest| *lowest <= below) else {
                tx.commit().await?;
                return Ok(());
            };
            let through = (lowest + PRUNE_CHUNK - 1).min(below);
            sqlx::query("DELETE FROM directory_changes WHERE seq <= $1")
                .bind(through)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE directory_log SET pruned_through = $1 WHERE id = 1 AND pruned_through < $1",
            )
            .bind(through)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            // Background work: leave the writer to the edits in between.
            tokio::time::sleep(PRUNE_PAUSE).await;
        }
    }
}
