//! Real exports, read as they come: fixture bundles under
//! `tests/fixtures/oneroster/` shaped like public samples written by other
//! people for their own importers, on SQLite and on PostgreSQL alike.

use hallpass::directory::{Place, Role};

use crate::helpers::{TestDb, on_both_backends};
use crate::import::{fixture, import, tenant, user};

on_both_backends!(
    schools_that_name_no_district_go_into_an_implicit_district_named_after_the_school_reported_once,
    a_school_finds_its_district_above_local_orgs_and_one_under_only_state_orgs_gets_an_implicit_one,
    the_people_of_a_department_belong_to_the_school_above_it,
    extension_columns_empty_status_any_case_booleans_and_other_date_forms_are_read_as_they_come,
);

/// (district name, implicit flag) of every district, by name.
async fn districts(db: &TestDb) -> Vec<(String, i64)> {
    sqlx::query_as::<_, (String, i64)>("SELECT name, implicit FROM districts ORDER BY name")
        .fetch_all(db.store.pool())
        .await
        .unwrap()
}

async fn school_named(db: &TestDb, name: &str) -> hallpass::directory::School {
    let tenant = db.store.tenant_by_name(&tenant()).await.unwrap().unwrap();
    db.store
        .schools(tenant.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no school {name}"))
}

async fn schools_that_name_no_district_go_into_an_implicit_district_named_after_the_school_reported_once(
    db: TestDb,
) {
    let report = import(&db, &fixture("charter")).await;
    assert!(report.refused.is_empty(), "{report}");
    assert_eq!(report.users_created, 6, "{report}");
    let named: Vec<(&str, &str)> = report
        .implicit_districts
        .iter()
        .map(|d| (d.name.as_str(), d.school_source_id.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            ("Harbor Charter Academy", "org-hca"),
            ("Lone Pine School", "org-lps")
        ]
    );
    assert_eq!(
        districts(&db).await,
        vec![
            ("Harbor Charter Academy".to_owned(), 1),
            ("Lone Pine School".to_owned(), 1)
        ],
        "named after the school, marked implicit"
    );
    // The campus whose parent is the academy shares the academy's district.
    let academy = school_named(&db, "Harbor Charter Academy").await;
    let campus = school_named(&db, "Harbor Charter Academy Upper Campus").await;
    assert_eq!(campus.district_id, academy.district_id);
    assert!(
        report
            .to_string()
            .contains("implicit district: \"Lone Pine School\" was made for school org-lps")
    );

    let again = import(&db, &fixture("charter")).await;
    assert!(
        again.implicit_districts.is_empty(),
        "reported once: {again}"
    );
    assert_eq!(
        (again.orgs_created, again.users_unchanged),
        (0, 6),
        "{again}"
    );
    assert_eq!(districts(&db).await.len(), 2);
}

async fn a_school_finds_its_district_above_local_orgs_and_one_under_only_state_orgs_gets_an_implicit_one(
    db: TestDb,
) {
    let report = import(&db, &fixture("statewide")).await;
    assert!(report.refused.is_empty(), "{report}");
    let riverside = districts(&db).await;
    assert_eq!(
        riverside,
        vec![
            ("Riverside Unified".to_owned(), 0),
            ("State Virtual School".to_owned(), 1)
        ]
    );
    let north = school_named(&db, "Riverside North High").await;
    let elementary = school_named(&db, "Riverside Elementary").await;
    assert_eq!(
        north.district_id, elementary.district_id,
        "through the local org"
    );
    let ada = user(&db.store, "ada.stone@riverside.example").await;
    assert_eq!(
        (ada.role, ada.place),
        (
            Role::DistrictAdmin,
            Place::District {
                district: north.district_id
            }
        )
    );
    assert_eq!(report.implicit_districts.len(), 1);
}

async fn the_people_of_a_department_belong_to_the_school_above_it(db: TestDb) {
    import(&db, &fixture("statewide")).await;
    let north = school_named(&db, "Riverside North High").await;
    let ben = user(&db.store, "ben.okoro@riverside.example").await;
    assert_eq!(
        (ben.role, ben.place.school()),
        (Role::Teacher, Some(north.id))
    );

    let report = import(&db, &fixture("charter")).await;
    let academy = school_named(&db, "Harbor Charter Academy").await;
    let li = user(&db.store, "li.chen@harbor.example").await;
    assert_eq!(li.place.school(), Some(academy.id), "{report}");
}

async fn extension_columns_empty_status_any_case_booleans_and_other_date_forms_are_read_as_they_come(
    db: TestDb,
) {
    let charter = import(&db, &fixture("charter")).await;
    assert!(charter.refused.is_empty(), "{charter}");
    let june = user(&db.store, "june.park").await;
    assert!(june.disabled, "enabledUser FALSE");
    assert!(
        !user(&db.store, "rosa.vega@harbor.example").await.disabled,
        "TRUE"
    );
    assert!(
        !user(&db.store, "li.chen@harbor.example").await.disabled,
        "True"
    );
    assert!(
        !user(&db.store, "eli.brooks").await.disabled,
        "empty status and date"
    );
    assert_eq!(
        user(&db.store, "rosa.vega@harbor.example").await.role,
        Role::SchoolAdmin
    );

    let statewide = import(&db, &fixture("statewide")).await;
    assert!(statewide.refused.is_empty(), "{statewide}");
    assert_eq!(statewide.users_created, 5, "{statewide}");
    assert!(
        user(&db.store, "eve.hart").await.disabled,
        "enabledUser false"
    );
    assert_eq!(
        user(&db.store, "dia.ruiz").await.grade.map(|g| g.code()),
        Some("03".to_owned()),
        "a compact dateLastModified and an ext_ column do not stop the row"
    );
}
