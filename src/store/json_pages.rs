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
    /// The text key the pages follow, qualified (`u.id`): unique within a
    /// tenant, and second in an index whose first column is the tenant
    /// ([`page_sql`] says why).
    pub key: &'a str,
    /// The rows, for an error that names them (`users`).
    pub what: &'a str,
}

/// The statement reading one page of `pages`.
///
/// The key is second in an index that begins with the tenant (`users_by_tenant`,
/// migration 180), so each page is one range of that index from where the
/// last one ended, on both backends: no sort of the tenant for every page
/// (with the tenant's other indexes, SQLite took the tenant's rows and
/// sorted them all per page, 100 sorts of a million rows for a tenant of a
/// million), and no walk of other tenants' rows (with the primary key alone,
/// read in id order with the tenant checked row by row, reading one
/// district of a shared database read every district).
pub(crate) fn page_sql(backend: Backend, pages: &Pages<'_>) -> String {
    let (array, element, cast) = match backend {
        Backend::Sqlite => ("json_group_array", "json_array", ""),
        Backend::Postgres => ("json_agg", "json_build_array", "::text"),
    };
    // The outer statement sees the inner one's columns by their own names.
    let unqualified = |column: &str| -> String {
        let name = column.rsplit('.').next().unwrap_or(column).trim();
        format!("p.{name}")
    };
    let outer: Vec<String> = pages.columns.split(',').map(unqualified).collect();
    format!(
        "SELECT {array}({element}({})){cast} AS page, MAX(p.page_key) AS last FROM \
         (SELECT {}, {key} AS page_key FROM {} WHERE {} = $1 AND {key} > $2 ORDER BY {key} LIMIT $3) p",
        outer.join(", "),
        pages.columns,
        pages.tables,
        pages.tenant,
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
