//! Moves that could leave a district without a district admin.
//!
//! The promise: a district never loses its last enabled district admin to a
//! move or a role switch, even when two district admins demote or move each
//! other at the same moment. The check and the change are one transaction:
//!
//! * on PostgreSQL the enabled district admins of the district are locked
//!   (`SELECT … FOR UPDATE`, in id order so two movers never deadlock); the
//!   second of two concurrent movers waits, then re-reads the rows the first
//!   changed and sees one admin fewer;
//! * on SQLite every write transaction starts with `BEGIN IMMEDIATE`, so the
//!   count is read under the database's single write lock.
//!
//! A disabled district admin does not count: they cannot act for the district
//! (policy refuses every request of a disabled actor), so keeping one would
//! leave a district nobody can run.

use super::{Backend, Store, StoreError};
use crate::audit::AuditEntry;
use crate::directory::{Role, User};
use crate::store::UserChanges;

impl Store {
    /// [`Store::update_user`] for a move or role switch: refused with
    /// [`StoreError::LastDistrictAdmin`] when `before` is an enabled district
    /// admin the change would take out of their district's district admins
    /// and no other enabled district admin of that district remains.
    #[tracing::instrument(skip(self, before, changes, audit), fields(user = %before.id, version = before.version))]
    pub async fn move_user(
        &self,
        before: &User,
        changes: &UserChanges,
        audit: AuditEntry,
    ) -> Result<User, StoreError> {
        let mut after = changes.apply_to(before);
        if after == *before {
            return Ok(after);
        }
        if !after.place.fits(after.role) {
            return Err(StoreError::NotFound);
        }
        after.version = before.version + 1;
        after.updated_at = audit.at;
        let mut tx = self.begin_write().await?;
        if leaves_district_admins(before, &after)
            && self.lock_other_district_admins(&mut tx, before).await? == 0
        {
            return Err(StoreError::LastDistrictAdmin);
        }
        self.finish_update(tx, before, after, audit).await
    }

    /// Locks the enabled district admins of `target`'s district and counts
    /// those other than `target`.
    async fn lock_other_district_admins(
        &self,
        conn: &mut sqlx::AnyConnection,
        target: &User,
    ) -> Result<usize, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(lock_district_admins_sql(self.backend)))
            .bind(target.tenant_id.to_string())
            .bind(target.place.district().to_string())
            .fetch_all(&mut *conn)
            .await?;
        let target_id = target.id.to_string();
        let mut others = 0;
        for row in &rows {
            let id: String = sqlx::Row::try_get(row, "id")?;
            if id != target_id {
                others += 1;
            }
        }
        Ok(others)
    }
}

/// The enabled district admins of district `$2` in tenant `$1`, in the words
/// of the partial index `users_district_admins` (migration 170), so both
/// planners read that index rather than the tenant's users.
const ENABLED_DISTRICT_ADMINS: &str = "FROM users WHERE tenant_id = $1 AND district_id = $2 \
     AND role = 'district_admin' AND disabled = 0";

/// Counts the enabled district admins of a district ([`Store::count_district_admins`]).
pub(super) fn count_district_admins_sql() -> String {
    format!("SELECT COUNT(*) AS n {ENABLED_DISTRICT_ADMINS}")
}

/// Reads, and on PostgreSQL locks, the enabled district admins of a district.
pub(super) fn lock_district_admins_sql(backend: Backend) -> String {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    format!("SELECT id {ENABLED_DISTRICT_ADMINS} ORDER BY id{lock}")
}

/// Whether the change takes an enabled district admin out of the district
/// admins of their district (a role switch, a move to another district).
fn leaves_district_admins(before: &User, after: &User) -> bool {
    before.role == Role::DistrictAdmin
        && !before.disabled
        && (after.role != Role::DistrictAdmin
            || after.place.district() != before.place.district()
            || after.disabled)
}

#[cfg(test)]
#[path = "district_admins_tests.rs"]
mod district_admins_tests;
