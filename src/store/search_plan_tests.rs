//! The fallback search after migration 150: each branch stays one range of
//! one covering index on SQLite (never a scan of `users`), and a school
//! search, which now walks its district's range, still keeps to its school.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use sqlx::Row;

use super::{SearchScope, search_sql};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{Login, PersonName, Place, Role, TenantName};
use crate::store::{NewUser, Store};

async fn district_with_two_schools() -> (
    tempfile::TempDir,
    Store,
    crate::directory::TenantId,
    Place,
    Place,
    Place,
) {
    let (dir, store) = crate::store::migrated_sqlite_for_tests().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let tenant = store
        .create_tenant(&TenantName::parse("t").unwrap(), now)
        .await
        .unwrap()
        .id;
    let district = store.create_district(tenant, "D", None).await.unwrap().id;
    let mut schools = Vec::new();
    for name in ["A", "B"] {
        let school = store
            .create_school(tenant, district, name, None)
            .await
            .unwrap()
            .id;
        schools.push(Place::School { school, district });
    }
    let audit = AuditEntry::new(
        Some(tenant),
        now,
        AuditActor::system("t"),
        Action::UserCreate,
        Origin::api("t"),
    );
    let places = [
        (schools[0], Role::Student, "a"),
        (schools[1], Role::Student, "b"),
        (Place::District { district }, Role::DistrictAdmin, "d"),
    ];
    for (place, role, tag) in places {
        for n in 0..3 {
            let new = NewUser {
                login: Login::parse(&format!("mara{tag}{n}")).unwrap(),
                first_name: PersonName::parse("Mara").unwrap(),
                last_name: PersonName::parse(&format!("Moss{tag}")).unwrap(),
                role,
                place,
                grade: None,
                title: None,
                source_id: None,
                disabled: false,
            };
            store
                .insert_user(tenant, &new, audit.clone())
                .await
                .unwrap();
        }
    }
    let district = Place::District { district };
    (dir, store, tenant, schools[0], schools[1], district)
}

#[tokio::test]
async fn every_branch_is_one_range_of_a_covering_district_index_in_both_scopes() {
    let (_dir, store, tenant, school, _, district) = district_with_two_schools().await;
    let scopes = [
        (
            SearchScope::School(school.school().unwrap()),
            school.school().unwrap().to_string(),
        ),
        (
            SearchScope::District(district.district()),
            district.district().to_string(),
        ),
    ];
    for (scope, id) in scopes {
        let sql = search_sql(scope, &[Role::Student, Role::Teacher]).unwrap();
        let plan: Vec<String> =
            sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind(tenant.to_string())
                .bind(id)
                .bind("m")
                .bind("m\u{10FFFF}")
                .bind(25_i64)
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String, _>("detail").unwrap())
                .collect();
        for key in ["last", "first", "login"] {
            let range = format!(
                "SEARCH u USING COVERING INDEX users_search_{key} (district_id=? AND {key}_key>? AND {key}_key<?)"
            );
            assert!(
                plan.iter().any(|step| step.contains(&range)),
                "{scope:?}: {plan:#?}"
            );
        }
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN u")),
            "{scope:?} scans users: {plan:#?}"
        );
    }
}

#[tokio::test]
async fn a_school_search_finds_its_school_alone_and_a_district_search_the_whole_district() {
    let (_dir, store, tenant, a, b, district) = district_with_two_schools().await;
    let logins = |found: Vec<crate::directory::User>| -> Vec<String> {
        let mut logins: Vec<String> = found.iter().map(|u| u.login.to_string()).collect();
        logins.sort();
        logins
    };
    let all = [Role::Student, Role::DistrictAdmin];
    let in_a = store
        .search_users(
            tenant,
            SearchScope::School(a.school().unwrap()),
            &all,
            "mar",
            25,
        )
        .await
        .unwrap();
    assert_eq!(logins(in_a), ["maraa0", "maraa1", "maraa2"]);
    let in_b = store
        .search_users(
            tenant,
            SearchScope::School(b.school().unwrap()),
            &all,
            "mossb",
            25,
        )
        .await
        .unwrap();
    assert_eq!(logins(in_b), ["marab0", "marab1", "marab2"]);
    let whole = store
        .search_users(
            tenant,
            SearchScope::District(district.district()),
            &all,
            "mara",
            25,
        )
        .await
        .unwrap();
    assert_eq!(
        logins(whole).len(),
        9,
        "both schools and the district admins"
    );
    let capped = store
        .search_users(
            tenant,
            SearchScope::School(a.school().unwrap()),
            &all,
            "mara",
            2,
        )
        .await
        .unwrap();
    assert_eq!(capped.len(), 2);
    assert!(capped.iter().all(|u| u.place == a), "{capped:?}");
}
