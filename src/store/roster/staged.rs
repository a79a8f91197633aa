//! The import's new records on SQLite. Promise: the rows written are exactly
//! those of one multi-row INSERT of the whole batch into `users`, in the
//! batch's order, under the same constraints (a login taken meanwhile fails
//! the statement and so the batch, which is then split to find the row).
//!
//! A batch's rows are bound in multi-row statements of [`ROWS_PER_STATEMENT`]
//! into a temporary table of the import's own connection (no keys, no
//! indexes, in memory), then moved into `users` by one INSERT ... SELECT.
//! Measured (SQLite, 100,000 users into the real schema, batches of 25,000):
//! 50 INSERTs of 500 rows into `users` a batch took about 1.4 times as long
//! as one statement of the whole batch, because each statement of a
//! transaction that may abort halfway journals every index page it touches
//! first, and a batch's rows are spread over every leaf of every index, so
//! each page was journaled once per statement rather than once per batch.
//! Staging the rows costs about what the bare-table insert does.

use crate::directory::User;
use crate::store::{StoreError, time};

/// Rows per multi-row INSERT: 500 users bind 9,500 parameters, within
/// SQLite's limit (32,766).
const ROWS_PER_STATEMENT: usize = 500;

const COLUMNS: &str = "id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, role, \
     school_id, district_id, grade, title, must_change_password, disabled, source_id, version, created_at, \
     updated_at";

/// Inserts new records (their places checked) through the staging table.
pub(super) async fn insert_users(
    conn: &mut sqlx::AnyConnection,
    users: &[&User],
) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    // Created in the batch's transaction, so a refused batch takes it away
    // with it; it lives as long as the import's connection.
    let create = format!("CREATE TEMP TABLE IF NOT EXISTS roster_new_users ({COLUMNS})");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM temp.roster_new_users")
        .execute(&mut *conn)
        .await?;
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        stage(conn, chunk).await?;
    }
    let insert = format!(
        "INSERT INTO main.users ({COLUMNS}) SELECT {COLUMNS} FROM temp.roster_new_users ORDER BY rowid"
    );
    sqlx::query(sqlx::AssertSqlSafe(insert))
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM temp.roster_new_users")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn stage(conn: &mut sqlx::AnyConnection, users: &[&User]) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO temp.roster_new_users ({COLUMNS}) VALUES {}",
        super::values_list(crate::store::Backend::Sqlite, users.len(), 19)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for user in users {
        // created_at and updated_at are the same moment for a new row.
        query =
            crate::store::user_rows::bind_new_user(query, user).bind(time::encode(user.updated_at));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
