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
use crate::directory::{DistrictId, Grade, Place, Role, SchoolId, TenantId, UserId};
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
const LOG_KEPT: i64 = 200_000;

const PERSON_COLUMNS: &str = "u.id, u.role, u.school_id, u.district_id, u.disabled, u.grade, \
     u.first_name, u.last_name, u.login, u.first_key, u.last_key, u.login_key";

fn corrupt(column: &str) -> impl Fn(crate::directory::ParseError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("users.{column}: {e}"))
}

fn person_from_row(row: &AnyRow) -> Result<PersonRow, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    let district = DistrictId::parse(&text("district_id")?).map_err(corrupt("district_id"))?;
    let place = match row.try_get::<Option<String>, _>("school_id")? {
        Some(school) => Place::School {
            school: SchoolId::parse(&school).map_err(corrupt("school_id"))?,
            district,
        },
        None => Place::District { district },
    };
    Ok(PersonRow {
        id: UserId::parse(&text("id")?).map_err(corrupt("id"))?,
        role: Role::parse(&text("role")?).map_err(corrupt("role"))?,
        place,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        grade: row
            .try_get::<Option<String>, _>("grade")?
            .map(|g| Grade::parse(&g))
            .transpose()
            .map_err(corrupt("grade"))?,
        first_name: text("first_name")?,
        last_name: text("last_name")?,
        login: text("login")?,
        first_key: text("first_key")?,
        last_key: text("last_key")?,
        login_key: text("login_key")?,
    })
}

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
                let row = sqlx::query(
                    "SELECT (SELECT COALESCE(MAX(seq), 0) FROM directory_changes) AS top, \
                     pruned_through FROM directory_log WHERE id = 1",
                )
                .fetch_one(&self.pool)
                .await?;
                let (top, pruned): (i64, i64) =
                    (row.try_get("top")?, row.try_get("pruned_through")?);
                Ok(if pruned > *seen {
                    Check::Reload
                } else if top > *seen {
                    Check::Changed
                } else {
                    Check::Fresh
                })
            }
            Watermark::Snapshot(snap) => {
                let changed: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 \
                       AND written_by >= pg_snapshot_xmin($2::pg_snapshot) \
                       AND NOT pg_visible_in_snapshot(written_by, $2::pg_snapshot)) \
                     OR EXISTS (SELECT 1 FROM schools WHERE tenant_id = $1 \
                       AND written_by >= pg_snapshot_xmin($2::pg_snapshot) \
                       AND NOT pg_visible_in_snapshot(written_by, $2::pg_snapshot))",
                )
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
        let sql = format!(
            "SELECT pg_current_snapshot()::text AS snap, {PERSON_COLUMNS} FROM (SELECT 1) one \
             LEFT JOIN users u ON u.tenant_id = $1 \
               AND u.written_by >= pg_snapshot_xmin($2::pg_snapshot) \
               AND NOT pg_visible_in_snapshot(u.written_by, $2::pg_snapshot) \
             LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let schools = sqlx::query(
            "SELECT id, name FROM schools WHERE tenant_id = $1 \
               AND written_by >= pg_snapshot_xmin($2::pg_snapshot) \
               AND NOT pg_visible_in_snapshot(written_by, $2::pg_snapshot)",
        )
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
    pub(crate) async fn prune_directory_log(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let top: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM directory_changes")
            .fetch_one(&mut *tx)
            .await?;
        let below = top - LOG_KEPT;
        if below > 0 {
            sqlx::query("DELETE FROM directory_changes WHERE seq <= $1")
                .bind(below)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE directory_log SET pruned_through = $1 WHERE id = 1 AND pruned_through < $1",
            )
            .bind(below)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
