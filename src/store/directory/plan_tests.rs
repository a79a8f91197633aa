//! PostgreSQL plans the change checks through the (tenant_id, written_by)
//! index once `users` has statistics, as every long-running database has
//! (autovacuum gathers them): the check runs on every keystroke, and a scan
//! of the tenant there was 27 ms at 100,000 users.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use sqlx::Row;

use super::caller::batch_statement;
use super::sync::{changed_since, unseen_people_sql};
use crate::directory::TenantName;
use crate::store::{Backend, PostgresForTests, Store};

const USERS: i64 = 30_000;

/// A tenant of `USERS` students in one school, analyzed; its id.
async fn a_large_analyzed_tenant(store: &Store) -> String {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let tenant = store
        .create_tenant(&TenantName::parse("big").unwrap(), now)
        .await
        .unwrap()
        .id;
    let district = store.create_district(tenant, "D", None).await.unwrap().id;
    let school = store
        .create_school(tenant, district, "S", None)
        .await
        .unwrap()
        .id;
    sqlx::query(
        "INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, \
         role, school_id, district_id, created_at, updated_at) \
         SELECT 'u' || n, $1, 's' || n, 's' || n, 'Ana', 'Kim' || n, 'ana', 'kim' || n, 'student', $2, $3, \
         '2026-12-02T09:00:00Z', '2026-12-02T09:00:00Z' FROM generate_series(1, $4) AS n",
    )
    .bind(tenant.to_string())
    .bind(school.to_string())
    .bind(district.to_string())
    .bind(USERS)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE users, schools")
        .execute(store.pool())
        .await
        .unwrap();
    tenant.to_string()
}

/// The plans of `sql` with `binds` bound: for the values (the first
/// executions) and generic (made without them, which a prepared statement
/// may keep after five).
async fn plans(store: &Store, sql: &str, binds: &[&str], limit: bool) -> (String, String) {
    let mut conn = store.pool().acquire().await.unwrap();
    let mut custom = String::new();
    let mut explain = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
    for bind in binds {
        explain = explain.bind(bind.to_string());
    }
    if limit {
        explain = explain.bind(10_001_i64);
    }
    for row in explain.fetch_all(&mut *conn).await.unwrap() {
        custom.push_str(&row.get::<String, _>(0));
        custom.push('\n');
    }
    let mut types = vec!["text"; binds.len()];
    types.extend(limit.then_some("bigint"));
    let generic = crate::store::postgres_generic_plan(&mut conn, sql, &types).await;
    (custom, generic)
}

fn reads_the_writer_index(plan: &str) -> bool {
    plan.contains("users_by_writer") && !plan.contains("Seq Scan on users")
}

#[tokio::test]
async fn postgres_the_change_checks_use_the_writer_index_once_users_has_statistics() {
    let (db, store) = PostgresForTests::migrated("hallpass_plans").await;
    let tenant = a_large_analyzed_tenant(&store).await;
    let snapshot: String = sqlx::query_scalar("SELECT pg_current_snapshot()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    // The callers' statement, whose check takes the tenant and snapshot
    // from its asks, as every keystroke runs it.
    let asks = serde_json::json!([{"k": 0, "g": "111", "d": "222", "t": tenant, "s": snapshot}])
        .to_string();
    let callers = batch_statement(Backend::Postgres);
    let alone = format!("SELECT {}", changed_since("$1", "$2"));
    let fetch = unseen_people_sql();
    let statements = [
        (
            "the callers' statement",
            callers.as_str(),
            vec![asks.as_str()],
            false,
        ),
        (
            "the check alone",
            alone.as_str(),
            vec![tenant.as_str(), snapshot.as_str()],
            false,
        ),
        (
            "the fetch",
            fetch.as_str(),
            vec![tenant.as_str(), snapshot.as_str()],
            true,
        ),
    ];
    for (what, sql, binds, limit) in statements {
        let (custom, generic) = plans(&store, sql, &binds, limit).await;
        assert!(reads_the_writer_index(&custom), "{what}:\n{custom}");
        // The generic plan cannot know how few rows changed: it must still
        // read the writer index, and the fetch must look each changed id up
        // by the primary key rather than scan `users` against them.
        assert!(
            reads_the_writer_index(&generic),
            "{what} (generic):\n{generic}\nfor the values:\n{custom}"
        );
        if what == "the fetch" {
            assert!(
                generic.contains("Index Scan using users_pkey"),
                "{what} (generic):\n{generic}"
            );
        }
    }
    db.drop_with(store).await;
}
