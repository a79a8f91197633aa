use super::*;

on_both_backends!(
    a_ping_is_answered_with_a_pong,
    forged_stale_and_unsigned_requests_are_refused_and_change_nothing,
    every_command_answers_through_the_endpoint,
    an_unlinked_account_gets_the_link_instructions_through_the_endpoint,
    health_and_metrics_answer_on_the_same_listener,
);

async fn a_ping_is_answered_with_a_pong(db: TestDb) {
    let server = Server::on(db).await;
    let (status, answer) = server.send(&server.discord.ping()).await;
    assert_eq!(status, 200);
    assert_eq!(answer, json!({ "type": 1 }));
}

async fn forged_stale_and_unsigned_requests_are_refused_and_change_nothing(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let payload = server.discord.command(
        Server::member(&bot.tess),
        "reset-password",
        &[("user", &bot.ana.id.to_string())],
    );
    let body = serde_json::to_vec(&payload).unwrap();
    let now = bot.clock.now().timestamp();
    let impostor = SimulatedDiscord::new([1; 32], APPLICATION_ID);
    let post = |signature: Option<String>, timestamp: Option<String>, body: Vec<u8>| {
        let mut request = server
            .client
            .post(server.endpoint.clone())
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = signature {
            request = request.header("x-signature-ed25519", s);
        }
        if let Some(t) = timestamp {
            request = request.header("x-signature-timestamp", t);
        }
        request.send()
    };
    let forged = post(
        Some(impostor.sign(&now.to_string(), &body)),
        Some(now.to_string()),
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 401);
    let mut tampered_body = body.clone();
    tampered_body.extend_from_slice(b" ");
    let tampered = post(
        Some(server.discord.sign(&now.to_string(), &body)),
        Some(now.to_string()),
        tampered_body,
    )
    .await
    .unwrap();
    assert_eq!(tampered.status(), 401);
    let old = (now - 600).to_string();
    let stale = post(
        Some(server.discord.sign(&old, &body)),
        Some(old),
        body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        stale.status(),
        401,
        "a captured request can't be replayed ten minutes later"
    );
    let unsigned = post(None, None, body.clone()).await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let garbage = post(Some("zz".into()), Some(now.to_string()), body)
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
    // A genuine request after them: once its answer is edited in, anything
    // the refused ones had set off would have been sent before it.
    let (_, genuine) = server
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ben.id.to_string())],
        )
        .await;
    server.edited(&genuine).await;
    let forged_token = SimulatedDiscord::token_of(&payload);
    let sent = server.standin.requests();
    assert!(
        !sent.iter().any(|r| r.path.contains(&forged_token)),
        "nothing was sent for the refused requests: {sent:?}"
    );
    assert_eq!(
        server.standin.dms().len(),
        1,
        "only the genuine request's password went out"
    );
    assert_eq!(
        bot.db
            .store
            .password_hash(bot.world.tenant.id, bot.ana.id)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn without_a_public_key_the_endpoint_answers_503() {
    let bot = Bot::new().await;
    let listening = hallpass::web::listen("127.0.0.1:0", WebState::new(bot.app.clone()))
        .await
        .unwrap();
    let url = listening.url("/interactions");
    let status = reqwest::Client::new()
        .post(url)
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 503);
}

async fn every_command_answers_through_the_endpoint(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let (whois, _) = server
        .command(&bot.tess, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    assert!(
        whois["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("**Lopez, Ana**"),
        "{whois}"
    );
    let (audit, _) = server
        .command(&bot.sam, "audit", &[("user", &bot.ana.id.to_string())])
        .await;
    assert!(
        audit["data"]["content"]
            .as_str()
            .unwrap()
            .contains("user.create"),
        "{audit}"
    );
    let (moved, _) = server
        .command(
            &bot.dana,
            "edit-user",
            &[
                ("user", &bot.ben.id.to_string()),
                ("school", &bot.world.a2.id.to_string()),
            ],
        )
        .await;
    assert_eq!(
        moved["data"]["content"],
        "Moved Ng, Ben: student at Lincoln Middle School → student at Adams Elementary."
    );
    let (deferred, token) = server
        .command(
            &bot.dana,
            "link-code",
            &[("user", &bot.cara.id.to_string())],
        )
        .await;
    assert_eq!(deferred["type"], 5);
    assert!(
        server
            .edited(&token)
            .await
            .contains("link code for Diaz, Cara")
    );
    let code = code_span(&server.standin.dms().last().unwrap().1);
    let stranger = Member {
        guild: GUILD,
        user: 777_000,
        username: "cara",
    };
    let (_, linked) = server
        .send(&server.discord.command(stranger, "link", &[("code", &code)]))
        .await;
    assert!(
        linked["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("You're linked"),
        "{linked}"
    );
    let (_, self_reset) = server
        .send(
            &server
                .discord
                .command(stranger, "whois", &[("user", &bot.cara.id.to_string())]),
        )
        .await;
    assert!(
        self_reset["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("**Diaz, Cara**"),
        "{self_reset}"
    );
}

async fn an_unlinked_account_gets_the_link_instructions_through_the_endpoint(db: TestDb) {
    let server = Server::on(db).await;
    let stranger = Member {
        guild: GUILD,
        user: 777_001,
        username: "nobody",
    };
    let (_, answer) = server
        .send(
            &server
                .discord
                .command(stranger, "whois", &[("user", "ana.lopez")]),
        )
        .await;
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("isn't linked to hallpass yet"),
        "{answer}"
    );
    assert_eq!(answer["data"]["flags"], 64);
}

async fn health_and_metrics_answer_on_the_same_listener(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    server
        .command(&bot.tess, "whois", &[("user", &bot.ana.id.to_string())])
        .await;
    let health = server
        .client
        .get(server.endpoint.join("/healthz").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = server
        .client
        .get(server.endpoint.join("/metrics").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("hallpass_interactions_total{kind=\"command\",command=\"whois\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("ana"), "no user data in metrics");
}
