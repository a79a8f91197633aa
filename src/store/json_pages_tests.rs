//! Reading a tenant in pages of JSON gives exactly what reading it row by row
//! gives, on both backends: every value (NULLs, quotes, backslashes, accents,
//! a linked chat account), every page size, and nothing of another tenant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};

use super::rows::{USER_COLUMNS, USER_FROM, user_from_row};
use super::{PostgresForTests, Store};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{
    DiscordUserId, Grade, Login, PersonName, Place, Role, TenantId, TenantName, Title, User,
};
use crate::roster::{ImportOptions, import_oneroster};
use crate::store::NewUser;

fn audit(tenant: TenantId) -> AuditEntry {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    AuditEntry::new(
        Some(tenant),
        now,
        AuditActor::system("t"),
        Action::UserCreate,
        Origin::api("t"),
    )
}

/// Tenant `name` with a district admin, a student with a grade, a teacher
/// with a title and a linked chat account, and a disabled student whose name
/// holds a quote, a backslash and an accent.
async fn people(store: &Store, name: &str) -> TenantId {
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let tenant = store
        .create_tenant(&TenantName::parse(name).unwrap(), now)
        .await
        .unwrap()
        .id;
    let district = store.create_district(tenant, "D", None).await.unwrap().id;
    let school = store
        .create_school(tenant, district, "S", None)
        .await
        .unwrap()
        .id;
    let in_school = Place::School { school, district };
    let rows = [
        (
            "admin",
            "Ana",
            Role::DistrictAdmin,
            Place::District { district },
            None,
            None,
            false,
        ),
        (
            "kid",
            "Kai",
            Role::Student,
            in_school,
            Some("7"),
            None,
            false,
        ),
        (
            "coach",
            "Lee",
            Role::Teacher,
            in_school,
            None,
            Some("Coach"),
            false,
        ),
        (
            "zoe",
            "Zoë \"Z\\\"",
            Role::Student,
            in_school,
            Some("K"),
            None,
            true,
        ),
    ];
    for (login, first, role, place, grade, title, disabled) in rows {
        let new = NewUser {
            login: Login::parse(&format!("{name}.{login}")).unwrap(),
            first_name: PersonName::parse(first).unwrap(),
            last_name: PersonName::parse("O'Neil").unwrap(),
            role,
            place,
            grade: grade.map(|g| Grade::parse(g).unwrap()),
            title: title.map(|t| Title::parse(t).unwrap()),
            source_id: Some(format!("{name}-{login}")),
            disabled,
        };
        let user = store
            .insert_user(tenant, &new, audit(tenant))
            .await
            .unwrap();
        if login == "coach" {
            let discord = DiscordUserId::parse(if name == "a" { "4242" } else { "4343" }).unwrap();
            store
                .link_discord(&user, discord, audit(tenant))
                .await
                .unwrap();
        }
    }
    tenant
}

async fn row_by_row(store: &Store, tenant: TenantId) -> Vec<User> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.tenant_id = $1 ORDER BY u.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.to_string())
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter().map(|r| user_from_row(r).unwrap()).collect()
}

async fn users_read_in_pages_of_json_are_the_users_read_row_by_row(store: &Store) {
    let a = people(store, "a").await;
    people(store, "b").await;
    let expected = row_by_row(store, a).await;
    assert_eq!(expected.len(), 4);
    assert!(
        expected
            .iter()
            .any(|u| u.discord_user_id.is_some() && u.title.is_some())
    );
    for page in [1, 2, 3, 4, 100] {
        let read = store.tenant_users_in_pages(a, page).await.unwrap();
        assert_eq!(read, expected, "page size {page}");
    }
}

async fn roster_values_read_in_pages_are_every_imported_user_of_the_tenant_and_no_other(
    store: &Store,
) {
    let bundle =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oneroster/sample");
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let mut tenants = Vec::new();
    for name in ["a", "b"] {
        let name = TenantName::parse(name).unwrap();
        let report = import_oneroster(store, &name, &bundle, &ImportOptions::default(), now)
            .await
            .unwrap();
        assert!(report.users_created > 3, "{report:?}");
        tenants.push((
            store.tenant_by_name(&name).await.unwrap().unwrap().id,
            report.users_created,
        ));
    }
    let (a, created) = tenants[0];
    let whole = store.roster_values_in_pages(a, 10_000).await.unwrap();
    assert_eq!(whole.len(), created);
    let users = store.tenant_users(a).await.unwrap();
    for user in &users {
        let said = &whole[&user.id];
        assert_eq!(
            (&said.login, said.role, said.place),
            (&user.login, user.role, user.place)
        );
    }
    for page in [1, 2, 3] {
        assert_eq!(
            store.roster_values_in_pages(a, page).await.unwrap(),
            whole,
            "page size {page}"
        );
    }
}

crate::store::store_tests_on_both_backends!(
    users_read_in_pages_of_json_are_the_users_read_row_by_row,
    roster_values_read_in_pages_are_every_imported_user_of_the_tenant_and_no_other,
    every_page_is_a_range_of_the_tenants_own_ids_never_a_sort_nor_other_tenants,
);

/// Without statistics, PostgreSQL planned each page of a freshly imported
/// tenant as a sort of the whole tenant; the import gathers them.
#[tokio::test]
async fn postgres_an_import_that_wrote_leaves_the_statistics_of_users_and_roster_values_gathered() {
    let (db, store) = PostgresForTests::migrated("hallpass_pages").await;
    let analyzed = || async {
        let sql = "SELECT COUNT(*) FROM pg_stat_user_tables \
                   WHERE relname IN ('users', 'roster_values') AND last_analyze IS NOT NULL";
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    assert_eq!(analyzed().await, 0, "a new database has no statistics yet");
    let bundle =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oneroster/sample");
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let name = TenantName::parse("a").unwrap();
    import_oneroster(&store, &name, &bundle, &ImportOptions::default(), now)
        .await
        .unwrap();
    let mut found = 0;
    for _ in 0..50 {
        found = analyzed().await;
        if found == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        found, 2,
        "ANALYZE after the import (not autovacuum's, which is last_autoanalyze)"
    );
    db.drop_with(store).await;
}

const BIG: i64 = 20_000;

/// A shared database: tenant "big" of `BIG` district admins, each with what
/// the roster said about them, and tenant "small" of three.
async fn big_and_small(store: &Store) -> TenantId {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
    let mut small = None;
    for (name, n) in [("big", BIG), ("small", 3)] {
        let tenant = store
            .create_tenant(&TenantName::parse(name).unwrap(), now)
            .await
            .unwrap()
            .id;
        let district = store.create_district(tenant, "D", None).await.unwrap().id;
        sqlx::query(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $4) \
             INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, first_key, \
             last_key, role, district_id, created_at, updated_at) \
             SELECT $1 || n, $2, $1 || n, $1 || n, 'Ana', 'Kim', 'ana', 'kim', 'district_admin', $3, \
             '2026-12-03T09:00:00Z', '2026-12-03T09:00:00Z' FROM s",
        )
        .bind(name)
        .bind(tenant.to_string())
        .bind(district.to_string())
        .bind(n)
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO roster_values (user_id, login, first_name, last_name, role, district_id, \
             disabled, updated_at) SELECT id, login, first_name, last_name, role, district_id, 0, \
             updated_at FROM users WHERE tenant_id = $1",
        )
        .bind(tenant.to_string())
        .execute(store.pool())
        .await
        .unwrap();
        small = Some(tenant);
    }
    if store.backend() == super::Backend::Postgres {
        sqlx::query("ANALYZE users, roster_values")
            .execute(store.pool())
            .await
            .unwrap();
    }
    small.unwrap()
}

/// Every page is one range of the tenant's own ids in the index that
/// begins with the tenant (`users_by_tenant`, migration 180): never a sort of
/// the tenant for every page, which made reading a tenant of a million
/// quadratic (100 sorts of a million rows for the import's users), and never
/// a walk of every tenant's rows in the order of a key of their own, which
/// made reading a small district of a shared database cost the whole
/// database. PostgreSQL's plan is its generic one, on analyzed tables.
async fn every_page_is_a_range_of_the_tenants_own_ids_never_a_sort_nor_other_tenants(
    store: &Store,
) {
    let small = big_and_small(store).await;
    let range: &[&str] = match store.backend() {
        super::Backend::Sqlite => &[
            "SEARCH u USING ",
            "INDEX users_by_tenant (tenant_id=? AND id>?)",
        ],
        super::Backend::Postgres => &[
            "Scan using users_by_tenant on users u",
            "Index Cond: ((tenant_id = $1) AND (id > $2))",
        ],
    };
    let mut conn = store.pool().acquire().await.unwrap();
    let pages = [
        ("users", &super::roster::USER_PAGES),
        ("roster values", &super::roster_values::VALUES_PAGES),
        ("people", &super::directory::PERSON_PAGES),
    ];
    for (what, pages) in pages {
        let sql = super::json_pages::page_sql(store.backend(), pages);
        let plan = match store.backend() {
            super::Backend::Sqlite => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .bind(small.to_string())
                    .bind("")
                    .bind(10_i64)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
                let lines: Vec<String> = rows
                    .iter()
                    .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
                    .collect();
                lines.join("\n")
            }
            super::Backend::Postgres => {
                super::postgres_generic_plan(&mut conn, &sql, &["text", "text", "bigint"]).await
            }
        };
        for part in range {
            assert!(plan.contains(part), "{what}:\n{plan}");
        }
        for never in ["TEMP B-TREE", "Sort", "Seq Scan on users"] {
            assert!(!plan.contains(never), "{what}:\n{plan}");
        }
    }
}
