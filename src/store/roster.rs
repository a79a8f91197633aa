//! Bulk operations for the OneRoster import (`crate::roster`). Promises:
//!
//! * a batch of creates and updates commits in one transaction, every record
//!   together with its audit entry: a batch is written whole or not at all;
//! * an update names the version the import read, as [`Store::update_user`]
//!   does, so an edit made while the import ran is never silently overwritten;
//! * the tenant's users load in one query, so the import decides create,
//!   update and unchanged in memory and the database does not see a constraint
//!   failure in normal operation.

use serde_json::{Map, Value};

use super::hierarchy::search_key;
use super::rows::{USER_COLUMNS, USER_FROM, user_from_row};
use super::users::{audit_fields, diff, insert_user_row};
use super::{Store, StoreError, audit, time};
use crate::audit::{Action, AuditEntry};
use crate::directory::{TenantId, User};

/// One record the import writes: a new user (`before` is `None`) or the new
/// state of an existing one, with the audit action that describes the change.
#[derive(Debug, Clone)]
pub(crate) struct RosterWrite {
    pub before: Option<User>,
    pub after: User,
    pub action: Action,
}

impl Store {
    /// Every user of the tenant, with or without a `source_id`: the import
    /// needs them all to find records by `sourcedId` and taken logins.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn tenant_users(&self, tenant: TenantId) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.tenant_id = $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string()).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Writes `writes` and their audit entries in one transaction. `template`
    /// gives each entry its tenant, time, actor and origin; the action, the
    /// target and the changed fields come from the write itself.
    #[tracing::instrument(skip(self, writes, template), fields(rows = writes.len()))]
    pub(crate) async fn write_roster_batch(&self, writes: &[RosterWrite], template: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for write in writes {
            let (old, new) = match &write.before {
                None => {
                    insert_user_row(&mut tx, &write.after).await?;
                    (Value::Object(Map::new()), Value::Object(audit_fields(&write.after)))
                }
                Some(before) => {
                    update_user_row(&mut tx, before, &write.after).await?;
                    diff(before, &write.after)
                }
            };
            let entry = AuditEntry { action: write.action, ..template.clone() }
                .target(write.after.id, write.after.display_name())
                .change(old, new);
            audit::insert(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Rewrites a record read at `before.version` as `after`, with the same checks
/// as [`Store::update_user`]: the place must be in the tenant, and the record
/// must not have changed since it was read.
async fn update_user_row(conn: &mut sqlx::AnyConnection, before: &User, after: &User) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE users SET login = $1, login_key = $2, first_name = $3, last_name = $4, first_key = $5, \
         last_key = $6, role = $7, school_id = $8, district_id = $9, grade = $10, title = $11, disabled = $12, \
         version = version + 1, updated_at = $13 \
         WHERE id = $14 AND tenant_id = $15 AND version = $16 \
         AND EXISTS (SELECT 1 FROM districts d WHERE d.id = $9 AND d.tenant_id = $15) \
         AND ($8 IS NULL OR EXISTS (SELECT 1 FROM schools s WHERE s.id = $8 AND s.district_id = $9))",
    )
    .bind(after.login.as_str().to_owned())
    .bind(after.login.key())
    .bind(after.first_name.as_str().to_owned())
    .bind(after.last_name.as_str().to_owned())
    .bind(search_key(after.first_name.as_str()))
    .bind(search_key(after.last_name.as_str()))
    .bind(after.role.as_str())
    .bind(after.place.school().map(|s| s.to_string()))
    .bind(after.place.district().to_string())
    .bind(after.grade.map(|g| g.code()))
    .bind(after.title.as_ref().map(|t| t.as_str().to_owned()))
    .bind(i64::from(after.disabled))
    .bind(time::encode(after.updated_at))
    .bind(before.id.to_string())
    .bind(before.tenant_id.to_string())
    .bind(before.version)
    .execute(&mut *conn)
    .await;
    match result {
        Err(e) if StoreError::is_unique_violation_on(&e, "login_key") => Err(StoreError::LoginTaken(after.login.to_string())),
        Err(e) => Err(e.into()),
        // Either someone changed the record since the import read it, or the
        // place left the tenant; both mean "read it again", never "overwrite".
        Ok(r) if r.rows_affected() == 0 => Err(StoreError::Conflict),
        Ok(_) => Ok(()),
    }
}
