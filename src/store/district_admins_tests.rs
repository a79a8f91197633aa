//! Migration 170: counting and locking a district's enabled district admins
//! (before one is demoted, moved or disabled) reads the partial index
//! `users_district_admins`, not every user of the tenant, on both backends;
//! and the count is still of enabled district admins of that district only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use sqlx::Row;

use super::{count_district_admins_sql, lock_district_admins_sql};
use crate::directory::{DistrictId, TenantId, TenantName};
use crate::store::{Backend, Store};

const STUDENTS: i64 = 20_000;

/// A tenant of two districts: in the first, `STUDENTS` students, three
/// district admins and one disabled; in the second, one district admin.
async fn districts(store: &Store) -> (TenantId, DistrictId, DistrictId) {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let tenant = store
        .create_tenant(&TenantName::parse("big").unwrap(), now)
        .await
        .unwrap()
        .id;
    let first = store.create_district(tenant, "D", None).await.unwrap().id;
    let second = store.create_district(tenant, "E", None).await.unwrap().id;
    let school = store
        .create_school(tenant, first, "S", None)
        .await
        .unwrap()
        .id;
    let people = [
        ("s", "student", Some(school), first, 0, STUDENTS),
        ("a", "district_admin", None, first, 0, 3),
        ("x", "district_admin", None, first, 1, 1),
        ("o", "district_admin", None, second, 0, 1),
    ];
    for (tag, role, school, district, disabled, n) in people {
        sqlx::query(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $7) \
             INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, first_key, \
             last_key, role, school_id, district_id, disabled, created_at, updated_at) \
             SELECT $1 || n, $2, $1 || n, $1 || n, 'Ana', 'Kim' || n, 'ana', 'kim' || n, $3, $4, $5, $6, \
             '2026-12-02T09:00:00Z', '2026-12-02T09:00:00Z' FROM s",
        )
        .bind(tag)
        .bind(tenant.to_string())
        .bind(role)
        .bind(school.map(|s| s.to_string()))
        .bind(district.to_string())
        .bind(disabled)
        .bind(n)
        .execute(store.pool())
        .await
        .unwrap();
    }
    (tenant, first, second)
}

/// The plans of the count and the lock: on PostgreSQL both the plan for
/// the values (the first executions) and the generic one (which a prepared
/// statement may keep after five).
async fn plans(store: &Store, tenant: TenantId, district: DistrictId) -> Vec<String> {
    let explain = match store.backend() {
        Backend::Sqlite => "EXPLAIN QUERY PLAN",
        Backend::Postgres => "EXPLAIN",
    };
    let mut conn = store.pool().acquire().await.unwrap();
    let mut plans = Vec::new();
    for sql in [
        count_district_admins_sql(),
        lock_district_admins_sql(store.backend()),
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{explain} {sql}")))
            .bind(tenant.to_string())
            .bind(district.to_string())
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let column = match store.backend() {
            Backend::Sqlite => 3,
            Backend::Postgres => 0,
        };
        let lines: Vec<String> = rows.iter().map(|r| r.get::<String, _>(column)).collect();
        plans.push(format!("{sql}\n{}", lines.join("\n")));
        if store.backend() == Backend::Postgres {
            let generic =
                crate::store::postgres_generic_plan(&mut conn, &sql, &["text", "text"]).await;
            plans.push(format!("{sql}\n(generic)\n{generic}"));
        }
    }
    plans
}

async fn a_districts_enabled_district_admins_are_counted_and_locked_from_their_own_index(
    store: &Store,
) {
    let (tenant, first, second) = districts(store).await;
    assert_eq!(store.count_district_admins(tenant, first).await.unwrap(), 3);
    assert_eq!(
        store.count_district_admins(tenant, second).await.unwrap(),
        1
    );
    if store.backend() == Backend::Postgres {
        sqlx::query("ANALYZE users")
            .execute(store.pool())
            .await
            .unwrap();
    }
    for plan in plans(store, tenant, first).await {
        assert!(plan.contains("users_district_admins"), "{plan}");
        assert!(!plan.contains("Seq Scan"), "{plan}");
        assert!(!plan.contains("sqlite_autoindex_users"), "{plan}");
    }
}

crate::store::store_tests_on_both_backends!(
    a_districts_enabled_district_admins_are_counted_and_locked_from_their_own_index
);
