use super::*;

on_both_backends!(
    a_user_round_trips_with_every_field,
    logins_are_unique_per_tenant_case_insensitively,
    the_last_district_admin_count_ignores_disabled_admins,
    a_move_to_a_school_of_another_tenant_is_refused,
    search_finds_users_by_name_or_login_prefix_within_scope,
    a_record_shows_its_school_and_district_names,
);

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
