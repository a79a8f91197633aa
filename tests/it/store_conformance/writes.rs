use super::*;

on_both_backends!(
    the_second_of_two_educators_editing_the_same_student_gets_changed_since_you_opened_it,
    a_change_and_its_audit_entry_commit_together,
    a_refused_change_writes_nothing,
    an_unchanged_record_is_not_rewritten_or_audited,
    a_password_is_stored_as_its_hash_and_never_audited,
);

async fn the_second_of_two_educators_editing_the_same_student_gets_changed_since_you_opened_it(
    db: TestDb,
) {
    let world = World::build(&db.store).await;
    let student = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    // Both educators open the record at the same version.
    let opened_by_first = student.clone();
    let opened_by_second = student.clone();
    let first = UserChanges {
        first_name: Some(PersonName::parse("Anita").unwrap()),
        ..Default::default()
    };
    let second = UserChanges {
        place: Some(World::at(&world.a2)),
        ..Default::default()
    };
    let after_first = db
        .store
        .update_user(&opened_by_first, &first, cli_audit(Action::UserEdit, t0()))
        .await
        .unwrap();
    assert_eq!(after_first.version, student.version + 1);
    let err = db
        .store
        .update_user(
            &opened_by_second,
            &second,
            cli_audit(Action::UserMove, t0()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert!(
        err.to_string()
            .contains("changed by someone else since you opened it")
    );
    let now = db
        .store
        .user(world.tenant.id, student.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.first_name.as_str(), "Anita");
    assert_eq!(
        now.place,
        World::at(&world.a1),
        "the second edit must not have been applied"
    );
}

async fn a_change_and_its_audit_entry_commit_together(db: TestDb) {
    let world = World::build(&db.store).await;
    let student = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let changes = UserChanges {
        place: Some(World::at(&world.a2)),
        ..Default::default()
    };
    let actor = AuditActor {
        label: "Teacher, Tess (tess)".into(),
        ..AuditActor::default()
    };
    let entry = AuditEntry::new(
        Some(world.tenant.id),
        t0(),
        actor,
        Action::UserMove,
        Origin::api("test"),
    );
    db.store
        .update_user(&student, &changes, entry)
        .await
        .unwrap();
    let events = db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(student.id),
            ..Default::default()
        })
        .await
        .unwrap();
    let moved = events
        .iter()
        .find(|e| e.action == "user.move")
        .expect("the move is audited");
    assert_eq!(moved.outcome, "applied");
    assert_eq!(
        moved.before.as_ref().unwrap()["school_id"],
        world.a1.id.to_string()
    );
    assert_eq!(
        moved.after.as_ref().unwrap()["school_id"],
        world.a2.id.to_string()
    );
    assert!(
        moved.before.as_ref().unwrap().get("first_name").is_none(),
        "only changed fields are recorded"
    );
}

async fn a_refused_change_writes_nothing(db: TestDb) {
    let world = World::build(&db.store).await;
    let a = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    world
        .user(&db.store, "ben.ng", Role::Student, World::at(&world.a1))
        .await;
    let before = db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap()
        .len();
    let changes = UserChanges {
        login: Some(Login::parse("BEN.NG").unwrap()),
        first_name: Some(PersonName::parse("Changed").unwrap()),
        ..Default::default()
    };
    let err = db
        .store
        .update_user(&a, &changes, cli_audit(Action::UserEdit, t0()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LoginTaken(_)), "{err:?}");
    assert_eq!(
        db.store.user(world.tenant.id, a.id).await.unwrap().unwrap(),
        a
    );
    assert_eq!(
        db.store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap()
            .len(),
        before
    );
}

async fn an_unchanged_record_is_not_rewritten_or_audited(db: TestDb) {
    let world = World::build(&db.store).await;
    let a = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let before = db
        .store
        .audit_events(&AuditQuery::default())
        .await
        .unwrap()
        .len();
    let same = UserChanges {
        first_name: Some(a.first_name.clone()),
        ..Default::default()
    };
    let after = db
        .store
        .update_user(&a, &same, cli_audit(Action::UserEdit, t0()))
        .await
        .unwrap();
    assert_eq!(after.version, a.version);
    assert_eq!(
        db.store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap()
            .len(),
        before
    );
}

async fn a_password_is_stored_as_its_hash_and_never_audited(db: TestDb) {
    let world = World::build(&db.store).await;
    let student = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    // A real password, hashed the way every caller of the store hashes it.
    let hasher = hallpass::credentials::PasswordHasher::new(
        hallpass::credentials::HashParams::insecure_fast_for_tests_only(),
    )
    .unwrap();
    let password = secrecy::SecretString::from("maple-river-quiet-472");
    let hashed = hasher.hash(&password).await.unwrap();
    let phc = hashed.as_str();
    let expires = t0() + Duration::hours(72);
    db.store
        .set_password(
            &student,
            phc,
            true,
            Some(expires),
            cli_audit(Action::PasswordReset, t0()),
        )
        .await
        .unwrap();
    let row = crate::unchanged::every_value_in(&db.store, "credentials").await;
    assert!(
        !row.iter().any(|v| v.contains("maple-river-quiet-472")),
        "the stored row holds no plain password"
    );
    let stored = db
        .store
        .password_hash(world.tenant.id, student.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.phc, phc);
    assert!(stored.phc.starts_with("$argon2id$"));
    let read_back = hallpass::credentials::PasswordHash::parse(&stored.phc).unwrap();
    assert!(hasher.verify(&password, &read_back).await.unwrap());
    assert!(
        !hasher
            .verify(
                &secrecy::SecretString::from("maple-river-quiet-473"),
                &read_back
            )
            .await
            .unwrap()
    );
    assert_eq!(stored.expires_at, Some(expires));
    assert!(stored.must_change);
    assert!(
        !format!("{stored:?}").contains("argon2id"),
        "Debug must not print the hash"
    );
    assert!(
        db.store
            .user(world.tenant.id, student.id)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    let events = db.store.audit_events(&AuditQuery::default()).await.unwrap();
    let dump = serde_json::to_string(&events).unwrap();
    assert!(
        !dump.contains("argon2id") && !dump.contains(phc) && !dump.contains("maple-river"),
        "the audit log must not hold the hash or the password"
    );
    assert!(dump.contains("password.reset"));
}
