use super::*;

on_both_backends!(
    a_bundle_with_classes_ties_each_student_and_teacher_to_their_classes,
    importing_the_same_bundle_with_classes_again_changes_nothing,
    tobedeleted_ends_an_enrolment_and_on_a_class_removes_it_with_its_enrolments,
    enrolments_alone_may_name_classes_imported_before,
    a_generated_bundle_imports_every_class_and_enrolment_and_again_changes_nothing,
);

async fn a_bundle_with_classes_ties_each_student_and_teacher_to_their_classes(db: TestDb) {
    let report = import(&db, full_bundle().path()).await;
    assert!(report.refused.is_empty(), "{report}");
    let counts = report.classes.clone().unwrap();
    assert_eq!(
        (counts.classes_created, counts.enrollments_created),
        (4, 11),
        "{report}"
    );
    let tenant = tenant_id(&db.store, "lincoln").await;
    let sci = class(&db.store, tenant, "c-sci").await;
    assert_eq!(
        (sci.title.as_str(), sci.label()),
        ("Science 7B", "Science 7B (SCI-7B)".to_owned())
    );
    let lms = user(&db.store, "minh.nguyen").await.place;
    assert_eq!(
        (Some(sci.school_id), sci.district_id),
        (lms.school(), lms.district())
    );
    assert_eq!(
        logins(&db.store, &sci).await,
        ["zoe.adams", "ana.lopez", "ben.lopez", "minh.nguyen"],
        "family name, given name, login"
    );
    let tess = user(&db.store, "tess.harper").await;
    let omar = user(&db.store, "omar.reyes").await;
    assert!(db.store.teaches(tess.id, sci.id).await.unwrap());
    assert!(!db.store.teaches(omar.id, sci.id).await.unwrap());
    let minh = user(&db.store, "minh.nguyen").await;
    assert!(
        !db.store.teaches(minh.id, sci.id).await.unwrap(),
        "a student does not teach"
    );
    let art = class(&db.store, tenant, "c-art").await;
    assert!(
        db.store.teaches(tess.id, art.id).await.unwrap(),
        "a teacher may teach in another school"
    );
    let printed = report.to_string();
    assert!(
        printed.contains("Classes: 4 created, 0 updated, 0 unchanged, 0 ended"),
        "{printed}"
    );
    assert!(printed.contains("Enrolments: 11 created"), "{printed}");
    let events = audit(&db.store).await;
    let summary = events.iter().find(|e| e.action == "roster.import").unwrap();
    let after = summary.after.as_ref().unwrap();
    assert_eq!(
        (
            after["classes_created"].clone(),
            after["enrollments_created"].clone()
        ),
        (4.into(), 11.into())
    );
}

async fn importing_the_same_bundle_with_classes_again_changes_nothing(db: TestDb) {
    let dir = full_bundle();
    import(&db, dir.path()).await;
    let snapshot = |store: Store| async move {
        let classes: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, title, updated_at FROM classes ORDER BY id")
                .fetch_all(store.pool())
                .await
                .unwrap();
        let enrolments: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT source_id, class_id, updated_at FROM enrollments ORDER BY source_id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        (classes, enrolments)
    };
    let before = snapshot(db.store.clone()).await;
    let again = import_into(&db.store, "lincoln", dir.path(), false).await;
    let counts = again.classes.clone().unwrap();
    assert!(again.refused.is_empty(), "{again}");
    assert_eq!(
        (
            counts.classes_created,
            counts.classes_updated,
            counts.classes_unchanged
        ),
        (0, 0, 4),
        "{again}"
    );
    assert_eq!(
        (
            counts.enrollments_created,
            counts.enrollments_updated,
            counts.enrollments_unchanged
        ),
        (0, 0, 11),
        "{again}"
    );
    assert_eq!(
        snapshot(db.store.clone()).await,
        before,
        "not a row rewritten"
    );
}

async fn tobedeleted_ends_an_enrolment_and_on_a_class_removes_it_with_its_enrolments(db: TestDb) {
    import(&db, full_bundle().path()).await;
    let tenant = tenant_id(&db.store, "lincoln").await;
    let math = class(&db.store, tenant, "c-math").await;
    let classes = CLASSES.replace("c-art,active,", "c-art,tobedeleted,");
    let enrollments = ENROLLMENTS.replace("e-3,active,", "e-3,tobedeleted,");
    let report = import(&db, bundle(Some(&classes), Some(&enrollments)).path()).await;
    let counts = report.classes.clone().unwrap();
    // The art class's two enrolments name a class that is gone: refused, said so.
    let refused: Vec<(&str, u64)> = report
        .refused
        .iter()
        .map(|r| (r.file.as_str(), r.line))
        .collect();
    assert_eq!(
        refused,
        [("enrollments.csv", 9), ("enrollments.csv", 10)],
        "{report}"
    );
    assert!(report.refused[0].reason.contains("c-art"), "{report}");
    assert_eq!(
        (counts.classes_ended, counts.enrollments_ended),
        (1, 1),
        "{report}"
    );
    let sci = class(&db.store, tenant, "c-sci").await;
    assert_eq!(
        logins(&db.store, &sci).await,
        ["zoe.adams", "ben.lopez", "minh.nguyen"]
    );
    let left: Vec<String> = enrolments(&db.store)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        left,
        ["e-1", "e-2", "e-4", "e-5", "e-6", "e-7", "e-10", "e-11"],
        "e-8, e-9 went with the class"
    );
    assert_eq!(logins(&db.store, &math).await, ["minh.nguyen"]);
    let sources: Vec<(String,)> =
        sqlx::query_as("SELECT source_id FROM classes ORDER BY source_id")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    assert_eq!(
        sources,
        [
            ("c-bio".to_owned(),),
            ("c-math".to_owned(),),
            ("c-sci".to_owned(),)
        ]
    );
    // Ending what is already ended is nothing more.
    let again = import(&db, bundle(Some(&classes), Some(&enrollments)).path()).await;
    let counts = again.classes.unwrap();
    assert_eq!((counts.classes_ended, counts.enrollments_ended), (0, 0));
}

async fn enrolments_alone_may_name_classes_imported_before(db: TestDb) {
    let first = import(&db, bundle(Some(CLASSES), None).path()).await;
    let counts = first.classes.clone().unwrap();
    assert_eq!(
        (counts.classes_created, counts.enrollments_file),
        (4, false)
    );
    assert!(first.to_string().contains("no enrollments.csv"), "{first}");
    let second = import(&db, bundle(None, Some(ENROLLMENTS)).path()).await;
    assert!(second.refused.is_empty(), "{second}");
    let counts = second.classes.clone().unwrap();
    assert_eq!(
        (counts.classes_file, counts.enrollments_created),
        (false, 11)
    );
    assert!(second.to_string().contains("no classes.csv"), "{second}");
    assert_eq!(enrolments(&db.store).await.len(), 11);
}

async fn a_generated_bundle_imports_every_class_and_enrolment_and_again_changes_nothing(
    db: TestDb,
) {
    let dir = tempfile::tempdir().unwrap();
    write_sample_bundle(dir.path(), 3_000, 5).unwrap();
    let rows = |name: &str| {
        std::fs::read_to_string(dir.path().join(name))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    let report = import(&db, dir.path()).await;
    assert!(report.refused.is_empty(), "{report}");
    let counts = report.classes.clone().unwrap();
    assert_eq!(
        (counts.classes_created, counts.enrollments_created),
        (rows("classes.csv"), rows("enrollments.csv")),
        "{report}"
    );
    let students: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT user_id) FROM enrollments WHERE role = 'student'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(students, 3_000 - 1 - 3 - 120, "every student in a class");
    let again = import(&db, dir.path()).await;
    let counts = again.classes.unwrap();
    assert_eq!(
        (
            counts.classes_unchanged,
            counts.enrollments_unchanged,
            counts.classes_created + counts.enrollments_created
        ),
        (rows("classes.csv"), rows("enrollments.csv"), 0)
    );
}
