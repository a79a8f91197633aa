//! Appending to and reading the audit log, and gathering the outcomes one
//! interaction's entries were written with ([`AuditedOutcomes`]).

use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::roster::values_list;
use super::{Backend, Store, StoreError, time};
use crate::audit::{AuditEntry, AuditEvent, AuditQuery, Origin, Outcome};

tokio::task_local! {
    static GATHERING: AuditedOutcomes;
}

/// The outcomes of the audit entries written for one interaction while a
/// future runs ([`AuditedOutcomes::gather`]), so that what an interaction came
/// to is known without reading the log back (`/metrics` counts it for every
/// command). An entry counts when it is written by this task with the
/// interaction's id as its origin, as a query of the log by that id would
/// find it. Cheap to clone (clones share the list).
#[derive(Debug, Clone, Default)]
pub struct AuditedOutcomes {
    interaction_id: Arc<str>,
    seen: Arc<Mutex<Vec<Outcome>>>,
}

impl AuditedOutcomes {
    /// Runs `work`, noting the outcome of every audit entry it writes whose
    /// origin is `interaction_id`.
    pub async fn gather<F: Future>(interaction_id: &str, work: F) -> (F::Output, Self) {
        let gathered = Self {
            interaction_id: Arc::from(interaction_id),
            seen: Arc::default(),
        };
        let output = GATHERING.scope(gathered.clone(), work).await;
        (output, gathered)
    }

    /// What the interaction came to: `Failed` if any entry failed, else
    /// `Refused` if any was refused, else `Applied`; `None` with no entry.
    pub fn outcome(&self) -> Option<Outcome> {
        let seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        [Outcome::Failed, Outcome::Refused, Outcome::Applied]
            .into_iter()
            .find(|o| seen.contains(o))
    }

    /// Notes `entry`, just written, if an interaction's outcomes are being
    /// gathered in this task and the entry is one of its own.
    fn note(entry: &AuditEntry) {
        let _ = GATHERING.try_with(|gathering| {
            if entry.origin.interaction_id.as_deref() == Some(&*gathering.interaction_id) {
                let mut seen = match gathering.seen.lock() {
                    Ok(seen) => seen,
                    Err(poisoned) => poisoned.into_inner(),
                };
                seen.push(entry.outcome);
            }
        });
    }
}

/// Appends one entry on the given connection (inside the caller's transaction).
pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, at, actor_user_id, actor_discord_id, actor_label, action, \
         target_user_id, target_label, outcome, reason, before_json, after_json, guild_id, channel_id, \
         interaction_id, api_caller) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(entry.tenant_id.map(|t| t.to_string()))
    .bind(time::encode(entry.at))
    .bind(entry.actor.user_id.map(|u| u.to_string()))
    .bind(entry.actor.discord_user_id.map(|d| d.to_string()))
    .bind(entry.actor.label.clone())
    .bind(entry.action.as_str())
    .bind(entry.target_user_id.map(|u| u.to_string()))
    .bind(entry.target_label.clone())
    .bind(entry.outcome.as_str())
    .bind(entry.reason.clone())
    .bind(entry.before.as_ref().map(Value::to_string))
    .bind(entry.after.as_ref().map(Value::to_string))
    .bind(entry.origin.guild_id.clone())
    .bind(entry.origin.channel_id.clone())
    .bind(entry.origin.interaction_id.clone())
    .bind(entry.origin.api_caller.clone())
    .execute(&mut *conn)
    .await?;
    AuditedOutcomes::note(entry);
    Ok(())
}

/// Appends many entries (inside the caller's transaction): the same rows as
/// [`insert`] would write one by one, in order. PostgreSQL takes them all in
/// one statement (`roster::bulk`); SQLite in multi-row statements of 500
/// (17 parameters each, within its limit of 32,766).
pub(crate) async fn insert_many(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        return super::roster::bulk::insert_audit(conn, entries).await;
    }
    for chunk in entries.chunks(500) {
        insert_sqlite_rows(conn, chunk).await?;
    }
    Ok(())
}

async fn insert_sqlite_rows(
    conn: &mut sqlx::AnyConnection,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let backend = Backend::Sqlite;
    let sql = format!(
        "INSERT INTO audit_events (id, tenant_id, at, actor_user_id, actor_discord_id, actor_label, action, \
         target_user_id, target_label, outcome, reason, before_json, after_json, guild_id, channel_id, \
         interaction_id, api_caller) VALUES {}",
        values_list(backend, entries.len(), 17)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for entry in entries {
        query = query
            .bind(Uuid::now_v7().to_string())
            .bind(entry.tenant_id.map(|t| t.to_string()))
            .bind(time::encode(entry.at))
            .bind(entry.actor.user_id.map(|u| u.to_string()))
            .bind(entry.actor.discord_user_id.map(|d| d.to_string()))
            .bind(entry.actor.label.clone())
            .bind(entry.action.as_str())
            .bind(entry.target_user_id.map(|u| u.to_string()))
            .bind(entry.target_label.clone())
            .bind(entry.outcome.as_str())
            .bind(entry.reason.clone())
            .bind(entry.before.as_ref().map(Value::to_string))
            .bind(entry.after.as_ref().map(Value::to_string))
            .bind(entry.origin.guild_id.clone())
            .bind(entry.origin.channel_id.clone())
            .bind(entry.origin.interaction_id.clone())
            .bind(entry.origin.api_caller.clone());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

fn json_column(row: &AnyRow, name: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = row.try_get(name)?;
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("audit_events.{name}: {e}")))
    })
    .transpose()
}

pub(super) fn event_from_row(row: &AnyRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_name")?,
        at: row.try_get("at")?,
        actor_user_id: row.try_get("actor_user_id")?,
        actor_discord_id: row.try_get("actor_discord_id")?,
        actor: row.try_get("actor_label")?,
        action: row.try_get("action")?,
        target_user_id: row.try_get("target_user_id")?,
        target: row.try_get("target_label")?,
        outcome: row.try_get("outcome")?,
        reason: row.try_get("reason")?,
        before: json_column(row, "before_json")?,
        after: json_column(row, "after_json")?,
        origin: Origin {
            guild_id: row.try_get("guild_id")?,
            channel_id: row.try_get("channel_id")?,
            interaction_id: row.try_get("interaction_id")?,
            api_caller: row.try_get("api_caller")?,
        },
    })
}

impl Store {
    /// Appends an entry on its own (refused attempts, which change nothing else).
    #[tracing::instrument(skip(self, entry), fields(action = %entry.action, outcome = entry.outcome.as_str()))]
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, entry).await
    }

    /// Events matching `query`, oldest first ([`audit_query_sql`]).
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = audit_statement(query).fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }
}

/// The statement of [`audit_query_sql`] with its values bound.
fn audit_statement(
    query: &AuditQuery,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let (sql, binds) = audit_query_sql(query);
    with_binds(sql, binds, query.limit)
}

/// `sql` with `binds` bound in order, then the limit when there is one, as
/// [`audit_query_sql`] numbers them.
pub(super) fn with_binds(
    sql: String,
    binds: Vec<String>,
    limit: Option<u32>,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql));
    for bind in binds {
        statement = statement.bind(bind);
    }
    if let Some(limit) = limit {
        statement = statement.bind(i64::from(limit));
    }
    statement
}

pub(super) const EVENT_COLUMNS: &str = "a.seq, a.id, t.name AS tenant_name, a.at, a.actor_user_id, \
     a.actor_discord_id, a.actor_label, a.action, a.target_user_id, a.target_label, a.outcome, \
     a.reason, a.before_json, a.after_json, a.guild_id, a.channel_id, a.interaction_id, a.api_caller";

/// The statement reading the events of `query`, and the values it binds in
/// order (the limit, when there is one, is bound last). Only the filters the
/// query sets are in the statement: a filter written for every query as
/// `($2 IS NULL OR a.target_user_id = $2)` is one plan for all values, and
/// no index serves it, so `/audit user:` and a re-import's conflicts walked
/// the whole log for a user with few events (measured: 30-140 ms at 100,000
/// events on SQLite, growing with the log). With the conditions it has, the
/// newest events about a user are one range of `audit_by_target`.
pub(super) fn audit_query_sql(query: &AuditQuery) -> (String, Vec<String>) {
    let (conditions, binds) = filters(query, str::to_owned);
    let select = format!(
        "SELECT {EVENT_COLUMNS} FROM audit_events a LEFT JOIN tenants t ON t.id = a.tenant_id{}",
        where_clause(&conditions)
    );
    let sql = match query.limit {
        Some(_) => format!(
            "SELECT * FROM ({select} ORDER BY a.seq DESC LIMIT ${}) newest ORDER BY seq ASC",
            binds.len() + 1
        ),
        None => format!("{select} ORDER BY a.seq ASC"),
    };
    (sql, binds)
}

/// The conditions of the filters `query` sets, each column written as
/// `column` makes it (`a.tenant_id`, or an expression of it), and their
/// values in order, numbered `$1`, `$2`, … in the conditions.
pub(super) fn filters(
    query: &AuditQuery,
    column: impl Fn(&str) -> String,
) -> (Vec<String>, Vec<String>) {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    let mut filter = |name: &str, op: &str, value: Option<String>| {
        if let Some(value) = value {
            binds.push(value);
            conditions.push(format!("{} {op} ${}", column(name), binds.len()));
        }
    };
    filter("a.tenant_id", "=", query.tenant_id.map(|t| t.to_string()));
    filter(
        "a.target_user_id",
        "=",
        query.target_user_id.map(|u| u.to_string()),
    );
    filter(
        "a.actor_user_id",
        "=",
        query.actor_user_id.map(|u| u.to_string()),
    );
    filter("a.at", ">=", query.since.map(time::encode));
    filter("a.at", "<", query.until.map(time::encode));
    (conditions, binds)
}

/// ` WHERE c1 AND c2 …`, or nothing for no conditions.
pub(super) fn where_clause(conditions: &[String]) -> String {
    match conditions.is_empty() {
        true => String::new(),
        false => format!(" WHERE {}", conditions.join(" AND ")),
    }
}

#[path = "audit_dump.rs"]
mod dump;
#[cfg(test)]
pub(super) use dump::{audit_dump_sql, audit_dump_start_sql};

#[cfg(test)]
#[path = "audit_index_tests.rs"]
mod index_tests;

#[cfg(test)]
#[path = "audit_query_tests.rs"]
mod query_tests;
