//! The store's contract, run on SQLite and on PostgreSQL alike: each test is one
//! async function taking a fresh database, and `conformance!` runs it on both.

use chrono::Duration;
use hallpass::audit::{Action, AuditActor, AuditEntry, AuditQuery, Origin, Outcome};
use hallpass::directory::{DiscordGuildId, DiscordUserId, Login, PersonName, Place, Role, Title};
use hallpass::store::{SearchScope, StoreError, UserChanges};

use crate::helpers::{TestDb, World, cli_audit, on_both_backends, t0};

on_both_backends!(
    migrations_apply_again_without_changing_anything,
    a_user_round_trips_with_every_field,
    logins_are_unique_per_tenant_case_insensitively,
    the_second_of_two_educators_editing_the_same_student_gets_changed_since_you_opened_it,
    a_change_and_its_audit_entry_commit_together,
    a_refused_change_writes_nothing,
    an_unchanged_record_is_not_rewritten_or_audited,
    the_audit_log_refuses_update_and_delete,
    the_audit_log_is_queryable_by_target_actor_tenant_and_time,
    a_password_is_stored_as_its_hash_and_never_audited,
    a_guild_is_bound_to_exactly_one_tenant,
    a_chat_account_links_to_one_user_and_a_user_to_one_chat_account,
    the_last_district_admin_count_ignores_disabled_admins,
    a_move_to_a_school_of_another_tenant_is_refused,
    search_finds_users_by_name_or_login_prefix_within_scope,
    a_record_shows_its_school_and_district_names,
);

async fn migrations_apply_again_without_changing_anything(db: TestDb) {
    let world = World::build(&db.store).await;
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.schools(world.tenant.id).await.unwrap().len(), 3);
}

async fn a_user_round_trips_with_every_field(db: TestDb) {
    let world = World::build(&db.store).await;
    let created = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let read = db
        .store
        .user(world.tenant.id, created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, created);
    let by_login = db
        .store
        .user_by_login(world.tenant.id, &Login::parse("ANA.LOPEZ").unwrap())
        .await
        .unwrap();
    assert_eq!(by_login.map(|u| u.id), Some(created.id));
    // Nothing crosses tenants: the same id asked for in another tenant is not there.
    assert_eq!(
        db.store.user(world.other.id, created.id).await.unwrap(),
        None
    );
}

async fn logins_are_unique_per_tenant_case_insensitively(db: TestDb) {
    let world = World::build(&db.store).await;
    world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let mut dup = hallpass::store::NewUser {
        login: Login::parse("Ana.Lopez").unwrap(),
        first_name: PersonName::parse("Ana").unwrap(),
        last_name: PersonName::parse("Other").unwrap(),
        role: Role::Student,
        place: World::at(&world.a2),
        grade: None,
        title: None,
        source_id: None,
        disabled: false,
    };
    let err = db
        .store
        .insert_user(world.tenant.id, &dup, cli_audit(Action::UserCreate, t0()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::LoginTaken(ref l) if l == "Ana.Lopez"),
        "{err:?}"
    );
    // The same login in another tenant is someone else, and allowed.
    dup.place = World::at(&world.z1);
    db.store
        .insert_user(world.other.id, &dup, cli_audit(Action::UserCreate, t0()))
        .await
        .unwrap();
}

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

async fn the_audit_log_refuses_update_and_delete(db: TestDb) {
    let world = World::build(&db.store).await;
    world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let events = db.store.audit_events(&AuditQuery::default()).await.unwrap();
    assert!(!events.is_empty());
    let update = sqlx::query("UPDATE audit_events SET outcome = 'refused'")
        .execute(db.store.pool())
        .await;
    let err = update.unwrap_err().to_string();
    assert!(err.contains("append-only"), "{err}");
    let delete = sqlx::query("DELETE FROM audit_events")
        .execute(db.store.pool())
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(
        db.store.audit_events(&AuditQuery::default()).await.unwrap(),
        events
    );
}

async fn the_audit_log_is_queryable_by_target_actor_tenant_and_time(db: TestDb) {
    let world = World::build(&db.store).await;
    let teacher = world
        .user(&db.store, "tess.teach", Role::Teacher, World::at(&world.a1))
        .await;
    let student = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let actor = AuditActor {
        user_id: Some(teacher.id),
        discord_user_id: Some(DiscordUserId::new(42)),
        label: "Teach, Tess".into(),
    };
    for (hours, outcome) in [
        (1, Outcome::Applied),
        (2, Outcome::Refused),
        (3, Outcome::Applied),
    ] {
        let mut entry = AuditEntry::new(
            Some(world.tenant.id),
            t0() + Duration::hours(hours),
            actor.clone(),
            Action::PasswordReset,
            Origin::default(),
        )
        .target(student.id, student.display_name());
        if outcome == Outcome::Refused {
            entry = entry.refused("rate limited");
        }
        db.store.append_audit(&entry).await.unwrap();
    }
    let by_target = db
        .store
        .audit_events(&AuditQuery {
            target_user_id: Some(student.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_target
            .iter()
            .filter(|e| e.action == "password.reset")
            .count(),
        3
    );
    let by_actor = db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(teacher.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_actor.len(), 3);
    assert_eq!(by_actor[1].outcome, "refused");
    assert_eq!(by_actor[1].reason.as_deref(), Some("rate limited"));
    assert_eq!(by_actor[0].actor_discord_id.as_deref(), Some("42"));
    let since = db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(teacher.id),
            since: Some(t0() + Duration::minutes(90)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 2);
    assert!(since[0].seq < since[1].seq, "oldest first");
    let other_tenant = db
        .store
        .audit_events(&AuditQuery {
            tenant_id: Some(world.other.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other_tenant.iter().all(|e| e.target_user_id.is_none()));
    let newest = db
        .store
        .audit_events(&AuditQuery {
            actor_user_id: Some(teacher.id),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].at, by_actor[2].at);
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

async fn a_guild_is_bound_to_exactly_one_tenant(db: TestDb) {
    let world = World::build(&db.store).await;
    let guild = DiscordGuildId::new(1234);
    assert_eq!(db.store.tenant_for_guild(guild).await.unwrap(), None);
    db.store
        .bind_guild(guild, world.tenant.id, cli_audit(Action::GuildBind, t0()))
        .await
        .unwrap();
    assert_eq!(
        db.store.tenant_for_guild(guild).await.unwrap(),
        Some(world.tenant.clone())
    );
    db.store
        .bind_guild(guild, world.other.id, cli_audit(Action::GuildBind, t0()))
        .await
        .unwrap();
    assert_eq!(
        db.store.tenant_for_guild(guild).await.unwrap(),
        Some(world.other.clone())
    );
}

async fn a_chat_account_links_to_one_user_and_a_user_to_one_chat_account(db: TestDb) {
    let world = World::build(&db.store).await;
    let ana = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let ben = world
        .user(&db.store, "ben.ng", Role::Student, World::at(&world.a1))
        .await;
    let discord = DiscordUserId::new(80351110224678912);
    let linked = db
        .store
        .link_discord(&ana, discord, cli_audit(Action::ChatLink, t0()))
        .await
        .unwrap();
    assert_eq!(linked.discord_user_id, Some(discord));
    assert_eq!(
        db.store
            .user_by_discord(world.tenant.id, discord)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ana.id)
    );
    let err = db
        .store
        .link_discord(&ben, discord, cli_audit(Action::ChatLink, t0()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyLinked), "{err:?}");
    let err = db
        .store
        .link_discord(
            &ana,
            DiscordUserId::new(7),
            cli_audit(Action::ChatLink, t0()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyLinked), "{err:?}");
    // Per tenant: the same chat account is unknown in another tenant.
    assert_eq!(
        db.store
            .user_by_discord(world.other.id, discord)
            .await
            .unwrap(),
        None
    );
}

async fn the_last_district_admin_count_ignores_disabled_admins(db: TestDb) {
    let world = World::build(&db.store).await;
    let district = Place::District {
        district: world.district_a.id,
    };
    world
        .user(&db.store, "dana.admin", Role::DistrictAdmin, district)
        .await;
    let second = world
        .user(&db.store, "dave.admin", Role::DistrictAdmin, district)
        .await;
    assert_eq!(
        db.store
            .count_district_admins(world.tenant.id, world.district_a.id)
            .await
            .unwrap(),
        2
    );
    let disable = UserChanges {
        disabled: Some(true),
        ..Default::default()
    };
    db.store
        .update_user(&second, &disable, cli_audit(Action::UserDisable, t0()))
        .await
        .unwrap();
    assert_eq!(
        db.store
            .count_district_admins(world.tenant.id, world.district_a.id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.store
            .count_district_admins(world.tenant.id, world.district_b.id)
            .await
            .unwrap(),
        0
    );
}

async fn a_move_to_a_school_of_another_tenant_is_refused(db: TestDb) {
    let world = World::build(&db.store).await;
    let ana = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    let to_other_tenant = UserChanges {
        place: Some(World::at(&world.z1)),
        ..Default::default()
    };
    let err = db
        .store
        .update_user(&ana, &to_other_tenant, cli_audit(Action::UserMove, t0()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    // A school named with the wrong district is refused too.
    let mismatched = Place::School {
        school: world.b1.id,
        district: world.district_a.id,
    };
    let err = db
        .store
        .update_user(
            &ana,
            &UserChanges {
                place: Some(mismatched),
                ..Default::default()
            },
            cli_audit(Action::UserMove, t0()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(
        db.store
            .user(world.tenant.id, ana.id)
            .await
            .unwrap()
            .unwrap()
            .place,
        World::at(&world.a1)
    );
}

async fn search_finds_users_by_name_or_login_prefix_within_scope(db: TestDb) {
    let world = World::build(&db.store).await;
    let ana = world
        .user(&db.store, "ana.lopez", Role::Student, World::at(&world.a1))
        .await;
    world
        .user(
            &db.store,
            "anabel.ortiz",
            Role::Student,
            World::at(&world.a2),
        )
        .await;
    world
        .user(&db.store, "andy.teach", Role::Teacher, World::at(&world.a1))
        .await;
    let in_a1 = db
        .store
        .search_users(
            world.tenant.id,
            SearchScope::School(world.a1.id),
            &[Role::Student],
            "An",
            25,
        )
        .await
        .unwrap();
    assert_eq!(in_a1.iter().map(|u| u.id).collect::<Vec<_>>(), vec![ana.id]);
    let by_last = db
        .store
        .search_users(
            world.tenant.id,
            SearchScope::District(world.district_a.id),
            &[Role::Student],
            "lop",
            25,
        )
        .await
        .unwrap();
    assert_eq!(by_last.len(), 1);
    let whole_district = db
        .store
        .search_users(
            world.tenant.id,
            SearchScope::District(world.district_a.id),
            &[Role::Student, Role::Teacher],
            "an",
            25,
        )
        .await
        .unwrap();
    assert_eq!(whole_district.len(), 3);
    let limited = db
        .store
        .search_users(
            world.tenant.id,
            SearchScope::District(world.district_a.id),
            &[Role::Student, Role::Teacher],
            "",
            2,
        )
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
}

async fn a_record_shows_its_school_and_district_names(db: TestDb) {
    let world = World::build(&db.store).await;
    let mut ana = world
        .user(&db.store, "ana.lopez", Role::Teacher, World::at(&world.a1))
        .await;
    ana = db
        .store
        .update_user(
            &ana,
            &UserChanges {
                title: Some(Some(Title::parse("Science Lead").unwrap())),
                ..Default::default()
            },
            cli_audit(Action::UserEdit, t0()),
        )
        .await
        .unwrap();
    let record = db
        .store
        .user_record(world.tenant.id, ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.school.as_deref(), Some("Lincoln Middle School"));
    assert_eq!(record.district.as_deref(), Some("Lincoln Unified"));
    assert_eq!(record.tenant, "lincoln");
    assert_eq!(record.title.as_deref(), Some("Science Lead"));
    let json = serde_json::to_value(&record).unwrap();
    for field in [
        "id",
        "tenant",
        "login",
        "first_name",
        "last_name",
        "role",
        "school",
        "district",
        "school_id",
        "district_id",
        "grade",
        "title",
        "must_change_password",
        "discord_user_id",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
}
