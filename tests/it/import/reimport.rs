use super::*;

on_both_backends!(
    importing_the_same_bundle_again_changes_nothing,
    tobedeleted_disables_a_user_and_a_later_active_row_enables_them_again,
    a_changed_name_or_school_in_the_bundle_updates_the_record_and_audits_before_and_after,
);

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
