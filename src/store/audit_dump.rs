//! Dumping the audit log (`hallpass audit`): every event a query names,
//! oldest first, in pages of one statement each.

use sqlx::Row;

use super::{EVENT_COLUMNS, event_from_row, filters, where_clause, with_binds};
use crate::audit::{AuditEvent, AuditQuery};
use crate::store::{Store, StoreError};

/// Events a statement of [`Store::for_each_audit_event`] reads.
pub(super) const DUMP_PAGE: i64 = 1_000;

impl Store {
    /// Hands `each` the events matching `query`, oldest first, and stops at
    /// the first error it returns. For `hallpass audit`, whose dump of a
    /// district's log is millions of events: [`Store::audit_events`] would
    /// hold them all in memory, and one statement streamed to the end would
    /// hold one read transaction for as long as the reader takes (`hallpass
    /// audit | less` left open), keeping SQLite from resetting its
    /// write-ahead log and PostgreSQL's vacuum from cleaning up behind it.
    /// So the log is read in pages of [`DUMP_PAGE`] events, one statement
    /// each ([`audit_dump_sql`]), from the first event the query names
    /// ([`audit_dump_start_sql`]) up to the newest event when the dump began:
    /// every event committed before then is printed, once.
    pub async fn for_each_audit_event<E: From<StoreError>>(
        &self,
        query: &AuditQuery,
        each: impl FnMut(AuditEvent) -> Result<(), E>,
    ) -> Result<(), E> {
        self.for_each_audit_event_in_pages(query, DUMP_PAGE, each)
            .await
    }

    pub(in crate::store) async fn for_each_audit_event_in_pages<E: From<StoreError>>(
        &self,
        query: &AuditQuery,
        page: i64,
        mut each: impl FnMut(AuditEvent) -> Result<(), E>,
    ) -> Result<(), E> {
        if query.limit.is_some() {
            for event in self.audit_events(query).await? {
                each(event)?;
            }
            return Ok(());
        }
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_events")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from)?;
        let Some(newest) = newest else {
            return Ok(());
        };
        let mut after = 0_i64;
        if let Some((sql, binds)) = audit_dump_start_sql(query) {
            let first: Option<i64> = with_binds(sql, binds, None)
                .fetch_one(&self.pool)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(StoreError::from)?;
            match first {
                Some(first) => after = first - 1,
                None => return Ok(()),
            }
        }
        let (sql, binds) = audit_dump_sql(query);
        loop {
            let rows = with_binds(sql.clone(), binds.clone(), None)
                .bind(after)
                .bind(newest)
                .bind(page)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::from)?;
            let full = rows.len() as i64 == page;
            for row in &rows {
                let event = event_from_row(row)?;
                after = event.seq;
                each(event)?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// Where a dump of `query` starts: the statement finding the oldest event
/// it names, through the indexes its filters have (`audit_by_time` for a
/// district since a time, `audit_by_target`, `audit_by_actor`), and the
/// values it binds; `None` when the query names neither a time nor a
/// person, and the dump starts at the beginning of the log. Without it,
/// `hallpass audit --tenant T --since yesterday` walked the whole log from
/// its first event to find yesterday's.
pub(in crate::store) fn audit_dump_start_sql(query: &AuditQuery) -> Option<(String, Vec<String>)> {
    let narrow =
        query.since.is_some() || query.target_user_id.is_some() || query.actor_user_id.is_some();
    if !narrow {
        return None;
    }
    let (conditions, binds) = filters(query, str::to_owned);
    // `seq + 0`, not `seq`: for MIN of the key itself PostgreSQL walks the
    // primary key from the oldest event until one matches (108 ms for a
    // district with nothing since the time, in a log of 200,000), where the
    // filters' own index answers in 0.1 ms.
    let sql = format!(
        "SELECT MIN(a.seq + 0) AS first FROM audit_events a{}",
        where_clause(&conditions)
    );
    Some((sql, binds))
}

/// The statement reading one page of a dump of `query`'s events (its limit
/// aside), and the values it binds first; then come the seq the page starts
/// after, the newest seq of the dump and the page size. Each page is a range
/// of the log's own order (its primary key) whatever the filters: they are
/// compared through an expression no index serves and from which no planner
/// infers `IS NOT NULL` (`COALESCE(column, '')`; PostgreSQL read `x || ''`
/// as proof enough to scan the partial index of events with an actor), so
/// neither backend takes a district's events from another index and sorts
/// them all for every page. A dump walks the log once, from where
/// [`audit_dump_start_sql`] says it starts.
pub(in crate::store) fn audit_dump_sql(query: &AuditQuery) -> (String, Vec<String>) {
    let (mut conditions, binds) = filters(query, |column| format!("COALESCE({column}, '')"));
    let n = binds.len();
    conditions.push(format!("a.seq > ${} AND a.seq <= ${}", n + 1, n + 2));
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM audit_events a LEFT JOIN tenants t ON t.id = a.tenant_id{} \
         ORDER BY a.seq LIMIT ${}",
        where_clause(&conditions),
        n + 3
    );
    (sql, binds)
}
