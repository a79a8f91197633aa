use super::*;

#[tokio::test]
async fn an_unknown_login_a_wrong_password_and_a_disabled_user_get_the_same_401_after_one_verification_each()
 {
    let api = Api::start().await;
    let bot = &api.bot;
    api.give_password(&bot.ana, GOOD).await;
    api.give_password(&bot.ben, GOOD).await;
    let ben = bot.reload(&bot.ben).await;
    bot.db
        .store
        .update_user(
            &ben,
            &UserChanges {
                disabled: Some(true),
                ..UserChanges::default()
            },
            cli_audit(Action::UserDisable, t0()),
        )
        .await
        .unwrap();
    let attempts = [
        ("unknown login", "nobody.here", GOOD, "lincoln"),
        ("wrong password", "ana.lopez", "not it at all", "lincoln"),
        ("disabled user", "ben.ng", GOOD, "lincoln"),
        ("unknown tenant", "ana.lopez", GOOD, "atlantis"),
        ("login without a password", "cara.diaz", GOOD, "lincoln"),
        ("not a login at all", "   ", GOOD, "lincoln"),
    ];
    let mut answers = Vec::new();
    for (case, login, password, tenant) in attempts {
        let before = api.verifications();
        let body = json!({ "tenant": tenant, "login": login, "password": password });
        let (status, answer) = api.post("/api/v1/login", &body, None).await;
        assert_eq!(status, 401, "{case}: {answer}");
        assert_eq!(
            api.verifications() - before,
            1,
            "{case}: exactly one argon2id verification, like a wrong password"
        );
        answers.push(answer);
    }
    assert!(
        answers.iter().all(|a| *a == json!({ "error": GENERIC })),
        "one and the same body: {answers:?}"
    );
    let before = api.verifications();
    let (status, _) = api.login(&bot.ana, GOOD).await;
    assert_eq!(status, 200);
    assert_eq!(
        api.verifications() - before,
        1,
        "and a success costs the same"
    );
}

#[tokio::test]
async fn after_n_failed_sign_ins_the_account_locks_and_any_reset_unlocks_it() {
    let api = Api::with(Options {
        lockout_threshold: Some(3),
        ..Options::default()
    })
    .await;
    let bot = &api.bot;
    api.give_password(&bot.ana, GOOD).await;
    let lock = async |api: &Api| {
        for _ in 0..3 {
            let (status, _) = api.login(&api.bot.ana, "a wrong guess").await;
            assert_eq!(status, 401);
        }
        let before = api.verifications();
        let (status, body) = api.login(&api.bot.ana, GOOD).await;
        assert_eq!(
            (status, error_of(&body)),
            (401, GENERIC),
            "a locked account refuses even its password, with the same answer"
        );
        assert_eq!(api.verifications() - before, 1, "after the same work");
    };

    // A success before the threshold starts the count again.
    for _ in 0..2 {
        api.login(&bot.ana, "a wrong guess").await;
    }
    assert_eq!(api.login(&bot.ana, GOOD).await.0, 200);
    lock(&api).await;
    let log = api.audit_log().await;
    assert_eq!(log.matches("signin.lock").count(), 1, "{log}");
    let (status, _) = api.change(&bot.ana, GOOD, "another good passphrase").await;
    assert_eq!(status, 401, "a locked account cannot change its password");

    // An educator's reset unlocks it.
    let temporary = api.reset_through_discord(&bot.tess, &bot.ana).await;
    let (status, body) = api.login(&bot.ana, &temporary).await;
    assert_eq!(status, 200, "{body}");

    // So does a self-service reset from the linked chat account.
    api.give_password(&bot.ana, GOOD).await;
    lock(&api).await;
    let own = bot.command(&bot.ana, "reset-password", &[]).await;
    let own = code_span(
        own.secret
            .expect("a temporary password")
            .text
            .expose_secret(),
    );
    assert_eq!(api.login(&bot.ana, &own).await.0, 200);

    // The lock is durable: it lives in the database, not in this process.
    api.give_password(&bot.ana, GOOD).await;
    lock(&api).await;
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.failed_signins, 3);
}

#[tokio::test]
async fn sign_ins_beyond_the_budget_of_one_address_get_429_with_when_to_retry() {
    let api = Api::with(Options {
        signins_per_minute: Some(3),
        ..Options::default()
    })
    .await;
    let bot = &api.bot;
    api.give_password(&bot.ana, GOOD).await;
    for _ in 0..2 {
        assert_eq!(api.login(&bot.ana, "wrong guess").await.0, 401);
    }
    assert_eq!(api.login(&bot.ana, GOOD).await.0, 200);
    let before = api.verifications();
    let response = api
        .client
        .post(format!("{}/api/v1/login", api.base))
        .json(&json!({ "tenant": "lincoln", "login": "ana.lopez", "password": GOOD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=20).contains(&retry),
        "one attempt comes back every 20 s: {retry}"
    );
    let body: Value = response.json().await.unwrap();
    assert!(error_of(&body).contains("try again in"), "{body}");
    let (status, _) = api.change(&bot.ana, GOOD, "another good passphrase").await;
    assert_eq!(
        status, 429,
        "changing a password counts as a sign-in attempt"
    );
    assert_eq!(
        api.verifications(),
        before,
        "a limited attempt costs no hash"
    );
}

#[tokio::test]
async fn every_failed_sign_in_makes_one_durable_write_on_sqlite() {
    every_failed_sign_in_makes_one_durable_write(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn every_failed_sign_in_makes_one_durable_write_on_postgresql() {
    every_failed_sign_in_makes_one_durable_write(TestDb::postgres().await).await;
}

/// A wrong password adds one to the account's count; every other failure
/// makes the same size of durable write, under a keyed hash of what was typed,
/// so the time of the 401 does not tell whether the login exists.
async fn every_failed_sign_in_makes_one_durable_write(db: TestDb) {
    let api = Api::on(db, Options::default()).await;
    let bot = &api.bot;
    api.give_password(&bot.ana, GOOD).await;
    // A password typed into the login box is counted, never stored.
    let typed = "my.secret.passphrase";
    for _ in 0..3 {
        assert_eq!(api.login_as(typed, GOOD).await.0, 401);
    }
    let rows = unmatched_failures(&api).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (key, count) = &rows[0];
    assert_eq!(*count, 3, "one write per failure");
    assert_eq!(key.len(), 64, "a keyed hash, not the text");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!key.contains(typed));

    assert_eq!(api.login(&bot.ana, "not it at all").await.0, 401);
    assert_eq!(
        unmatched_failures(&api).await.len(),
        1,
        "a wrong password counts on the account"
    );
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.failed_signins, 1);

    // A day later the old row goes as a new failure arrives.
    bot.clock.advance(Span::days(1) + Span::seconds(1));
    assert_eq!(api.login_as("someone.else", GOOD).await.0, 401);
    let rows = unmatched_failures(&api).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_ne!(rows[0].0, *key, "only the new failure is kept");
    assert_eq!(rows[0].1, 1);
}
