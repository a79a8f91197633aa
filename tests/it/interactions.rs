//! End to end through `POST /interactions`: requests signed the way Discord
//! signs them, answered by the real listener, with DMs, edits and follow-ups
//! going to the local stand-in for Discord's REST API.

use std::sync::Arc;
use std::time::Duration;

use hallpass::app::Clock;
use hallpass::directory::User;
use hallpass::discord::{DiscordRest, InteractionVerifier};
use hallpass::standins::discord::{self as standin, DiscordStandIn};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::web::WebState;
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;

use crate::bot::{Bot, GUILD};
use crate::helpers::{TestDb, on_both_backends};
use sqlx::Row;

// The endpoint tests run twice: on a fresh SQLite file and on a fresh
// PostgreSQL database, so the restore after a failed delivery and the quota
// refund are exercised on both.
on_both_backends!(
    a_ping_is_answered_with_a_pong,
    forged_stale_and_unsigned_requests_are_refused_and_change_nothing,
    reset_password_is_deferred_then_the_password_arrives_by_dm_and_the_answer_is_edited_in,
    with_dms_closed_50007_the_password_comes_in_an_ephemeral_follow_up,
    with_dms_closed_50278_the_password_comes_in_an_ephemeral_follow_up,
    a_self_service_reset_that_cannot_be_delivered_gives_its_use_back,
    when_neither_dm_nor_follow_up_can_be_delivered_the_reset_is_rolled_back,
    autocomplete_through_the_endpoint_offers_only_visible_people,
    the_edit_modal_round_trip_goes_through_the_endpoint,
    every_command_answers_through_the_endpoint,
    an_unlinked_account_gets_the_link_instructions_through_the_endpoint,
    health_and_metrics_answer_on_the_same_listener,
);

pub const APPLICATION_ID: u64 = 42;

pub struct Server {
    pub bot: Bot,
    pub discord: SimulatedDiscord,
    pub standin: DiscordStandIn,
    pub endpoint: Url,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start() -> Self {
        Self::on(TestDb::sqlite().await).await
    }

    pub async fn on(db: TestDb) -> Self {
        let bot = Bot::on(db).await;
        let standin = standin::start().await.unwrap();
        let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
        let rest = DiscordRest::new(
            &standin.url(),
            Some(&SecretString::from("test-bot-token")),
            Some(APPLICATION_ID),
        )
        .unwrap();
        let state = WebState {
            verifier: Some(Arc::new(
                InteractionVerifier::from_hex(&discord.public_key_hex()).unwrap(),
            )),
            discord: Some(Arc::new(rest)),
            ..WebState::new(bot.app.clone())
        };
        let listening = hallpass::web::listen("127.0.0.1:0", state).await.unwrap();
        let endpoint = Url::parse(&listening.url("/interactions")).unwrap();
        Self {
            bot,
            discord,
            standin,
            endpoint,
            client: reqwest::Client::new(),
        }
    }

    pub fn member(user: &User) -> Member<'static> {
        Member {
            guild: GUILD,
            user: user.discord_user_id.map(|d| d.get()).unwrap_or(1),
            username: "someone",
        }
    }

    pub async fn send(&self, payload: &Value) -> (u16, Value) {
        self.discord
            .send(&self.client, &self.endpoint, payload, self.bot.clock.now())
            .await
            .unwrap()
    }

    pub async fn command(
        &self,
        as_user: &User,
        name: &str,
        options: &[(&str, &str)],
    ) -> (Value, String) {
        let payload = self.discord.command(Self::member(as_user), name, options);
        let (status, answer) = self.send(&payload).await;
        assert_eq!(status, 200, "{answer}");
        (answer, SimulatedDiscord::token_of(&payload))
    }

    /// Waits for the deferred answer to be edited in, woken by each request
    /// the stand-in gets (the timeout only turns a hang into a failure);
    /// returns its content.
    pub async fn edited(&self, token: &str) -> String {
        let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
        self.standin
            .wait_for(Duration::from_secs(30), |requests| {
                requests
                    .iter()
                    .find(|r| r.method == "PATCH" && r.path == path)
                    .map(|edit| {
                        edit.body
                            .as_ref()
                            .and_then(|b| b["content"].as_str())
                            .unwrap_or_default()
                            .to_owned()
                    })
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "the deferred answer was never edited in; requests: {:?}",
                    self.standin.requests()
                )
            })
    }
}

fn code_span(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    assert_eq!(parts.len(), 3, "exactly one inline code span in {text:?}");
    parts[1].to_owned()
}

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
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    let hash = hallpass::credentials::PasswordHash::parse(&stored.phc).unwrap();
    assert!(
        bot.app
            .hasher
            .verify(&SecretString::from(password), &hash)
            .await
            .unwrap()
    );
}

async fn reset_with_dms_closed(db: TestDb, code: u64) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    server.standin.fail_dms_with(code);
    let (_, token) = server
        .command(
            &bot.tess,
            "reset-password",
            &[("user", &bot.ana.id.to_string())],
        )
        .await;
    let content = server.edited(&token).await;
    assert!(content.contains("Your DMs are closed"), "{content}");
    let followup_path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}");
    let followup = server
        .standin
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == followup_path)
        .expect("an ephemeral follow-up");
    let body = followup.body.unwrap();
    assert_eq!(body["flags"], 64, "only the teacher can see it");
    let password = code_span(body["content"].as_str().unwrap());
    let stored = bot
        .db
        .store
        .password_hash(bot.world.tenant.id, bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    let hash = hallpass::credentials::PasswordHash::parse(&stored.phc).unwrap();
    assert!(
        bot.app
            .hasher
            .verify(&SecretString::from(password), &hash)
            .await
            .unwrap()
    );
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

async fn autocomplete_through_the_endpoint_offers_only_visible_people(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    // Thirty more students at A1, so more people match than one answer may hold.
    for n in 0..30u8 {
        let login = format!(
            "{}{}.student",
            (b'a' + n / 26) as char,
            (b'a' + n % 26) as char
        );
        bot.world
            .user(
                &bot.db.store,
                &login,
                hallpass::directory::Role::Student,
                crate::helpers::World::at(&bot.world.a1),
            )
            .await;
    }
    let payload =
        server
            .discord
            .autocomplete(Server::member(&bot.tess), "whois", "user", &[("user", "")]);
    let (status, answer) = server.send(&payload).await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 8);
    let values: Vec<&str> = answer["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&bot.ana.id.to_string().as_str()));
    assert!(
        !values.contains(&bot.cara.id.to_string().as_str()),
        "a teacher never sees a student of another school"
    );
    let payload =
        server
            .discord
            .autocomplete(Server::member(&bot.sam), "whois", "user", &[("user", "")]);
    let (_, answer) = server.send(&payload).await;
    let values: Vec<&str> = answer["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert!(
        !values.contains(&bot.dana.id.to_string().as_str()),
        "a school admin never sees a district admin"
    );
    assert_eq!(
        values.len(),
        25,
        "over 30 people at A1 match; Discord takes at most 25 choices"
    );
    let distinct: std::collections::BTreeSet<_> = values.iter().collect();
    assert_eq!(distinct.len(), 25, "no one is offered twice");
}

async fn the_edit_modal_round_trip_goes_through_the_endpoint(db: TestDb) {
    let server = Server::on(db).await;
    let bot = &server.bot;
    let (answer, _) = server
        .command(&bot.sam, "edit-user", &[("user", &bot.tess.id.to_string())])
        .await;
    assert_eq!(answer["type"], 9, "{answer}");
    let custom_id = answer["data"]["custom_id"].as_str().unwrap().to_owned();
    let labels: Vec<&str> = answer["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["components"][0]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["first_name", "last_name", "title", "login"]);
    let submit = server.discord.modal_submit(
        Server::member(&bot.sam),
        &custom_id,
        &[
            ("first_name", "Tess"),
            ("last_name", "Teach"),
            ("title", "Head of Science"),
            ("login", "tess.teach"),
        ],
    );
    let (status, answer) = server.send(&submit).await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 4);
    assert_eq!(answer["data"]["flags"], 64);
    assert_eq!(
        answer["data"]["content"],
        "Updated Teach, Tess:\n• title: Staff → Head of Science"
    );
    assert_eq!(
        bot.reload(&bot.tess).await.title.unwrap().as_str(),
        "Head of Science"
    );
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
