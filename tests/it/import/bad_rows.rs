use super::*;

on_both_backends!(
    a_messy_bundle_imports_every_good_row_and_reports_each_bad_row_with_file_line_and_reason,
    the_messy_bundle_reports_the_same_lines_with_bare_cr_lf_or_crlf_line_ends,
    a_login_held_by_another_user_of_the_tenant_refuses_the_row_and_nothing_else,
    a_row_the_database_refuses_is_reported_and_the_rest_of_its_batch_is_imported,
);

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
