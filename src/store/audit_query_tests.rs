//! Reading the audit log ([`super::audit_query_sql`]): every combination of
//! filters reads exactly the events it names, oldest first, on both
//! backends; and the newest events about one user, as `/audit user:` and a
//! re-import's conflicts ask for them, are one range of `audit_by_target`,
//! not a walk of the whole log (the plan of a statement whose filters were
//! all written as `($n IS NULL OR …)`). A dump (`hallpass audit`) reads the
//! same events in pages, each a range of the log's own order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use sqlx::Row;

use super::{audit_dump_sql, audit_dump_start_sql, audit_query_sql, with_binds};
use crate::audit::{Action, AuditActor, AuditEntry, AuditQuery, Origin};
use crate::directory::{DiscordUserId, TenantId, TenantName, UserId};
use crate::store::{PostgresForTests, Store, StoreError};

/// What the events were written with, to compute what a query should find.
struct Written {
    tag: String,
    tenant: TenantId,
    target: Option<UserId>,
    actor: Option<UserId>,
    at: chrono::DateTime<Utc>,
}

const TARGETS: usize = 3;

/// Events in two tenants about two users and about no one, by two educators and
/// by the system, one minute apart; returned in the order they were written.
async fn events(store: &Store) -> (Vec<Written>, Vec<TenantId>, Vec<UserId>, Vec<UserId>) {
    let start = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    // The log names tenants without referring to them: none need exist.
    let tenants = vec![TenantId::new(), TenantId::new()];
    let targets: Vec<UserId> = (0..TARGETS - 1).map(|_| UserId::new()).collect();
    let actors: Vec<UserId> = (0..2).map(|_| UserId::new()).collect();
    let mut written = Vec::new();
    for i in 0..30_usize {
        let tenant = tenants[i % 2];
        let target = targets.get(i % TARGETS).copied();
        let actor = actors.get(i % 3).copied();
        let at = start + Duration::minutes(i64::try_from(i).unwrap());
        let who = match actor {
            Some(id) => AuditActor {
                user_id: Some(id),
                discord_user_id: Some(DiscordUserId::new(7)),
                label: "Lopez, Ana (alopez)".into(),
            },
            None => AuditActor::system("roster import"),
        };
        let mut entry = AuditEntry::new(
            Some(tenant),
            at,
            who,
            Action::PasswordReset,
            Origin::api("t"),
        );
        if let Some(target) = target {
            entry = entry.target(target, "Kim, Mara (mkim)");
        }
        entry.reason = Some(format!("e{i}"));
        store.append_audit(&entry).await.unwrap();
        let tag = format!("e{i}");
        written.push(Written {
            tag,
            tenant,
            target,
            actor,
            at,
        });
    }
    (written, tenants, targets, actors)
}

async fn every_combination_of_audit_filters_reads_exactly_the_events_it_names_oldest_first(
    store: &Store,
) {
    let (written, tenants, targets, actors) = events(store).await;
    let t0 = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let since = t0 + Duration::minutes(7);
    let until = t0 + Duration::minutes(23);
    for mask in 0..32_u32 {
        for limit in [None, Some(2), Some(100)] {
            let query = AuditQuery {
                tenant_id: (mask & 1 != 0).then_some(tenants[1]),
                target_user_id: (mask & 2 != 0).then_some(targets[0]),
                actor_user_id: (mask & 4 != 0).then_some(actors[1]),
                since: (mask & 8 != 0).then_some(since),
                until: (mask & 16 != 0).then_some(until),
                limit,
            };
            let mut expected: Vec<&str> = written
                .iter()
                .filter(|w| query.tenant_id.is_none_or(|t| w.tenant == t))
                .filter(|w| query.target_user_id.is_none_or(|u| w.target == Some(u)))
                .filter(|w| query.actor_user_id.is_none_or(|u| w.actor == Some(u)))
                .filter(|w| query.since.is_none_or(|s| w.at >= s))
                .filter(|w| query.until.is_none_or(|u| w.at < u))
                .map(|w| w.tag.as_str())
                .collect();
            if let Some(limit) = limit {
                let keep = usize::try_from(limit).unwrap();
                expected.drain(..expected.len().saturating_sub(keep));
            }
            let found: Vec<String> = store
                .audit_events(&query)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.reason.unwrap())
                .collect();
            assert_eq!(found, expected, "{query:?}");
            for page in [1, 2, 7] {
                let mut dumped = Vec::new();
                store
                    .for_each_audit_event_in_pages(&query, page, |e| -> Result<(), StoreError> {
                        dumped.push(e.reason.unwrap());
                        Ok(())
                    })
                    .await
                    .unwrap();
                assert_eq!(dumped, expected, "dumped in pages of {page}: {query:?}");
            }
        }
    }
}

crate::store::store_tests_on_both_backends!(
    every_combination_of_audit_filters_reads_exactly_the_events_it_names_oldest_first
);

/// The queries of `/audit user:` (the newest ten) and of a re-import's
/// conflicts (all of them).
fn about_one_user() -> [AuditQuery; 2] {
    [Some(10), None].map(|limit| AuditQuery {
        tenant_id: Some(TenantId::new()),
        target_user_id: Some(UserId::new()),
        limit,
        ..AuditQuery::default()
    })
}

/// The statement of `query` and its plan: `explain` is the backend's word for
/// it, `column` where the plan's text is in each row.
async fn plan(
    conn: &mut sqlx::AnyConnection,
    explain: &str,
    column: usize,
    query: &AuditQuery,
) -> (String, String) {
    let (sql, binds) = audit_query_sql(query);
    let rows = with_binds(format!("{explain} {sql}"), binds, query.limit)
        .fetch_all(conn)
        .await
        .unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.get::<String, _>(column)).collect();
    (sql, lines.join("\n"))
}

/// What `hallpass audit` asks (a district's log, or all of it, from a time
/// or from the start), and every filter at once.
fn dumps() -> Vec<AuditQuery> {
    let tenant = Some(TenantId::new());
    let since = Some(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
    vec![
        AuditQuery::default(),
        AuditQuery {
            tenant_id: tenant,
            ..AuditQuery::default()
        },
        AuditQuery {
            tenant_id: tenant,
            since,
            ..AuditQuery::default()
        },
        AuditQuery {
            tenant_id: tenant,
            target_user_id: Some(UserId::new()),
            actor_user_id: Some(UserId::new()),
            since,
            until: since,
            limit: None,
        },
    ]
}

/// The plan of a page of the dump of `query`.
async fn dump_plan(
    conn: &mut sqlx::AnyConnection,
    explain: &str,
    column: usize,
    query: &AuditQuery,
) -> (String, String) {
    let (sql, binds) = audit_dump_sql(query);
    let rows = with_binds(format!("{explain} {sql}"), binds, None)
        .bind(0_i64)
        .bind(100_i64)
        .bind(10_i64)
        .fetch_all(conn)
        .await
        .unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.get::<String, _>(column)).collect();
    (sql, lines.join("\n"))
}

#[tokio::test]
async fn sqlite_the_newest_events_about_a_user_are_one_range_of_the_target_index_not_a_walk_of_the_log()
 {
    let (_dir, store) = crate::store::migrated_sqlite_for_tests().await;
    let mut conn = store.pool().acquire().await.unwrap();
    for query in about_one_user() {
        let (sql, plan) = plan(&mut conn, "EXPLAIN QUERY PLAN", 3, &query).await;
        assert!(
            plan.contains(
                "SEARCH a USING INDEX audit_by_target (tenant_id=? AND target_user_id=?)"
            ),
            "{sql}\n{plan}"
        );
        assert!(!plan.contains("SCAN a"), "{sql}\n{plan}");
    }
    drop(conn);
    store.close().await;
}

/// Every page of a dump (`hallpass audit`) is a range of the log's own
/// order, whatever the filters: never a district's events taken from
/// another index and sorted, once for every page.
#[tokio::test]
async fn sqlite_every_page_of_an_audit_dump_is_a_range_of_the_logs_order_never_a_sort() {
    let (_dir, store) = crate::store::migrated_sqlite_for_tests().await;
    let mut conn = store.pool().acquire().await.unwrap();
    for query in dumps() {
        let (sql, plan) = dump_plan(&mut conn, "EXPLAIN QUERY PLAN", 3, &query).await;
        assert!(
            plan.contains("SEARCH a USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
            "{sql}\n{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{sql}\n{plan}");
    }
    // A district's dump since a time starts from the first event at or
    // after it, found in audit_by_time, not by walking the log from its start.
    let (sql, binds) = audit_dump_start_sql(&dumps()[2]).unwrap();
    let rows = with_binds(format!("EXPLAIN QUERY PLAN {sql}"), binds, None)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(3)).collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains("audit_by_time (tenant_id=? AND at>?)"),
        "{sql}\n{plan}"
    );
    assert!(audit_dump_start_sql(&dumps()[0]).is_none());
    assert!(audit_dump_start_sql(&dumps()[1]).is_none());
    drop(conn);
    store.close().await;
}

#[tokio::test]
async fn postgres_the_newest_events_about_a_user_are_one_range_of_the_target_index_and_a_dump_pages_the_key_in_the_generic_plan()
 {
    let (db, store) = PostgresForTests::migrated("hallpass_audit_plan").await;
    // A log of 21,000 events about 3,000 users, with statistics.
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let tenant = store
        .create_tenant(&TenantName::parse("big").unwrap(), now)
        .await
        .unwrap()
        .id;
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, at, actor_label, action, target_user_id, outcome) \
         SELECT 'e' || n, $1, '2026-12-02T09:00:00Z', 'roster import', 'user.create', 'u' || (n % 2000), \
         'applied' FROM generate_series(1, 20000) AS n",
    )
    .bind(tenant.to_string())
    .execute(store.pool())
    .await
    .unwrap();
    // And the newest day's thousand, at the end of the log.
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, at, actor_label, action, target_user_id, outcome) \
         SELECT 'n' || n, $1, '2026-12-03T09:00:00Z', 'roster import', 'user.create', 'u' || n, \
         'applied' FROM generate_series(1, 1000) AS n",
    )
    .bind(tenant.to_string())
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE audit_events")
        .execute(store.pool())
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    // The plan for the values (the first executions), then the generic plan
    // (made without them, which a prepared statement may keep after five):
    // both must use the index.
    for query in about_one_user() {
        let (sql, custom) = plan(&mut conn, "EXPLAIN", 0, &query).await;
        let (_, binds) = audit_query_sql(&query);
        let mut types = vec!["text"; binds.len()];
        types.extend(query.limit.map(|_| "bigint"));
        let generic = crate::store::postgres_generic_plan(&mut conn, &sql, &types).await;
        for plan in [custom, generic] {
            assert!(plan.contains("using audit_by_target"), "{sql}\n{plan}");
            assert!(!plan.contains("Seq Scan on audit_events"), "{sql}\n{plan}");
        }
    }
    // Where a dump of the newest day starts is found from the filters, not
    // by walking the primary key through the older 20,000 until one matches.
    let (sql, binds) = audit_dump_start_sql(&AuditQuery {
        tenant_id: Some(tenant),
        since: Some(Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap()),
        ..AuditQuery::default()
    })
    .unwrap();
    let plan: Vec<String> = with_binds(format!("EXPLAIN {sql}"), binds, None)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    let plan = plan.join("\n");
    assert!(!plan.contains("audit_events_pkey"), "{sql}\n{plan}");
    // Every page of a dump is a range of the primary key, never a sort.
    for query in dumps() {
        let (sql, custom) = dump_plan(&mut conn, "EXPLAIN", 0, &query).await;
        let (_, binds) = audit_dump_sql(&query);
        let mut types = vec!["text"; binds.len()];
        types.extend(["bigint"; 3]);
        let generic = crate::store::postgres_generic_plan(&mut conn, &sql, &types).await;
        for plan in [custom, generic] {
            assert!(plan.contains("using audit_events_pkey"), "{sql}\n{plan}");
            assert!(!plan.contains("Sort"), "{sql}\n{plan}");
            assert!(!plan.contains("Seq Scan on audit_events"), "{sql}\n{plan}");
        }
    }
    drop(conn);
    db.drop_with(store).await;
}
