use super::*;

#[tokio::test]
async fn a_temporary_password_lives_from_reset_to_change_and_expires_on_sqlite() {
    the_life_of_a_temporary_password(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn a_temporary_password_lives_from_reset_to_change_and_expires_on_postgresql() {
    the_life_of_a_temporary_password(TestDb::postgres().await).await;
}

async fn the_life_of_a_temporary_password(db: TestDb) {
    let api = Api::on(db, Options::default()).await;
    let bot = &api.bot;

    // 1. `/reset-password` hands it out, by DM to the teacher.
    let temporary = api.reset_through_discord(&bot.tess, &bot.ana).await;

    // 2. It signs in, and must be changed.
    let (status, body) = api.login(&bot.ana, &temporary).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "user_id": bot.ana.id.to_string(), "must_change_password": true })
    );

    // 3. A blocklisted and a too-short password are refused, each with its reason.
    let (status, body) = api.change(&bot.ana, &temporary, "password1234").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_of(&body),
        "That password is on a list of commonly used passwords; choose something less common."
    );
    let (status, body) = api.change(&bot.ana, &temporary, "zq7-x").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body), "Use at least 8 characters.");
    let (status, body) = api.change(&bot.ana, &temporary, &temporary).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body), SAME_AS_CURRENT);
    let (status, body) = api.change(&bot.ana, "not-the-password", GOOD).await;
    assert_eq!((status, error_of(&body)), (401, GENERIC));
    // A good one is accepted.
    let (status, body) = api.change(&bot.ana, &temporary, GOOD).await;
    assert_eq!(status, 204, "{body}");

    // 4. The temporary password no longer signs in; the new one does, with no change due.
    let (status, body) = api.login(&bot.ana, &temporary).await;
    assert_eq!((status, error_of(&body)), (401, GENERIC));
    let (status, body) = api.login(&bot.ana, GOOD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], false);
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.expires_at, None, "a chosen password does not expire");
    assert!(!bot.reload(&bot.ana).await.must_change_password);
    let log = api.audit_log().await;
    assert!(log.contains("password.change"), "{log}");
    assert!(
        !log.contains(GOOD) && !log.contains(&temporary),
        "the audit log never holds a password"
    );

    // 5. An unused temporary password is refused after 72 hours, with the reason,
    //    but only to someone who knows it.
    let unused = api.reset_through_discord(&bot.tess, &bot.ben).await;
    bot.clock.advance(Span::hours(72) - Span::seconds(1));
    let (status, _) = api.login(&bot.ben, &unused).await;
    assert_eq!(status, 200, "still good a second before 72 hours");
    bot.clock.advance(Span::seconds(1));
    let (status, body) = api.login(&bot.ben, &unused).await;
    assert_eq!((status, error_of(&body)), (401, EXPIRED));
    let (status, body) = api.change(&bot.ben, &unused, GOOD).await;
    assert_eq!((status, error_of(&body)), (401, EXPIRED));
    let (status, body) = api.login(&bot.ben, "a-wrong-guess-123").await;
    assert_eq!((status, error_of(&body)), (401, GENERIC));
}
