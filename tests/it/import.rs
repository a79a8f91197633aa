//! The OneRoster import, run on SQLite and on PostgreSQL alike: the sample
//! bundle, a messy bundle, re-imports, disabling, updates, a row the database
//! refuses, and a generated bundle of a couple of thousand users.

use std::path::{Path, PathBuf};

use hallpass::audit::{AuditEvent, AuditQuery};
use hallpass::directory::{Grade, Login, PersonName, Place, Role, TenantName, User};
use hallpass::roster::{
    ImportError, ImportOptions, ImportReport, import_oneroster, write_sample_bundle,
};
use hallpass::store::{Backend, NewUser, Store};

use crate::helpers::{TestDb, cli_audit, on_both_backends, t0};

on_both_backends!(
    the_sample_bundle_imports_every_org_and_user_into_their_places,
    a_messy_bundle_imports_every_good_row_and_reports_each_bad_row_with_file_line_and_reason,
    importing_the_same_bundle_again_changes_nothing,
    tobedeleted_disables_a_user_and_a_later_active_row_enables_them_again,
    a_changed_name_or_school_in_the_bundle_updates_the_record_and_audits_before_and_after,
    a_login_held_by_another_user_of_the_tenant_refuses_the_row_and_nothing_else,
    a_row_the_database_refuses_is_reported_and_the_rest_of_its_batch_is_imported,
    a_generated_bundle_of_two_thousand_users_imports_completely,
    the_messy_bundle_reports_the_same_lines_with_bare_cr_lf_or_crlf_line_ends,
);

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/oneroster")
        .join(name)
}

pub(crate) fn tenant() -> TenantName {
    TenantName::parse("lincoln").unwrap()
}

pub(crate) async fn import(db: &TestDb, dir: &Path) -> ImportReport {
    import_oneroster(&db.store, &tenant(), dir, &ImportOptions::default(), t0())
        .await
        .unwrap()
}

pub(crate) async fn user(store: &Store, login: &str) -> User {
    let tenant = store.tenant_by_name(&tenant()).await.unwrap().unwrap();
    store
        .user_by_login(tenant.id, &Login::parse(login).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{login} missing"))
}

pub(crate) async fn audit(store: &Store) -> Vec<AuditEvent> {
    store.audit_events(&AuditQuery::default()).await.unwrap()
}

/// Every user as (login, version, updated_at, disabled), in login order.
async fn all_users(store: &Store) -> Vec<(String, i64, String, i64)> {
    sqlx::query_as::<_, (String, i64, String, i64)>(
        "SELECT login, version, updated_at, disabled FROM users ORDER BY login_key",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// A copy of the sample bundle with its users.csv passed through `edit`.
pub(crate) fn edited_sample(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixture("sample");
    std::fs::copy(sample.join("orgs.csv"), dir.path().join("orgs.csv")).unwrap();
    let users = std::fs::read_to_string(sample.join("users.csv")).unwrap();
    std::fs::write(dir.path().join("users.csv"), edit(&users)).unwrap();
    dir
}

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

async fn a_messy_bundle_imports_every_good_row_and_reports_each_bad_row_with_file_line_and_reason(
    db: TestDb,
) {
    let report = import(&db, &fixture("messy")).await;
    let refused: Vec<(&str, u64, Option<&str>)> = report
        .refused
        .iter()
        .map(|r| (r.file.as_str(), r.line, r.source_id.as_deref()))
        .collect();
    assert_eq!(
        refused,
        vec![
            ("orgs.csv", 6, Some("m-orphan")),
            ("orgs.csv", 7, Some("m-campus")),
            ("users.csv", 5, Some("m-u4")),
            ("users.csv", 6, Some("m-u5")),
            ("users.csv", 7, Some("m-u6")),
            ("users.csv", 8, Some("m-u7")),
            ("users.csv", 10, Some("m-u9")),
            ("users.csv", 11, Some("m-u10")),
            ("users.csv", 16, Some("m-u12")),
        ],
        "{report}"
    );
    let reason = |file: &str, line: u64| {
        report
            .refused
            .iter()
            .find(|r| r.file == file && r.line == line)
            .map(|r| r.reason.clone())
            .unwrap()
    };
    assert!(
        !report
            .refused
            .iter()
            .any(|r| r.source_id.as_deref() == Some("m-science")),
        "a department is part of its school, not a refused org"
    );
    assert!(reason("orgs.csv", 6).contains("m-nowhere"));
    assert!(reason("orgs.csv", 7).contains("\"campus\""));
    assert!(
        reason("users.csv", 5).starts_with("grades:") && reason("users.csv", 5).contains("\"14\"")
    );
    assert!(
        reason("users.csv", 6).contains("ANA.LOPEZ") && reason("users.csv", 6).contains("line 2")
    );
    assert!(reason("users.csv", 7).contains("m-elsewhere"));
    assert!(reason("users.csv", 8).contains("\"aide\""));
    assert!(reason("users.csv", 10).contains("belongs to a school"));
    assert!(reason("users.csv", 11).starts_with("familyName:"));
    assert!(reason("users.csv", 16).contains("first on line 15"));
    let printed = report.to_string();
    assert!(
        printed.contains("users.csv line 8 (sourcedId m-u7): role \"aide\" is not imported"),
        "{printed}"
    );

    assert_eq!(
        (report.orgs_created, report.users_created),
        (3, 6),
        "{report}"
    );
    let carver = db
        .store
        .schools(
            db.store
                .tenant_by_name(&tenant())
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    assert!(
        carver
            .iter()
            .any(|s| s.name == "Carver Academy, North Campus")
    );
    let bob = user(&db.store, "bob.smith").await;
    assert_eq!(
        (bob.last_name.as_str(), bob.grade),
        ("Smith, Jr.", Some(Grade::Numbered(3)))
    );
    assert_eq!(
        user(&db.store, "kara.oneil@harbor.example")
            .await
            .last_name
            .as_str(),
        "O\"Neil"
    );
    assert_eq!(
        user(&db.store, "helen.harbor@harbor.example").await.role,
        Role::DistrictAdmin,
        "email is the login"
    );
    assert_eq!(user(&db.store, "jin.park").await.role, Role::SchoolAdmin);
    assert_eq!(user(&db.store, "wei.ng").await.role, Role::Teacher);
    assert_eq!(
        user(&db.store, "ana.lopez").await.first_name.as_str(),
        "Ana",
        "the first holder keeps the login"
    );
    assert_eq!(
        all_users(&db.store).await.len(),
        6,
        "a refused row writes nothing"
    );
}

/// The messy bundle (CRLF, a quoted line break, a blank line) with each of
/// its files' line ends rewritten to `end`.
fn messy_with_line_ends(end: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["orgs.csv", "users.csv"] {
        let text = std::fs::read_to_string(fixture("messy").join(file)).unwrap();
        assert!(text.contains("\r\n"), "the fixture is CRLF");
        let text = text.replace("\r\n", "\n").replace('\n', end);
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    dir
}

async fn the_messy_bundle_reports_the_same_lines_with_bare_cr_lf_or_crlf_line_ends(db: TestDb) {
    let refused = |report: &ImportReport| -> Vec<(String, u64, Option<String>)> {
        report
            .refused
            .iter()
            .map(|r| (r.file.clone(), r.line, r.source_id.clone()))
            .collect()
    };
    let expected: Vec<(String, u64, Option<String>)> = [
        ("orgs.csv", 6, "m-orphan"),
        ("orgs.csv", 7, "m-campus"),
        ("users.csv", 5, "m-u4"),
        ("users.csv", 6, "m-u5"),
        ("users.csv", 7, "m-u6"),
        ("users.csv", 8, "m-u7"),
        ("users.csv", 10, "m-u9"),
        ("users.csv", 11, "m-u10"),
        ("users.csv", 16, "m-u12"),
    ]
    .into_iter()
    .map(|(file, line, id)| (file.to_owned(), line, Some(id.to_owned())))
    .collect();
    for end in ["\r", "\n", "\r\n"] {
        let dir = messy_with_line_ends(end);
        let report = import(&db, dir.path()).await;
        assert_eq!(refused(&report), expected, "line ends {end:?}: {report}");
        let printed = report.to_string();
        assert!(
            printed.contains("users.csv line 8 (sourcedId m-u7): role \"aide\" is not imported"),
            "line ends {end:?}: {printed}"
        );
        let duplicate = report
            .refused
            .iter()
            .find(|r| r.file == "users.csv" && r.line == 16)
            .unwrap();
        assert!(
            duplicate.reason.contains("first on line 15"),
            "{end:?}: {}",
            duplicate.reason
        );
    }
}

async fn importing_the_same_bundle_again_changes_nothing(db: TestDb) {
    let first = import(&db, &fixture("sample")).await;
    let users_before = all_users(&db.store).await;
    let audit_before = audit(&db.store).await;
    let tenant = db.store.tenant_by_name(&tenant()).await.unwrap().unwrap();
    let schools_before = db.store.schools(tenant.id).await.unwrap();

    let again = import(&db, &fixture("sample")).await;
    assert_eq!(again.users_unchanged, first.users_created);
    assert_eq!(
        (
            again.orgs_created,
            again.orgs_updated,
            again.users_created,
            again.users_updated,
            again.users_disabled
        ),
        (0, 0, 0, 0, 0),
        "{again}"
    );
    assert_eq!(
        all_users(&db.store).await,
        users_before,
        "no record rewritten, no version bumped"
    );
    assert_eq!(db.store.schools(tenant.id).await.unwrap(), schools_before);
    let audit_after = audit(&db.store).await;
    assert_eq!(audit_after.len(), audit_before.len() + 1);
    assert_eq!(
        audit_after.last().unwrap().action,
        "roster.import",
        "only the summary event is new"
    );
}

async fn tobedeleted_disables_a_user_and_a_later_active_row_enables_them_again(db: TestDb) {
    import(&db, &fixture("sample")).await;
    let ana = user(&db.store, "ana.lopez").await;
    // Ana leaves (and her stale row would not even parse); Minh's account is switched off.
    let leaving = edited_sample(|csv| {
        csv.replace(
            "stu-1001,active,2026-08-17T07:00:00Z,true,lusd-lms",
            "stu-1001,tobedeleted,2026-08-17T07:00:00Z,true,gone",
        )
        .replace(
            "stu-1002,active,2026-08-17T07:00:00Z,true,",
            "stu-1002,active,2026-08-17T07:00:00Z,false,",
        )
    });
    let report = import(&db, leaving.path()).await;
    assert_eq!(
        (
            report.users_disabled,
            report.users_unchanged,
            report.refused.len()
        ),
        (2, 26, 0),
        "{report}"
    );
    let disabled = user(&db.store, "ana.lopez").await;
    assert!(disabled.disabled);
    assert_eq!(disabled.version, ana.version + 1);
    assert!(user(&db.store, "minh.nguyen").await.disabled);
    let again = import(&db, leaving.path()).await;
    assert_eq!(
        (again.users_disabled, again.users_unchanged),
        (0, 28),
        "disabling twice changes nothing"
    );

    let report = import(&db, &fixture("sample")).await;
    assert_eq!(
        (report.users_updated, report.users_unchanged),
        (2, 26),
        "{report}"
    );
    assert!(!user(&db.store, "ana.lopez").await.disabled);
    assert!(!user(&db.store, "minh.nguyen").await.disabled);
    let events = audit(&db.store).await;
    let about_ana: Vec<&str> = events
        .iter()
        .filter(|e| e.target_user_id == Some(ana.id.to_string()))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        about_ana,
        vec!["user.create", "user.disable", "user.enable"]
    );
    let disable = events
        .iter()
        .find(|e| e.action == "user.disable" && e.target_user_id == Some(ana.id.to_string()))
        .unwrap();
    assert_eq!(
        disable.before.as_ref().unwrap(),
        &serde_json::json!({ "disabled": false })
    );
    assert_eq!(
        disable.after.as_ref().unwrap(),
        &serde_json::json!({ "disabled": true })
    );
}

async fn a_changed_name_or_school_in_the_bundle_updates_the_record_and_audits_before_and_after(
    db: TestDb,
) {
    import(&db, &fixture("sample")).await;
    let zoe = user(&db.store, "zoe.fischer").await;
    let noah = user(&db.store, "noah.schmidt").await;
    let changed = edited_sample(|csv| {
        csv.replace(",Zoë,Fischer,", ",Zoë,Fischer-Lang,").replace(
            "stu-1006,active,2026-08-17T07:00:00Z,true,lusd-lms",
            "stu-1006,active,2026-08-17T07:00:00Z,true,lusd-aes",
        )
    });
    let report = import(&db, changed.path()).await;
    assert_eq!(
        (report.users_updated, report.users_unchanged),
        (2, 26),
        "{report}"
    );
    let after = user(&db.store, "zoe.fischer").await;
    assert_eq!(after.last_name.as_str(), "Fischer-Lang");
    assert_eq!(after.version, zoe.version + 1);
    assert_ne!(user(&db.store, "noah.schmidt").await.place, noah.place);

    let events = audit(&db.store).await;
    let edit = events.iter().find(|e| e.action == "user.edit").unwrap();
    assert_eq!(edit.target_user_id, Some(zoe.id.to_string()));
    assert_eq!(
        edit.before.as_ref().unwrap(),
        &serde_json::json!({ "last_name": "Fischer" })
    );
    assert_eq!(
        edit.after.as_ref().unwrap(),
        &serde_json::json!({ "last_name": "Fischer-Lang" })
    );
    let moved = events.iter().find(|e| e.action == "user.move").unwrap();
    assert_eq!(moved.target_user_id, Some(noah.id.to_string()));
    assert_eq!(
        moved.before.as_ref().unwrap()["school_id"],
        noah.place.school().unwrap().to_string()
    );

    // A renamed school is renamed in place.
    let renamed = tempfile::tempdir().unwrap();
    let orgs = std::fs::read_to_string(fixture("sample/orgs.csv")).unwrap();
    std::fs::write(
        renamed.path().join("orgs.csv"),
        orgs.replace("Roosevelt High,", "Roosevelt High School,"),
    )
    .unwrap();
    std::fs::copy(
        changed.path().join("users.csv"),
        renamed.path().join("users.csv"),
    )
    .unwrap();
    let report = import(&db, renamed.path()).await;
    assert_eq!(
        (
            report.orgs_created,
            report.orgs_updated,
            report.users_unchanged
        ),
        (0, 1, 28),
        "{report}"
    );
    let tenant = db.store.tenant_by_name(&tenant()).await.unwrap().unwrap();
    assert!(
        db.store
            .schools(tenant.id)
            .await
            .unwrap()
            .iter()
            .any(|s| s.name == "Roosevelt High School")
    );
}

async fn a_login_held_by_another_user_of_the_tenant_refuses_the_row_and_nothing_else(db: TestDb) {
    let tenant = db.store.ensure_tenant(&tenant(), t0()).await.unwrap();
    let district = db
        .store
        .create_district(tenant.id, "Hand-made District", None)
        .await
        .unwrap();
    let by_hand = NewUser {
        login: Login::parse("Ana.Lopez").unwrap(),
        first_name: PersonName::parse("Ana").unwrap(),
        last_name: PersonName::parse("Typed-In").unwrap(),
        role: Role::DistrictAdmin,
        place: Place::District {
            district: district.id,
        },
        grade: None,
        title: None,
        source_id: None,
        disabled: false,
    };
    db.store
        .insert_user(
            tenant.id,
            &by_hand,
            cli_audit(hallpass::audit::Action::UserCreate, t0()),
        )
        .await
        .unwrap();

    let report = import(&db, &fixture("sample")).await;
    assert_eq!(report.refused.len(), 1, "{report}");
    let refused = &report.refused[0];
    assert_eq!(
        (
            refused.file.as_str(),
            refused.line,
            refused.source_id.as_deref()
        ),
        ("users.csv", 11, Some("stu-1001"))
    );
    assert!(
        refused
            .reason
            .contains("already used by another user of this tenant"),
        "{}",
        refused.reason
    );
    assert_eq!(report.users_created, 27);
    assert_eq!(
        user(&db.store, "ana.lopez").await.last_name.as_str(),
        "Typed-In",
        "the hand-made record is untouched"
    );
}

async fn a_row_the_database_refuses_is_reported_and_the_rest_of_its_batch_is_imported(db: TestDb) {
    // A rule only the database knows, standing in for anything the in-memory checks cannot foresee.
    let statements: &[&str] = match db.store.backend() {
        Backend::Sqlite => &[
            "CREATE TRIGGER refuse_zoe BEFORE INSERT ON users WHEN NEW.login = 'zoe.fischer' \
             BEGIN SELECT RAISE(ABORT, 'zoe is refused by a test trigger'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_zoe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.login = 'zoe.fischer' THEN RAISE EXCEPTION 'zoe is refused by a test trigger'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER refuse_zoe BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_zoe()",
        ],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(db.store.pool())
            .await
            .unwrap();
    }
    let report = import(&db, &fixture("sample")).await;
    assert_eq!(report.refused.len(), 1, "{report}");
    assert_eq!(
        (
            report.refused[0].line,
            report.refused[0].source_id.as_deref()
        ),
        (13, Some("stu-1003"))
    );
    assert!(
        report.refused[0]
            .reason
            .contains("zoe is refused by a test trigger"),
        "{}",
        report.refused[0].reason
    );
    assert_eq!(report.users_created, 27);
    assert_eq!(all_users(&db.store).await.len(), 27);
    let created = audit(&db.store)
        .await
        .iter()
        .filter(|e| e.action == "user.create")
        .count();
    assert_eq!(created, 27, "the refused row left no audit entry behind");
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
