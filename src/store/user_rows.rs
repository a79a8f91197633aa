//! Writing a user's row: the one UPDATE (optimistic, by version, checking the
//! place belongs to the tenant) and the one INSERT every path shares, so the
//! commands, the console and the roster import write users alike.

use super::hierarchy::search_key;
use super::{StoreError, time};
use crate::directory::User;

/// Rewrites the record read at `before.version` as `after`. `Ok(false)` when
/// nothing was written: the record changed since it was read, or the place is
/// not a school of the district in the tenant (a school named with the wrong
/// district, or a district of another tenant).
pub(crate) async fn write_user_row(
    conn: &mut sqlx::AnyConnection,
    before: &User,
    after: &User,
) -> Result<bool, StoreError> {
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
        Err(e) if StoreError::is_unique_violation_on(&e, "login_key") => {
            Err(StoreError::LoginTaken(after.login.to_string()))
        }
        Err(e) => Err(e.into()),
        Ok(r) if r.rows_affected() == 0 => Ok(false),
        Ok(_) => {
            // Reset links went to the old address: a new login ends them.
            if before.login != after.login {
                super::reset_tokens::end_links_of(conn, before.id, after.updated_at, None).await?;
            }
            Ok(true)
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the 18 values of a new user row, in the column order of the INSERTs
/// (`id` … `version`, then `updated_at`, which is also the creation time).
pub(crate) fn bind_new_user<'q>(query: AnyQuery<'q>, user: &User) -> AnyQuery<'q> {
    query
        .bind(user.id.to_string())
        .bind(user.tenant_id.to_string())
        .bind(user.login.as_str().to_owned())
        .bind(user.login.key())
        .bind(user.first_name.as_str().to_owned())
        .bind(user.last_name.as_str().to_owned())
        .bind(search_key(user.first_name.as_str()))
        .bind(search_key(user.last_name.as_str()))
        .bind(user.role.as_str())
        .bind(user.place.school().map(|s| s.to_string()))
        .bind(user.place.district().to_string())
        .bind(user.grade.map(|g| g.code()))
        .bind(user.title.as_ref().map(|t| t.as_str().to_owned()))
        .bind(i64::from(user.must_change_password))
        .bind(i64::from(user.disabled))
        .bind(user.source_id.clone())
        .bind(user.version)
        .bind(time::encode(user.updated_at))
}

pub(crate) async fn insert_user_row(
    conn: &mut sqlx::AnyConnection,
    user: &User,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, role, \
         school_id, district_id, grade, title, must_change_password, disabled, source_id, version, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18 \
         WHERE EXISTS (SELECT 1 FROM districts d WHERE d.id = $11 AND d.tenant_id = $2) \
         AND ($10 IS NULL OR EXISTS (SELECT 1 FROM schools s WHERE s.id = $10 AND s.district_id = $11))",
    );
    let result = bind_new_user(query, user).execute(&mut *conn).await;
    match result {
        Err(e) if StoreError::is_unique_violation_on(&e, "login_key") => {
            Err(StoreError::LoginTaken(user.login.to_string()))
        }
        Err(e) => Err(e.into()),
        Ok(r) if r.rows_affected() == 0 => Err(StoreError::NotFound),
        Ok(_) => Ok(()),
    }
}
