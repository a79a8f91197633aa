//! `import_sqlite` / `import_postgres`: `import_oneroster` of a generated
//! bundle of `users` users into a fresh, migrated database (connecting and
//! migrating are not timed), in seconds.
//!
//! The floor (`floor_seconds`) is the least any import of that bundle must do
//! on the same database: read the same `users.csv`, and insert one row per
//! user with the same columns as `users` into a bare table (no keys, indexes,
//! constraints or audit) with one multi-row INSERT per 500 rows, all in one
//! transaction. It skips what the product owes its users: parsing names and
//! logins, checking uniqueness, orgs, idempotence and an audit entry per
//! record, so `ratio = seconds / floor_seconds` is what those cost.
//!
//! `reimport_seconds` is a second import of the same, unchanged bundle into
//! the same tenant right after the first: the nightly case. It reads both
//! files, loads the tenant's users and what the roster last said about them,
//! merges every row field by field, finds nothing to write, and appends only
//! the summary audit event.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;

use crate::directory::TenantName;
use crate::roster::{ImportOptions, import_oneroster};
use crate::store::{Backend, Store};

use super::stats::round3;
use super::world::TENANT;

const FLOOR_TABLE: &str = "bench_floor_users";
const COLUMNS: &[&str] = &[
    "id",
    "tenant_id",
    "login",
    "login_key",
    "first_name",
    "last_name",
    "first_key",
    "last_key",
    "role",
    "school_id",
    "district_id",
    "grade",
    "title",
    "must_change_password",
    "disabled",
    "source_id",
    "version",
    "created_at",
    "updated_at",
];
const ROWS_PER_INSERT: usize = 500;

/// Imports `bundle` into `store` (fresh and migrated), then times the floor on
/// the same database; returns the scenario's JSON.
pub async fn import_scenario(store: &Store, bundle: &Path, users: usize) -> Result<Value> {
    let tenant = TenantName::parse(TENANT)?;
    let started = Instant::now();
    let report = import_oneroster(
        store,
        &tenant,
        bundle,
        &ImportOptions::default(),
        Utc::now(),
    )
    .await
    .context("The import failed")?;
    let seconds = started.elapsed().as_secs_f64();
    if report.users_created != users || !report.refused.is_empty() {
        return Err(anyhow!(
            "the import created {} of {users} users and refused {} rows",
            report.users_created,
            report.refused.len()
        ));
    }
    let started = Instant::now();
    let again = import_oneroster(
        store,
        &tenant,
        bundle,
        &ImportOptions::default(),
        Utc::now(),
    )
    .await
    .context("The re-import failed")?;
    let reimport_seconds = started.elapsed().as_secs_f64();
    if again.users_unchanged != users || again.users_updated + again.users_created != 0 {
        return Err(anyhow!(
            "the re-import of the unchanged bundle left {} of {users} users unchanged",
            again.users_unchanged
        ));
    }
    let floor_seconds = floor(store, bundle).await?;
    Ok(json!({
        "users": users,
        "seconds": round3(seconds),
        "reimport_seconds": round3(reimport_seconds),
        "floor_seconds": round3(floor_seconds),
        "ratio": round3(seconds / floor_seconds.max(f64::EPSILON)),
    }))
}

/// The floor of the module docs, in seconds; the bare table is dropped afterwards.
async fn floor(store: &Store, bundle: &Path) -> Result<f64> {
    let pool = store.pool();
    let columns = COLUMNS
        .iter()
        .map(|c| format!("{c} {}", column_type(c)))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE {FLOOR_TABLE} ({columns})"
    )))
    .execute(pool)
    .await
    .context("Failed to create the floor table")?;

    let started = Instant::now();
    let rows = read_rows(&bundle.join("users.csv"))?;
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(store.backend(), chunk.len());
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            for (i, value) in row.iter().enumerate() {
                query = match (COLUMNS[i], value) {
                    ("must_change_password" | "disabled", _) => query.bind(0_i64),
                    ("version", _) => query.bind(1_i64),
                    (_, value) => query.bind(value.clone()),
                };
            }
        }
        query
            .execute(&mut *tx)
            .await
            .context("Failed to insert floor rows")?;
    }
    tx.commit().await?;
    let seconds = started.elapsed().as_secs_f64();

    sqlx::query(AssertSqlSafe(format!("DROP TABLE {FLOOR_TABLE}")))
        .execute(pool)
        .await
        .context("Failed to drop the floor table")?;
    Ok(seconds)
}

fn column_type(column: &str) -> &'static str {
    match column {
        "must_change_password" | "disabled" | "version" => "BIGINT",
        _ => "TEXT",
    }
}

fn insert_sql(backend: Backend, rows: usize) -> String {
    let width = COLUMNS.len();
    let mut sql = format!("INSERT INTO {FLOOR_TABLE} ({}) VALUES ", COLUMNS.join(", "));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", r * width + c + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// One value per column (`None` is NULL) for every row of `users.csv`.
fn read_rows(path: &Path) -> Result<Vec<Vec<Option<String>>>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("users.csv has no {name} column"))
    };
    let (source, role, username, given, family, org, grades) = (
        col("sourcedId")?,
        col("role")?,
        col("username")?,
        col("givenName")?,
        col("familyName")?,
        col("orgSourcedIds")?,
        col("grades")?,
    );
    let tenant = uuid::Uuid::now_v7().to_string();
    let now = Utc::now().to_rfc3339();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or("").to_owned();
        let some = |s: String| Some(s);
        let grade = Some(field(grades)).filter(|g| !g.is_empty());
        rows.push(vec![
            some(uuid::Uuid::now_v7().to_string()),
            some(tenant.clone()),
            some(field(username)),
            some(field(username).to_lowercase()),
            some(field(given)),
            some(field(family)),
            some(field(given).to_lowercase()),
            some(field(family).to_lowercase()),
            some(field(role)),
            some(field(org)),
            some(field(org)),
            grade,
            None,
            None,
            None,
            some(field(source)),
            None,
            some(now.clone()),
            some(now.clone()),
        ]);
    }
    Ok(rows)
}
