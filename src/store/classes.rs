//! Classes and enrolments, as the class commands read them: the autocomplete
//! search within an actor's [`ClassScope`], one class by id, whether a teacher
//! teaches a class, and a class's students. (The roster import writes them,
//! through `class_import.rs`.)
//!
//! Promises: every query is a range of one index at any size (classes by
//! school or district and title or code, enrolments by class and by user);
//! nothing is read across tenants (a class id of another tenant is "no such
//! class"); and a student stays enrolled wherever their record moves, until
//! the roster ends the enrolment (a move is not the roster's word on classes).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::hierarchy::prefix_range;
use super::rows::{USER_COLUMNS, USER_FROM, user_from_row};
use super::{Store, StoreError};
use crate::directory::{Class, ClassId, DistrictId, SchoolId, TenantId, User, UserId};
use crate::policy::ClassScope;

/// The columns every class query selects, as `c`.
pub(super) const CLASS_COLUMNS: &str =
    "c.id, c.tenant_id, c.district_id, c.school_id, c.source_id, c.title, c.class_code";

fn corrupt(column: &'static str) -> impl Fn(crate::directory::ParseError) -> StoreError {
    move |e| StoreError::Corrupt(format!("classes.{column}: {e}"))
}

pub(super) fn class_from_row(row: &AnyRow) -> Result<Class, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    Ok(Class {
        id: ClassId::parse(&text("id")?).map_err(corrupt("id"))?,
        tenant_id: TenantId::parse(&text("tenant_id")?).map_err(corrupt("tenant_id"))?,
        district_id: DistrictId::parse(&text("district_id")?).map_err(corrupt("district_id"))?,
        school_id: SchoolId::parse(&text("school_id")?).map_err(corrupt("school_id"))?,
        sourced_id: text("source_id")?,
        title: text("title")?,
        class_code: row.try_get::<Option<String>, _>("class_code")?,
    })
}

impl Store {
    /// Classes in `scope` of `tenant` whose title or class code starts with `typed` (case-insensitive;
    /// empty = any), ordered by title, at most `limit`.
    #[tracing::instrument(skip(self))]
    pub async fn search_classes(
        &self,
        tenant: TenantId,
        scope: &ClassScope,
        typed: &str,
        limit: u32,
    ) -> Result<Vec<Class>, StoreError> {
        let (low, high) = prefix_range(typed);
        let (column, scope_id) = match scope {
            ClassScope::Nothing => return Ok(Vec::new()),
            ClassScope::Taught { teacher } => {
                return self.taught(tenant, *teacher, typed, limit).await;
            }
            ClassScope::School(s) => ("school_id", s.to_string()),
            ClassScope::District(d) => ("district_id", d.to_string()),
        };
        // One range of classes_by_{school,district}_title, and (when something
        // is typed) one of ..._code, each capped at `limit` in title order and
        // merged. The code branch reads only the classes whose code starts
        // with what was typed, so sorting them by title is cheap; with nothing
        // typed every class matches by title and the branch is left out. The
        // tenant is checked on the rows returned through `|| ''`, which no
        // index serves, so the planner drives by the scope's range (as in
        // search.rs) and not by the tenant's UNIQUE (tenant_id, source_id).
        let branch = |key: &str| {
            format!(
                "SELECT id FROM (SELECT x.id FROM classes x WHERE x.{column} = $2 \
                 AND x.{key} >= $3 AND x.{key} < $4 ORDER BY x.title_key, x.title, x.id LIMIT $5)"
            )
        };
        let ids = if typed.trim().is_empty() {
            format!("{} a", branch("title_key"))
        } else {
            format!("{} a UNION {} b", branch("title_key"), branch("code_key"))
        };
        let sql = format!(
            "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.tenant_id || '' = $1 AND c.id IN ({ids}) \
             ORDER BY c.title_key, c.title, c.id LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(scope_id)
            .bind(low)
            .bind(high)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(class_from_row).collect()
    }

    /// The classes `teacher` teaches (a few), read by enrollments_by_user.
    async fn taught(
        &self,
        tenant: TenantId,
        teacher: UserId,
        typed: &str,
        limit: u32,
    ) -> Result<Vec<Class>, StoreError> {
        let (low, high) = prefix_range(typed);
        let sql = format!(
            "SELECT {CLASS_COLUMNS} FROM enrollments e JOIN classes c ON c.id = e.class_id \
             WHERE e.user_id = $2 AND e.role = 'teacher' AND c.tenant_id = $1 \
             AND ((c.title_key >= $3 AND c.title_key < $4) OR (c.code_key >= $3 AND c.code_key < $4)) \
             ORDER BY c.title_key, c.title, c.id LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(teacher.to_string())
            .bind(low)
            .bind(high)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(class_from_row).collect()
    }

    /// The class `id` of `tenant`; `None` when there is none, or it is another tenant's.
    #[tracing::instrument(skip(self))]
    pub async fn class_by_id(
        &self,
        tenant: TenantId,
        id: ClassId,
    ) -> Result<Option<Class>, StoreError> {
        let sql =
            format!("SELECT {CLASS_COLUMNS} FROM classes c WHERE c.id = $1 AND c.tenant_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(tenant.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(class_from_row).transpose()
    }

    /// The class of `tenant` the roster calls `sourced_id` (`hallpass cards
    /// --class` takes either this or the id).
    #[tracing::instrument(skip(self))]
    pub async fn class_by_sourced_id(
        &self,
        tenant: TenantId,
        sourced_id: &str,
    ) -> Result<Option<Class>, StoreError> {
        let sql = format!(
            "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.tenant_id = $1 AND c.source_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(sourced_id.trim().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(class_from_row).transpose()
    }

    /// Whether `teacher` is enrolled in `class` with role teacher.
    #[tracing::instrument(skip(self))]
    pub async fn teaches(&self, teacher: UserId, class: ClassId) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS ok FROM enrollments WHERE class_id = $1 AND role = 'teacher' AND user_id = $2",
        )
        .bind(class.to_string())
        .bind(teacher.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// The users enrolled in `class` as students (any account state; the caller decides), ordered by
    /// family name, given name, login.
    #[tracing::instrument(skip(self))]
    pub async fn class_students(&self, class: ClassId) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM {USER_FROM} JOIN enrollments e ON e.user_id = u.id \
             WHERE e.class_id = $1 AND e.role = 'student' \
             ORDER BY u.last_key, u.first_key, u.login_key, u.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(class.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }
}
