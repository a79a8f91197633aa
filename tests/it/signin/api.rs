use super::*;

#[tokio::test]
async fn with_an_api_token_set_only_requests_bearing_it_reach_the_api() {
    let api = Api::with(Options {
        api_token: Some("operator-chosen-token"),
        ..Options::default()
    })
    .await;
    let bot = &api.bot;
    api.give_password(&bot.ana, GOOD).await;
    let body = json!({ "tenant": "lincoln", "login": "ana.lopez", "password": GOOD });
    let before = api.verifications();
    for token in [None, Some("wrong-token"), Some("operator-chosen-tokens")] {
        let (status, answer) = api.post("/api/v1/login", &body, token).await;
        assert_eq!(status, 401, "{token:?}: {answer}");
        assert!(error_of(&answer).contains("bearer token"), "{answer}");
    }
    let change = json!({ "tenant": "lincoln", "login": "ana.lopez",
                         "current_password": GOOD, "new_password": "another good passphrase" });
    assert_eq!(api.post("/api/v1/password", &change, None).await.0, 401);
    assert_eq!(
        api.verifications(),
        before,
        "refused before any password work"
    );
    let (status, answer) = api
        .post("/api/v1/login", &body, Some("operator-chosen-token"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["user_id"], bot.ana.id.to_string());
    let raw = api
        .client
        .post(format!("{}/api/v1/login", api.base))
        .header("authorization", "bearer operator-chosen-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200, "the scheme is case-insensitive");
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_made_again_with_todays_on_sign_in() {
    let api = Api::with(Options {
        owasp_hasher: true,
        ..Options::default()
    })
    .await;
    let bot = &api.bot;
    let cheap = PasswordHasher::new(HashParams::insecure_fast_for_tests_only())
        .unwrap()
        .hash(&SecretString::from(GOOD))
        .await
        .unwrap();
    assert!(cheap.as_str().starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
    api.store_hash(&bot.ana, &cheap).await;
    assert_eq!(api.login(&bot.ana, GOOD).await.0, 200);
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "re-hashed with today's parameters"
    );
    let (status, _) = api.login(&bot.ana, GOOD).await;
    assert_eq!(status, 200, "the new hash is of the same password");
    let again = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.phc, stored.phc, "a hash as strong as today's stays");
}

#[tokio::test]
async fn zoe_typed_composed_decomposed_or_fullwidth_signs_in_alike() {
    let api = Api::start().await;
    let bot = &api.bot;
    let temporary = api.reset_through_discord(&bot.tess, &bot.ana).await;
    let composed = "Zo\u{00EB} and the quiet tacos";
    let (status, body) = api.change(&bot.ana, &temporary, composed).await;
    assert_eq!(status, 204, "{body}");
    for typed in [
        composed,
        "Zoe\u{0308} and the quiet tacos",
        "\u{FF3A}\u{FF4F}\u{00EB} and the quiet tacos",
    ] {
        let (status, body) = api.login(&bot.ana, typed).await;
        assert_eq!(status, 200, "{typed:?}: {body}");
    }
    assert_eq!(api.login(&bot.ana, "Zoe and the quiet tacos").await.0, 401);
}
