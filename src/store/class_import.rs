//! Classes and enrolments for the OneRoster import (`crate::roster`).
//!
//! Promises: the tenant's classes, enrolments and imported users load in one
//! query each, so the import decides create, update, unchanged and end in
//! memory; the class step reads and writes through one connection of its own
//! ([`ClassImport`]), closed afterwards; a batch of class or enrolment writes commits in one transaction,
//! with multi-row statements (keyed by the tenant and the `sourcedId`, so a
//! write lands on the same row however often it is repeated); and an ended
//! class takes its enrolments with it (ON DELETE CASCADE).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection, Row};

use super::classes::{CLASS_COLUMNS, class_from_row};
use super::hierarchy::search_key;
use super::roster::values_list;
use super::{Backend, Store, StoreError, time};
use crate::directory::{Class, ClassId, ClassRole, Role, TenantId, UserId};

/// One enrolment as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnrollmentRow {
    pub source_id: String,
    pub class_id: ClassId,
    pub user_id: UserId,
    pub role: ClassRole,
}

/// What an enrolment needs of an imported user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RosterUserRef {
    pub id: UserId,
    pub role: Role,
}

/// Rows per multi-row statement: 500 × 10 parameters, well within both backends' limits.
const ROWS_PER_STATEMENT: usize = 500;

fn corrupt(what: &'static str) -> impl Fn(crate::directory::ParseError) -> StoreError {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

impl Store {
    /// The class step's connection, taken from the pool for the step. On
    /// SQLite it reads without the memory map the service's connections
    /// use: the step reads the tenant's whole users table once, and mapped
    /// pages would count into the process's resident memory again beside
    /// the users step's (measured at 100,000 users, debug build: a peak of
    /// 430 to 980 MB with the map, 210 to 220 MB without, against 200 MB for
    /// the same bundle without classes); its page cache is bounded instead.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn class_import(&self) -> Result<ClassImport, StoreError> {
        let mut conn = self.pool.acquire().await?;
        // The tuning below stays with the connection: close it, not return it.
        conn.close_on_drop();
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA mmap_size = 0")
                .execute(&mut *conn)
                .await?;
        }
        Ok(ClassImport {
            conn,
            backend: self.backend,
        })
    }
}

/// The class step's own connection; see [`Store::class_import`].
pub(crate) struct ClassImport {
    conn: PoolConnection<Any>,
    backend: Backend,
}

impl ClassImport {
    /// As `Store::begin_write`: on SQLite, take the write lock up front.
    async fn begin_write(&mut self) -> Result<sqlx::Transaction<'_, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.conn.begin().await?,
        })
    }

    /// Every class of the tenant.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn tenant_classes(
        &mut self,
        tenant: TenantId,
    ) -> Result<Vec<Class>, StoreError> {
        let sql = format!("SELECT {CLASS_COLUMNS} FROM classes c WHERE c.tenant_id = $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .fetch_all(&mut *self.conn)
            .await?;
        rows.iter().map(class_from_row).collect()
    }

    /// Every enrolment of the tenant.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn tenant_enrollments(
        &mut self,
        tenant: TenantId,
    ) -> Result<Vec<EnrollmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT source_id, class_id, user_id, role FROM enrollments WHERE tenant_id = $1",
        )
        .bind(tenant.to_string())
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                Ok(EnrollmentRow {
                    source_id: row.try_get("source_id")?,
                    class_id: ClassId::parse(&row.try_get::<String, _>("class_id")?)
                        .map_err(corrupt("enrollments.class_id"))?,
                    user_id: UserId::parse(&row.try_get::<String, _>("user_id")?)
                        .map_err(corrupt("enrollments.user_id"))?,
                    role: ClassRole::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("enrollments.role: {role}")))?,
                })
            })
            .collect()
    }

    /// The tenant's users that came from a roster, by `sourcedId`.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn roster_user_refs(
        &mut self,
        tenant: TenantId,
    ) -> Result<HashMap<String, RosterUserRef>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, source_id, role FROM users WHERE tenant_id = $1 AND source_id IS NOT NULL",
        )
        .bind(tenant.to_string())
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| {
                let id =
                    UserId::parse(&row.try_get::<String, _>("id")?).map_err(corrupt("users.id"))?;
                let role = Role::parse(&row.try_get::<String, _>("role")?)
                    .map_err(corrupt("users.role"))?;
                Ok((row.try_get("source_id")?, RosterUserRef { id, role }))
            })
            .collect()
    }

    /// Creates or rewrites `upserts` and deletes `ended` (with their
    /// enrolments), in one transaction.
    #[tracing::instrument(skip_all, fields(upserts = upserts.len(), ended = ended.len()))]
    pub(crate) async fn write_classes(
        &mut self,
        tenant: TenantId,
        upserts: &[Class],
        ended: &[ClassId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let backend = self.backend;
        let mut tx = self.begin_write().await?;
        for chunk in upserts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO classes (id, tenant_id, district_id, school_id, source_id, title, title_key, \
                 class_code, code_key, updated_at) VALUES {} ON CONFLICT (tenant_id, source_id) DO UPDATE SET \
                 district_id = excluded.district_id, school_id = excluded.school_id, title = excluded.title, \
                 title_key = excluded.title_key, class_code = excluded.class_code, code_key = excluded.code_key, \
                 updated_at = excluded.updated_at",
                values_list(backend, chunk.len(), 10)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for class in chunk {
                query = query
                    .bind(class.id.to_string())
                    .bind(class.tenant_id.to_string())
                    .bind(class.district_id.to_string())
                    .bind(class.school_id.to_string())
                    .bind(class.sourced_id.clone())
                    .bind(class.title.clone())
                    .bind(search_key(&class.title))
                    .bind(class.class_code.clone())
                    .bind(class.class_code.as_deref().map(search_key))
                    .bind(time::encode(at));
            }
            query.execute(&mut *tx).await?;
        }
        let ended: Vec<String> = ended.iter().map(ClassId::to_string).collect();
        delete_in(&mut tx, backend, "classes", "id", tenant, &ended).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates or rewrites `upserts` and deletes the enrolments `ended` (by
    /// `sourcedId`), in one transaction.
    #[tracing::instrument(skip_all, fields(upserts = upserts.len(), ended = ended.len()))]
    pub(crate) async fn write_enrollments(
        &mut self,
        tenant: TenantId,
        upserts: &[EnrollmentRow],
        ended: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let backend = self.backend;
        let mut tx = self.begin_write().await?;
        // Ends first: an ended enrolment may free the (class, user) pair a new one takes.
        delete_in(&mut tx, backend, "enrollments", "source_id", tenant, ended).await?;
        for chunk in upserts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO enrollments (tenant_id, source_id, class_id, user_id, role, updated_at) VALUES {} \
                 ON CONFLICT (tenant_id, source_id) DO UPDATE SET class_id = excluded.class_id, \
                 user_id = excluded.user_id, role = excluded.role, updated_at = excluded.updated_at",
                values_list(backend, chunk.len(), 6)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                query = query
                    .bind(tenant.to_string())
                    .bind(e.source_id.clone())
                    .bind(e.class_id.to_string())
                    .bind(e.user_id.to_string())
                    .bind(e.role.as_str())
                    .bind(time::encode(at));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `DELETE FROM table WHERE tenant_id = … AND column IN (keys)`, in chunks.
async fn delete_in(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &'static str,
    column: &'static str,
    tenant: TenantId,
    keys: &[String],
) -> Result<(), StoreError> {
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        // values_list numbers PostgreSQL's parameters from $1; the tenant goes last.
        let list = values_list(backend, chunk.len(), 1);
        let tenant_param = match backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${}", chunk.len() + 1),
        };
        let sql = format!(
            "DELETE FROM {table} WHERE {column} IN ({list}) AND tenant_id = {tenant_param}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(key.clone());
        }
        query.bind(tenant.to_string()).execute(&mut *conn).await?;
    }
    Ok(())
}
