//! `import_sqlite` / `import_postgres`: `import_oneroster` of a generated
//! bundle of `users` users into a fresh, migrated database (connecting and
//! migrating are not timed), in seconds.
//!
//! The floor (`floor_seconds`, tool named in `floor_tool`) is what the
//! database's own bulk loader takes for the same `users.csv` into a plain
//! table (every column TEXT, no keys, indexes or constraints): `sqlite3
//! .import` into a new database file beside the benchmark's on SQLite, `psql
//! \copy` into a new table of the benchmark's database on PostgreSQL, each
//! timed as a whole process run. It skips what the product owes its users:
//! parsing names and logins, checking uniqueness, orgs, idempotence and an
//! audit entry per record, so `ratio = seconds / floor_seconds` is what those
//! cost (the target is at most 4). When the tool is not installed the
//! scenario carries `"error"` saying so, and no floor or ratio.
//!
//! `insert_floor_seconds` is the earlier, in-process floor, kept for
//! profiling: the same rows through sqlx as multi-row INSERTs of 500 rows
//! into a bare table with the columns of `users`, in one transaction.
//!
//! `reimport_seconds` is a second import of the same, unchanged bundle into
//! the same tenant right after the first: the nightly case. It reads both
//! files, loads the tenant's users and what the roster last said about them,
//! merges every row field by field, finds nothing to write, and appends only
//! the summary audit event.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Row};

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
    let insert_floor_seconds = floor(store, bundle).await?;
    let mut out = json!({
        "users": users,
        "seconds": round3(seconds),
        "reimport_seconds": round3(reimport_seconds),
        "insert_floor_seconds": round3(insert_floor_seconds),
    });
    let users_csv = bundle.join("users.csv");
    let (tool, floor) = match store.backend() {
        Backend::Sqlite => (SQLITE_TOOL, sqlite_import_floor(store, &users_csv).await),
        Backend::Postgres => (POSTGRES_TOOL, psql_copy_floor(store, &users_csv).await),
    };
    out["floor_tool"] = json!(tool);
    match floor {
        Ok(floor_seconds) => {
            out["floor_seconds"] = json!(round3(floor_seconds));
            out["ratio"] = json!(round3(seconds / floor_seconds.max(f64::EPSILON)));
        }
        Err(e) => out["error"] = json!(format!("no floor: {e:#}")),
    }
    Ok(out)
}

const SQLITE_TOOL: &str = "sqlite3 .import";
const POSTGRES_TOOL: &str = "psql \\copy";
const COPY_TABLE: &str = "bench_floor_copy";

/// Runs `command` to its end off the async threads; its wall time in seconds.
async fn timed(mut command: Command, tool: &'static str, package: &'static str) -> Result<f64> {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = match command.output() {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(anyhow!(
                    "{tool} is not installed (Debian package {package})"
                ));
            }
            Err(e) => return Err(anyhow!("{tool} could not be started: {e}")),
        };
        let seconds = started.elapsed().as_secs_f64();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(anyhow!(
                "{tool} failed ({}): {}",
                output.status,
                stderr.trim()
            ));
        }
        Ok(seconds)
    })
    .await
    .context("The floor tool's thread failed")?
}

/// `sqlite3 .import` of `users_csv` into a new database file beside the
/// benchmark's, which is removed afterwards.
async fn sqlite_import_floor(store: &Store, users_csv: &Path) -> Result<f64> {
    let row = sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_one(store.pool())
        .await
        .context("Failed to find the SQLite database file")?;
    let main: String = row.try_get("file")?;
    let target = PathBuf::from(format!("{main}.floor"));
    let _ = std::fs::remove_file(&target);
    let mut command = Command::new("sqlite3");
    command
        .arg("-batch")
        .arg(&target)
        .arg(format!(".import --csv {} plain", users_csv.display()));
    let result = timed(command, "sqlite3", "sqlite3").await;
    let _ = std::fs::remove_file(&target);
    result
}

/// `psql \copy` of `users_csv` into a new plain table of the benchmark's
/// database (created before, dropped after, neither timed). psql connects
/// to the server the store is on, as the store's user, with no password
/// (the benchmark's PostgreSQL uses trust authentication on loopback).
async fn psql_copy_floor(store: &Store, users_csv: &Path) -> Result<f64> {
    let row = sqlx::query(
        "SELECT CAST(current_database() AS TEXT) AS db, CAST(current_user AS TEXT) AS who, \
         host(inet_server_addr()) AS host, CAST(inet_server_port() AS TEXT) AS port",
    )
    .fetch_one(store.pool())
    .await
    .context("Failed to ask PostgreSQL where it is")?;
    let db: String = row.try_get("db")?;
    let who: String = row.try_get("who")?;
    let host: Option<String> = row.try_get("host")?;
    let port: Option<String> = row.try_get("port")?;
    let headers = csv::Reader::from_path(users_csv)
        .with_context(|| format!("Failed to read {}", users_csv.display()))?
        .headers()?
        .clone();
    let columns = headers
        .iter()
        .map(|h| format!("\"{}\" TEXT", h.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS {COPY_TABLE}")))
        .execute(store.pool())
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE {COPY_TABLE} ({columns})"
    )))
    .execute(store.pool())
    .await
    .context("Failed to create the floor table")?;
    let mut command = Command::new("psql");
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", &who, "-d", &db]);
    if let Some(host) = host {
        command.args(["-h", &host]);
    }
    if let Some(port) = port {
        command.args(["-p", &port]);
    }
    let path = users_csv.display().to_string().replace('\'', "''");
    command.arg("-c").arg(format!(
        "\\copy {COPY_TABLE} FROM '{path}' WITH (FORMAT csv, HEADER true)"
    ));
    let result = timed(command, "psql", "postgresql-client").await;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {COPY_TABLE}")))
        .execute(store.pool())
        .await
        .context("Failed to drop the floor table")?;
    result
}

/// The in-process floor of the module docs (`insert_floor_seconds`), in
/// seconds; the bare table is dropped afterwards.
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
