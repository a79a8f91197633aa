use super::*;

on_both_backends!(
    migrations_apply_again_without_changing_anything,
    a_guild_is_bound_to_exactly_one_tenant,
    a_chat_account_links_to_one_user_and_a_user_to_one_chat_account,
);

async fn migrations_apply_again_without_changing_anything(db: TestDb) {
    let world = World::build(&db.store).await;
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.schools(world.tenant.id).await.unwrap().len(), 3);
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
