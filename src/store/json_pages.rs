//! Reading a tenant's rows as pages of JSON: each page is one row holding a
//! JSON array of up to a page of rows (`json_group_array` on SQLite,
//! `json_agg` on PostgreSQL), in the order of a unique text key.
//!
//! Why JSON and not a row per record: sqlx hands each row across from its
//! driver thread (SQLite) or decodes it through the `Any` driver one value at
//! a time, and at a million records that per-row toll, not the database, was
//! the cost of reading a tenant (first measured on autocomplete's index load;
//! a re-import reads the tenant's users and what the roster last said about
//! them the same way). One text value a page crosses once, and serde_json
//! reads it into the rows' own struct.

use serde::de::DeserializeOwned;
use sqlx::Row;

use super::{Backend, StoreError};

/// What to read: `SELECT columns FROM tables WHERE tenant = $1 AND key > $2
/// ORDER BY key LIMIT $3`.
pub(crate) struct Pages<'a> {
    /// The columns, qualified as `tables` names them (`u.id, u.login, …`); a
    /// page's elements are arrays of them, in this order.
    pub columns: &'a str,
    pub tables: &'a str,
    /// The column holding the tenant, qualified (`u.tenant_id`).
    pub tenant: &'a str,
    /// The unique text key the pages follow, qualified (`u.id`).
    pub key: &'a str,
    /// The rows, for an error that names them (`users`).
    pub what: &'a str,
}

/// The statement reading one page of `pages`.
///
/// On SQLite the tenant is compared through an expression no index serves
/// (`|| ''`), so each page is a range of the key's own index from where the
/// last one ended, the tenant checked row by row: with a plain `tenant_id =
/// $1` SQLite took the tenant's rows from the tenant's index and sorted them
/// all for every page (`USE TEMP B-TREE FOR ORDER BY`), so reading a tenant
/// cost its size times its pages (1,000,000 users: 100 sorts of a million
/// rows). PostgreSQL, with statistics, walks the key's index either way.
pub(crate) fn page_sql(backend: Backend, pages: &Pages<'_>) -> String {
    let (array, element, cast, tenant) = match backend {
        Backend::Sqlite => (
            "json_group_array",
            "json_array",
            "",
            format!("{} || ''", pages.tenant),
        ),
        Backend::Postgres => (
            "json_agg",
            "json_build_array",
            "::text",
            pages.tenant.to_owned(),
        ),
    };
    // The outer statement sees the inner one's columns by their own names.
    let unqualified = |column: &str| -> String {
        let name = column.rsplit('.').next().unwrap_or(column).trim();
        format!("p.{name}")
    };
    let outer: Vec<String> = pages.columns.split(',').map(unqualified).collect();
    format!(
        "SELECT {array}({element}({})){cast} AS page, MAX({}) AS last FROM \
         (SELECT {} FROM {} WHERE {tenant} = $1 AND {key} > $2 ORDER BY {key} LIMIT $3) p",
        outer.join(", "),
        unqualified(pages.key),
        pages.columns,
        pages.tables,
        key = pages.key,
    )
}

/// Hands every row of `pages` for `tenant` to `each`, in key order, reading
/// `page_size` rows a statement through `conn`.
pub(crate) async fn read_pages<T: DeserializeOwned>(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    pages: &Pages<'_>,
    (tenant, page_size): (&str, i64),
    mut each: impl FnMut(T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let sql = page_sql(backend, pages);
    let mut after = String::new();
    loop {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(tenant.to_owned())
            .bind(after.clone())
            .bind(page_size)
            .fetch_one(&mut *conn)
            .await?;
        // No row left: MAX is NULL (and PostgreSQL's page too).
        let Some(last) = row.try_get::<Option<String>, _>("last")? else {
            return Ok(());
        };
        let page: String = row.try_get("page")?;
        let rows: Vec<T> = serde_json::from_str(&page)
            .map_err(|e| StoreError::Corrupt(format!("{} (read in pages): {e}", pages.what)))?;
        let full = rows.len() as i64 == page_size;
        for row in rows {
            each(row)?;
        }
        if !full {
            return Ok(());
        }
        after = last;
    }
}
