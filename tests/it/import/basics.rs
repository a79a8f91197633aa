use super::*;

on_both_backends!(
    the_sample_bundle_imports_every_org_and_user_into_their_places,
    a_generated_bundle_of_two_thousand_users_imports_completely,
);

async fn the_sample_bundle_imports_every_org_and_user_into_their_places(db: TestDb) {
    let report = import(&db, &fixture("sample")).await;
    assert!(report.refused.is_empty(), "{report}");
    assert_eq!(
        (report.orgs_created, report.users_created),
        (4, 28),
        "{report}"
    );
    let tenant = db.store.tenant_by_name(&tenant()).await.unwrap().unwrap();
    let schools = db.store.schools(tenant.id).await.unwrap();
    let school = |name: &str| {
        schools
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let district = db.store.districts(tenant.id).await.unwrap().remove(0);
    assert_eq!(district.name, "Lincoln Unified School District");
    assert!(schools.iter().all(|s| s.district_id == district.id));

    let minh = user(&db.store, "minh.nguyen").await;
    assert_eq!(
        (minh.first_name.as_str(), minh.last_name.as_str()),
        ("Minh", "Nguyễn")
    );
    assert_eq!(
        (minh.role, minh.grade),
        (Role::Student, Some(Grade::Numbered(7)))
    );
    assert_eq!(
        minh.place.school(),
        Some(school("Lincoln Middle School").id)
    );
    assert_eq!(minh.source_id.as_deref(), Some("stu-1002"));
    assert_eq!(
        user(&db.store, "ZOE.FISCHER").await.first_name.as_str(),
        "Zoë"
    );
    assert_eq!(
        user(&db.store, "mia.johnson").await.grade,
        Some(Grade::Kindergarten)
    );

    let maria = user(&db.store, "maria.okafor@lincolnusd.example").await;
    assert_eq!(
        (maria.role, maria.place),
        (
            Role::DistrictAdmin,
            Place::District {
                district: district.id
            }
        )
    );
    let grace = user(&db.store, "grace.kim@lincolnusd.example").await;
    assert_eq!(
        (grace.role, grace.place.school()),
        (Role::SchoolAdmin, Some(school("Adams Elementary").id))
    );
    let tess = user(&db.store, "tess.harper@lincolnusd.example").await;
    assert_eq!(
        (tess.role, tess.grade, tess.title),
        (Role::Teacher, None, None),
        "a teacher's grades are not hers"
    );
    let marcus = user(&db.store, "marcus.bell@lincolnusd.example").await;
    assert_eq!(
        marcus.place.school(),
        Some(school("Lincoln Middle School").id),
        "the first of two schools"
    );

    let events = audit(&db.store).await;
    let created: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.action == "user.create")
        .collect();
    assert_eq!(created.len(), 28);
    let minh_created = created
        .iter()
        .find(|e| e.target_user_id == Some(minh.id.to_string()))
        .unwrap();
    assert_eq!(minh_created.actor, "roster import");
    let caller = minh_created.origin.api_caller.as_deref().unwrap();
    assert!(
        caller.starts_with("oneroster:") && caller.ends_with("sample"),
        "{caller}"
    );
    assert_eq!(minh_created.after.as_ref().unwrap()["last_name"], "Nguyễn");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "roster.import")
            .count(),
        1
    );
    let summary = events.iter().find(|e| e.action == "roster.import").unwrap();
    assert_eq!(summary.after.as_ref().unwrap()["users_created"], 28);
}

async fn a_generated_bundle_of_two_thousand_users_imports_completely(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    write_sample_bundle(dir.path(), 2_000, 42).unwrap();
    let report = import(&db, dir.path()).await;
    assert!(report.refused.is_empty(), "{report}");
    assert_eq!((report.orgs_created, report.users_created), (3, 2_000));
    assert_eq!(all_users(&db.store).await.len(), 2_000);
    assert_eq!(
        audit(&db.store)
            .await
            .iter()
            .filter(|e| e.action == "user.create")
            .count(),
        2_000
    );
    let again = import(&db, dir.path()).await;
    assert_eq!(
        (
            again.users_unchanged,
            again.users_created,
            again.users_updated
        ),
        (2_000, 0, 0)
    );
}

#[tokio::test]
async fn a_bundle_without_users_csv_or_a_required_column_stops_before_writing_anything() {
    let db = TestDb::sqlite().await;
    let options = ImportOptions::default();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("sample/orgs.csv"), dir.path().join("orgs.csv")).unwrap();
    let err = import_oneroster(&db.store, &tenant(), dir.path(), &options, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImportError::MissingFile { ref file, .. } if file == "users.csv"),
        "{err}"
    );
    assert!(err.to_string().contains("users.csv"), "{err}");

    std::fs::write(
        dir.path().join("users.csv"),
        "sourcedId,role,username,givenName,orgSourcedIds\n",
    )
    .unwrap();
    let err = import_oneroster(&db.store, &tenant(), dir.path(), &options, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImportError::MissingColumn { ref column, .. } if column == "familyName"),
        "{err}"
    );
    assert!(err.to_string().contains("\"familyName\""), "{err}");
    assert_eq!(
        db.store.tenant_by_name(&tenant()).await.unwrap(),
        None,
        "not even the tenant was created"
    );
    assert!(audit(&db.store).await.is_empty());
}
