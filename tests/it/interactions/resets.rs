use super::*;

on_both_backends!(
    reset_password_is_deferred_then_the_password_arrives_by_dm_and_the_answer_is_edited_in,
    with_dms_closed_50007_the_password_comes_in_an_ephemeral_follow_up,
    with_dms_closed_50278_the_password_comes_in_an_ephemeral_follow_up,
    a_self_service_reset_that_cannot_be_delivered_gives_its_use_back,
    when_neither_dm_nor_follow_up_can_be_delivered_the_reset_is_rolled_back,
);

async fn reset_password_is_deferred_then_the_password_arrives_by_dm_and_the_answer_is_edited_in(
    db: TestDb,
) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let (answer, token) = server
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    assert_eq!(
        answer,
        json!({ "type": 5, "data": { "flags": 64 } }),
        "acknowledged at once, privately"
    );
    let content = server.edited(&token).await;
    assert!(
        content.starts_with("Done: Lopez, Ana (ana.lopez) has a new temporary password"),
        "{content}"
    );
    let dms = server.standin.dms();
    assert_eq!(dms.len(), 1);
    assert_eq!(
        Some(dms[0].0),
        bot.tess.discord_user_id.map(|d| d.get()),
        "the DM goes to the teacher who asked"
    );
    let password = code_span(&dms[0].1);
    assert!(
        !content.contains(&password),
        "the channel answer never holds the password"
    );
    assert!(bot.holds_password(&bot.ana, &password).await);
}

async fn with_dms_closed_50007_the_password_comes_in_an_ephemeral_follow_up(db: TestDb) {
    reset_with_dms_closed(db, 50007).await;
}

async fn with_dms_closed_50278_the_password_comes_in_an_ephemeral_follow_up(db: TestDb) {
    reset_with_dms_closed(db, 50278).await;
}

async fn a_self_service_reset_that_cannot_be_delivered_gives_its_use_back(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    server.standin.fail_dms_with(50007);
    server.standin.fail_followups();
    let (_, token) = server.command(&bot.ana, "reset-password", &[]).await;
    let _ = server.edited(&token).await;
    assert_eq!(
        bot.db
            .store
            .password_hash(bot.world.tenant.id, bot.ana.id)
            .await
            .unwrap(),
        None,
        "the undelivered password was withdrawn"
    );
    let uses: i64 = sqlx::query("SELECT COUNT(*) AS n FROM quota_usage")
        .fetch_one(bot.db.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(uses, 0, "the self-service use was refunded");
}

async fn when_neither_dm_nor_follow_up_can_be_delivered_the_reset_is_rolled_back(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    // Ana had a password before; it must be the one she has afterwards.
    let before = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    bot.db
        .store
        .set_password(
            &bot.ana,
            before,
            false,
            None,
            crate::helpers::cli_audit(
                hallpass::audit::Action::PasswordChange,
                crate::helpers::t0(),
            ),
        )
        .await
        .unwrap();
    server.standin.fail_dms_with(50007);
    server.standin.fail_followups();
    let (_, token) = server
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    // The edit fails too (the stand-in refuses the token), so wait for the attempt.
    let _ = server.edited(&token).await;
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.phc, before, "the previous password is back");
    assert!(!stored.must_change);
    assert!(!bot.reload(&bot.ana).await.must_change_password);
    let events = bot
        .db
        .store
        .audit_events(&hallpass::audit::AuditQuery {
            target_user_id: Some(bot.ana.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.last().unwrap().outcome, "failed", "{events:?}");
}
