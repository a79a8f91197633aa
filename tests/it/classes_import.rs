//! Classes and enrolments from the roster (issue 11 part 1), on SQLite and
//! PostgreSQL: a bundle with classes.csv and enrollments.csv ties students and
//! teachers to their classes; a re-import changes nothing; `tobedeleted` ends
//! an enrolment or a class; refused rows are reported with file, line and
//! reason while the others are imported; a bundle without the files imports
//! as before; a dry run writes nothing.

use std::path::Path;

use hallpass::directory::{Class, TenantId};
use hallpass::roster::{
    ImportError, ImportOptions, ImportReport, import_oneroster, write_sample_bundle,
};
use hallpass::store::Store;

use crate::helpers::{TestDb, on_both_backends, t0};
use crate::import::{audit, tenant, user};

on_both_backends!(
    a_bundle_with_classes_ties_each_student_and_teacher_to_their_classes,
    importing_the_same_bundle_with_classes_again_changes_nothing,
    tobedeleted_ends_an_enrolment_and_on_a_class_removes_it_with_its_enrolments,
    bad_class_and_enrolment_rows_are_refused_with_file_line_and_reason_and_the_rest_imported,
    a_bundle_without_class_files_imports_as_before_and_leaves_classes_as_they_are,
    a_dry_run_with_classes_plans_every_row_and_writes_nothing,
    a_class_file_without_a_required_column_stops_the_import_before_anything_is_written,
    enrolments_alone_may_name_classes_imported_before,
    a_generated_bundle_imports_every_class_and_enrolment_and_again_changes_nothing,
);

pub(crate) const ORGS: &str = "\
sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d-1,active,,Lincoln Unified,district,LU,
s-1,active,,Lincoln Middle School,school,LMS,d-1
s-2,active,,Adams Elementary,school,AE,d-1
d-2,active,,Bayside District,district,BD,
s-3,active,,Bayside High,school,BH,d-2
";

pub(crate) const USERS: &str = "\
sourcedId,status,enabledUser,orgSourcedIds,role,username,givenName,familyName,grades
u-da,active,true,d-1,administrator,dana.admin,Dana,Admin,
u-sa,active,true,s-1,administrator,sam.admin,Sam,Admin,
u-t1,active,true,s-1,teacher,tess.harper,Tess,Harper,
u-t2,active,true,s-1,teacher,omar.reyes,Omar,Reyes,
u-t3,active,true,s-3,teacher,bay.teacher,Bay,Teacher,
u-s1,active,true,s-1,student,minh.nguyen,Minh,Nguyễn,07
u-s2,active,true,s-1,student,ana.lopez,Ana,Lopez,07
u-s3,active,true,s-1,student,ben.lopez,Ben,Lopez,07
u-s4,active,true,s-1,student,zoe.adams,Zoë,Adams,07
u-s5,active,true,s-2,student,kim.park,Kim,Park,03
u-s6,active,true,s-3,student,lee.bay,Lee,Bay,10
";

pub(crate) const CLASSES: &str = "\
sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c-sci,active,,Science 7B,07,crs-sci,SCI-7B,scheduled,Room 4,s-1,t-1,Science,,1
c-math,active,,Mathematics 7,07,crs-math,MATH-7,scheduled,,s-1,t-1,,,2
c-art,active,,Art,03,crs-art,ART-3,scheduled,,s-2,t-1,,,3
c-bio,active,,Biology,10,crs-bio,BIO-10,scheduled,,s-3,t-1,,,1
";

pub(crate) const ENROLLMENTS: &str = "\
sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e-1,active,,c-sci,s-1,u-t1,teacher,true,,
e-2,active,,c-sci,s-1,u-s1,student,false,,
e-3,active,,c-sci,s-1,u-s2,student,false,,
e-4,active,,c-sci,s-1,u-s3,student,false,,
e-5,active,,c-sci,s-1,u-s4,student,false,,
e-6,active,,c-math,s-1,u-t2,teacher,true,,
e-7,active,,c-math,s-1,u-s1,student,false,,
e-8,active,,c-art,s-2,u-t1,teacher,false,,
e-9,active,,c-art,,u-s5,student,false,,
e-10,active,,c-bio,s-3,u-t3,teacher,true,,
e-11,active,,c-bio,s-3,u-s6,student,false,,
";

/// A bundle of the four files (a file given as `None` is left out).
pub(crate) fn bundle(classes: Option<&str>, enrollments: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orgs.csv"), ORGS).unwrap();
    std::fs::write(dir.path().join("users.csv"), USERS).unwrap();
    if let Some(text) = classes {
        std::fs::write(dir.path().join("classes.csv"), text).unwrap();
    }
    if let Some(text) = enrollments {
        std::fs::write(dir.path().join("enrollments.csv"), text).unwrap();
    }
    dir
}

pub(crate) fn full_bundle() -> tempfile::TempDir {
    bundle(Some(CLASSES), Some(ENROLLMENTS))
}

pub(crate) async fn import_into(
    store: &Store,
    name: &str,
    dir: &Path,
    dry_run: bool,
) -> ImportReport {
    let options = ImportOptions {
        dry_run,
        ..ImportOptions::default()
    };
    let tenant = hallpass::directory::TenantName::parse(name).unwrap();
    import_oneroster(store, &tenant, dir, &options, t0())
        .await
        .unwrap()
}

async fn import(db: &TestDb, dir: &Path) -> ImportReport {
    import_into(&db.store, "lincoln", dir, false).await
}

pub(crate) async fn tenant_id(store: &Store, name: &str) -> TenantId {
    let name = hallpass::directory::TenantName::parse(name).unwrap();
    store.tenant_by_name(&name).await.unwrap().unwrap().id
}

/// The tenant's class with `sourced_id`.
pub(crate) async fn class(store: &Store, tenant: TenantId, sourced_id: &str) -> Class {
    store
        .class_by_sourced_id(tenant, sourced_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no class {sourced_id}"))
}

/// Every enrolment as (enrolment sourcedId, class sourcedId, login, role), in sourcedId order.
async fn enrolments(store: &Store) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT e.source_id, c.source_id, u.login, e.role FROM enrollments e \
         JOIN classes c ON c.id = e.class_id JOIN users u ON u.id = e.user_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.sort_by_key(|r| r.0.trim_start_matches("e-").parse::<u32>().unwrap_or(0));
    rows
}

async fn logins(store: &Store, class: &Class) -> Vec<String> {
    store
        .class_students(class.id)
        .await
        .unwrap()
        .iter()
        .map(|u| u.login.to_string())
        .collect()
}

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
