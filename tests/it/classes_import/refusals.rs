use super::*;

on_both_backends!(
    bad_class_and_enrolment_rows_are_refused_with_file_line_and_reason_and_the_rest_imported,
    a_bundle_without_class_files_imports_as_before_and_leaves_classes_as_they_are,
    a_dry_run_with_classes_plans_every_row_and_writes_nothing,
    a_class_file_without_a_required_column_stops_the_import_before_anything_is_written,
);

async fn bad_class_and_enrolment_rows_are_refused_with_file_line_and_reason_and_the_rest_imported(
    db: TestDb,
) {
    // Another tenant with a class of its own, "c-other".
    let elsewhere = CLASSES.replace("c-bio,", "c-other,");
    import_into(
        &db.store,
        "other",
        bundle(Some(&elsewhere), None).path(),
        false,
    )
    .await;
    let classes = format!(
        "{CLASSES}\
c-nowhere,active,,Lost,,,,scheduled,,s-9,,,,
c-district,active,,District Hall,,,,scheduled,,d-1,,,,
c-untitled,active,,,,,,scheduled,,s-1,,,,
c-sci,active,,Science again,,,,scheduled,,s-1,,,,
"
    );
    let enrollments = format!(
        "{ENROLLMENTS}\
e-12,active,,c-sci,s-1,u-ghost,student,false,,
e-13,active,,c-ghost,s-1,u-s2,student,false,,
e-14,active,,c-sci,s-1,u-s5,headteacher,false,,
e-15,active,,c-math,s-1,u-s2,teacher,false,,
e-16,active,,c-math,s-1,u-t1,student,false,,
e-17,active,,c-other,s-1,u-s2,student,false,,
e-18,active,,c-sci,s-2,u-s5,student,false,,
e-19,active,,c-math,s-1,u-s1,student,false,,
e-20,active,,c-sci,s-1,u-sa,aide,false,,
e-21,active,,c-math,s-1,u-sa,teacher,false,,
"
    );
    let report = import(&db, bundle(Some(&classes), Some(&enrollments)).path()).await;
    let refused: Vec<(&str, u64, Option<&str>)> = report
        .refused
        .iter()
        .map(|r| (r.file.as_str(), r.line, r.source_id.as_deref()))
        .collect();
    assert_eq!(
        refused,
        [
            ("classes.csv", 6, Some("c-nowhere")),
            ("classes.csv", 7, Some("c-district")),
            ("classes.csv", 8, Some("c-untitled")),
            ("classes.csv", 9, Some("c-sci")),
            ("enrollments.csv", 13, Some("e-12")),
            ("enrollments.csv", 14, Some("e-13")),
            ("enrollments.csv", 15, Some("e-14")),
            ("enrollments.csv", 16, Some("e-15")),
            ("enrollments.csv", 17, Some("e-16")),
            ("enrollments.csv", 18, Some("e-17")),
            ("enrollments.csv", 19, Some("e-18")),
            ("enrollments.csv", 20, Some("e-19")),
        ],
        "{report}"
    );
    let reason = |line: u64| {
        let row = report
            .refused
            .iter()
            .find(|r| r.line == line && r.file == "enrollments.csv");
        row.map(|r| r.reason.clone()).unwrap()
    };
    let class_reason = |line: u64| {
        let row = report
            .refused
            .iter()
            .find(|r| r.line == line && r.file == "classes.csv");
        row.map(|r| r.reason.clone()).unwrap()
    };
    assert!(class_reason(6).contains("s-9 names no school"), "{report}");
    assert!(class_reason(7).contains("is a district"), "{report}");
    assert_eq!(class_reason(8), "title is empty.");
    assert!(class_reason(9).contains("first on line 2"), "{report}");
    assert!(reason(13).contains("u-ghost names no user"), "{report}");
    assert!(reason(14).contains("c-ghost names no class"), "{report}");
    assert!(reason(15).contains("\"headteacher\""), "{report}");
    assert!(
        reason(16).contains("is a student") && reason(16).contains("as teacher"),
        "{report}"
    );
    assert!(
        reason(17).contains("is a teacher") && reason(17).contains("as student"),
        "{report}"
    );
    assert!(
        reason(18).contains("c-other names no class of this tenant"),
        "{report}"
    );
    assert!(
        reason(19).contains("not the school of class c-sci"),
        "{report}"
    );
    assert!(
        reason(20).contains("already enrolled") && reason(20).contains("e-7"),
        "{report}"
    );
    let printed = report.to_string();
    assert!(
        printed
            .contains("refused: enrollments.csv line 13 (sourcedId e-12): userSourcedId u-ghost"),
        "{printed}"
    );
    let counts = report.classes.clone().unwrap();
    assert_eq!(
        (counts.classes_created, counts.enrollments_created),
        (4, 12),
        "{report}"
    );
    assert_eq!(
        counts.enrollments_skipped, 1,
        "the aide's row is skipped, not refused"
    );
    let tenant = tenant_id(&db.store, "lincoln").await;
    let math = class(&db.store, tenant, "c-math").await;
    let sam = user(&db.store, "sam.admin").await;
    assert!(
        db.store.teaches(sam.id, math.id).await.unwrap(),
        "a school admin who teaches"
    );
    assert_eq!(
        class(&db.store, tenant, "c-sci").await.title,
        "Science 7B",
        "the first row stands"
    );
    let other = tenant_id(&db.store, "other").await;
    let other_class = class(&db.store, other, "c-other").await;
    assert!(
        db.store
            .class_students(other_class.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_bundle_without_class_files_imports_as_before_and_leaves_classes_as_they_are(db: TestDb) {
    import(&db, full_bundle().path()).await;
    let report = import(&db, bundle(None, None).path()).await;
    assert_eq!(report.classes, None);
    let printed = report.to_string();
    assert!(!printed.contains("Classes"), "{printed}");
    assert!(
        report
            .json_lines()
            .last()
            .unwrap()
            .get("classes_created")
            .is_none()
    );
    assert_eq!(enrolments(&db.store).await.len(), 11, "left as they are");

    let fresh = import_into(&db.store, "fresh", bundle(None, None).path(), false).await;
    assert!(
        fresh.refused.is_empty() && fresh.classes.is_none(),
        "{fresh}"
    );
    assert_eq!(fresh.users_created, 11);
    let events = audit(&db.store).await;
    let summaries: Vec<bool> = events
        .iter()
        .filter(|e| e.action == "roster.import")
        .map(|e| e.after.as_ref().unwrap().get("classes_created").is_some())
        .collect();
    assert_eq!(summaries.len(), 3);
    assert_eq!(
        summaries.iter().filter(|&&has| has).count(),
        1,
        "only the bundle with classes counts them"
    );
}

async fn a_dry_run_with_classes_plans_every_row_and_writes_nothing(db: TestDb) {
    let report = import_into(&db.store, "lincoln", full_bundle().path(), true).await;
    assert!(
        report.refused.is_empty(),
        "users only planned are found: {report}"
    );
    let counts = report.classes.clone().unwrap();
    assert_eq!(
        (counts.classes_created, counts.enrollments_created),
        (4, 11),
        "{report}"
    );
    for table in ["classes", "enrollments", "users", "tenants", "audit_events"] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.store.pool())
                .await
                .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // And against an imported tenant: a planned end is reported, not made.
    import(&db, full_bundle().path()).await;
    let enrollments = ENROLLMENTS.replace("e-2,active,", "e-2,tobedeleted,");
    let dry = import_into(
        &db.store,
        "lincoln",
        bundle(Some(CLASSES), Some(&enrollments)).path(),
        true,
    )
    .await;
    assert_eq!(dry.classes.unwrap().enrollments_ended, 1);
    assert_eq!(enrolments(&db.store).await.len(), 11);
}

async fn a_class_file_without_a_required_column_stops_the_import_before_anything_is_written(
    db: TestDb,
) {
    let classes = CLASSES.replace("schoolSourcedId", "school");
    let error = import_oneroster(
        &db.store,
        &tenant(),
        bundle(Some(&classes), Some(ENROLLMENTS)).path(),
        &ImportOptions::default(),
        t0(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ImportError::MissingColumn { file, column, .. } if file == "classes.csv" && column == "schoolSourcedId"),
        "{error}"
    );
    let enrollments = ENROLLMENTS.replace("userSourcedId", "personSourcedId");
    let error = import_oneroster(
        &db.store,
        &tenant(),
        bundle(Some(CLASSES), Some(&enrollments)).path(),
        &ImportOptions::default(),
        t0(),
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("enrollments.csv has no \"userSourcedId\""),
        "{error}"
    );
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(users, 0, "nothing written");
}
