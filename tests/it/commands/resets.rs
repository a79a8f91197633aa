use super::*;

on_both_backends!(
    a_teacher_resets_a_student_of_their_school_and_only_the_teacher_receives_the_password,
    a_student_of_another_school_is_answered_exactly_like_a_user_that_does_not_exist,
    self_service_reset_is_limited_to_three_a_day_and_says_how_many_are_left,
    the_self_service_quota_is_held_in_the_database_across_restarts,
    a_temporary_password_expires_72_hours_after_it_was_issued_by_the_clock,
);

async fn a_teacher_resets_a_student_of_their_school_and_only_the_teacher_receives_the_password(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let reply = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    assert!(matches!(
        reply.body,
        Body::Text {
            ephemeral: true,
            ..
        }
    ));
    assert!(reply.text().contains("Lopez, Ana"), "{}", reply.text());
    let secret = reply.secret.as_ref().expect("a password to deliver");
    assert_eq!(
        secret.to, bot.tess.discord_user_id,
        "the password goes to the invoker"
    );
    let password = code_span(secret.text.expose_secret());
    assert!(regex_like_passphrase(&password), "{password}");
    assert!(
        !reply.text().contains(&password),
        "the visible reply never holds the password"
    );
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    let hash = PasswordHash::parse(&stored.phc).unwrap();
    assert!(
        bot.app
            .hasher
            .verify(&SecretString::from(password.clone()), &hash)
            .await
            .unwrap()
    );
    assert_eq!(
        stored.expires_at,
        Some(crate::helpers::t0() + chrono::Duration::hours(72))
    );
    assert!(bot.reload(&bot.ana).await.must_change_password);
    let audit = serde_json::to_string(
        &bot.db
            .store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        !audit.contains(&password) && !audit.contains(&stored.phc),
        "no secret in the audit log"
    );
    assert!(audit.contains("password.reset"));
}

async fn a_student_of_another_school_is_answered_exactly_like_a_user_that_does_not_exist(
    db: TestDb,
) {
    let bot = Bot::on(db).await;
    let before = Snapshot::of(&bot).await;
    let hidden = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.cara.id.to_string())],
        )
        .await;
    let missing = bot
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &uuid::Uuid::now_v7().to_string())],
        )
        .await;
    let by_login = bot
        .command(&bot.tess, "whois", &[("user", "cara.diaz")])
        .await;
    assert_eq!(hidden.text(), NO_SUCH_USER);
    assert_eq!(missing.text(), NO_SUCH_USER);
    assert_eq!(by_login.text(), NO_SUCH_USER);
    assert!(hidden.secret.is_none());
    assert_eq!(
        bot.db
            .store
            .password_hash(bot.world.tenant.id, bot.cara.id)
            .await
            .unwrap(),
        None
    );
    // Each refused attempt is audited, and nothing else changed.
    before.assert_only_refusals(&bot, &[NO_SUCH_USER; 3]).await;
}

async fn self_service_reset_is_limited_to_three_a_day_and_says_how_many_are_left(db: TestDb) {
    let bot = Bot::on(db).await;
    for left in [2, 1, 0] {
        let reply = bot.command(&bot.ana, "reset-password", &[]).await;
        assert!(
            reply
                .text()
                .contains(&format!("Self-service resets left today: {left}.")),
            "{}",
            reply.text()
        );
        assert_eq!(reply.secret.as_ref().unwrap().to, bot.ana.discord_user_id);
    }
    let before = Snapshot::of(&bot).await;
    let refused = bot.command(&bot.ana, "reset-password", &[]).await;
    assert!(
        refused
            .text()
            .contains("You've used all 3 self-service password resets for today"),
        "{}",
        refused.text()
    );
    before.assert_only_refusals(&bot, &[refused.text()]).await;
    assert!(
        refused.text().contains("09:00 UTC"),
        "says when: {}",
        refused.text()
    );
    assert!(refused.secret.is_none());
    bot.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let again = bot.command(&bot.ana, "reset-password", &[]).await;
    assert!(again.text().contains("left today: 2"), "{}", again.text());
}

async fn the_self_service_quota_is_held_in_the_database_across_restarts(db: TestDb) {
    let bot = Bot::on(db).await;
    for _ in 0..3 {
        bot.command(&bot.ana, "reset-password", &[]).await;
    }
    // A second instance of the app on the same database: the limit holds.
    let restarted = hallpass::app::App {
        limits: std::sync::Arc::new(hallpass::limits::Limits::default()),
        ..bot.app.clone()
    };
    let reply = hallpass::commands::handle(
        &restarted,
        &Bot::inv(&bot.ana),
        Request::command("reset-password", &[]),
    )
    .await;
    assert!(
        reply.text().contains("You've used all 3"),
        "{}",
        reply.text()
    );
}

async fn a_temporary_password_expires_72_hours_after_it_was_issued_by_the_clock(db: TestDb) {
    let bot = Bot::on(db).await;
    // Issued five hours into the test: the expiry follows the injected clock.
    bot.clock.advance(chrono::Duration::hours(5));
    bot.command(
        &bot.tess,
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    )
    .await;
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    let issued = crate::helpers::t0() + chrono::Duration::hours(5);
    assert_eq!(
        stored.expires_at,
        Some(issued + chrono::Duration::hours(72)),
        "accepted until exactly 72 hours after issue, not a second more or less"
    );
    assert!(stored.must_change);
}
