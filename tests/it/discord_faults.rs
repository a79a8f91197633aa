//! Discord on a bad day: the REST stand-in answers 500s, 429s with
//! `retry_after`, and requests that never get an answer, scripted per route.
//! A `/reset-password` through the real listener still delivers its password
//! exactly once, or rolls the reset back so the previous password signs in
//! again; and the password is never in any message but the DM or the
//! ephemeral follow-up. The REST client runs with a short per-try timeout and
//! short waits, so the tests run in seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hallpass::app::Clock;
use hallpass::discord::{DiscordRest, InteractionVerifier, RetryPolicy};
use hallpass::standins::discord::{DiscordStandIn, FOLLOWUPS, Fault, MESSAGES, RecordedRequest};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::web::WebState;
use secrecy::SecretString;
use serde_json::json;
use url::Url;

use crate::bot::{Bot, GUILD};

const APPLICATION_ID: u64 = 42;
const OWN: &str = "purple giraffes eat tacos";

/// Short tries and waits: a hang is given up after 300 ms.
const FAST: RetryPolicy = RetryPolicy {
    request_timeout: Duration::from_millis(300),
    attempts: 4,
    first_backoff: Duration::from_millis(20),
    max_backoff: Duration::from_millis(100),
    budget: Duration::from_secs(10),
};

struct Faulty {
    bot: Bot,
    discord: SimulatedDiscord,
    standin: DiscordStandIn,
    base: String,
    client: reqwest::Client,
}

impl Faulty {
    async fn start() -> Self {
        let mut bot = Bot::new().await;
        let bound = hallpass::web::bind("127.0.0.1:0").await.unwrap();
        let base = bound.url("");
        let mut settings = (*bot.app.settings).clone();
        settings.public_url = base.clone();
        bot.app.settings = Arc::new(settings);
        let standin = hallpass::standins::discord::start().await.unwrap();
        let discord = SimulatedDiscord::new([9; 32], APPLICATION_ID);
        let rest = DiscordRest::new(
            &standin.url(),
            Some(&SecretString::from("test-bot-token")),
            Some(APPLICATION_ID),
        )
        .unwrap()
        .with_retry(FAST);
        let state = WebState {
            verifier: Some(Arc::new(
                InteractionVerifier::from_hex(&discord.public_key_hex()).unwrap(),
            )),
            discord: Some(Arc::new(rest)),
            ..WebState::new(bot.app.clone())
        };
        // Serves until the test's runtime ends.
        drop(bound.serve(state));
        let faulty = Self {
            bot,
            discord,
            standin,
            base,
            client: reqwest::Client::new(),
        };
        // Ana has a password of her own before every reset.
        let hash = faulty
            .bot
            .app
            .hasher
            .hash(&SecretString::from(OWN.to_owned()))
            .await
            .unwrap();
        faulty
            .bot
            .db
            .store
            .set_password(
                &faulty.bot.ana,
                hash.as_str(),
                false,
                None,
                crate::helpers::cli_audit(
                    hallpass::audit::Action::PasswordChange,
                    crate::helpers::t0(),
                ),
            )
            .await
            .unwrap();
        faulty
    }

    /// Tess resets Ana's password through `POST /interactions`; answers the
    /// deferred answer's final text once it is edited in (after delivery).
    async fn reset_ana(&self) -> String {
        let member = Member {
            guild: GUILD,
            user: self.bot.tess.discord_user_id.map(|d| d.get()).unwrap(),
            username: "tess",
        };
        let payload = self.discord.command(
            member,
            "reset-password",
            &[("user", &self.bot.ana.id.to_string())],
        );
        let token = SimulatedDiscord::token_of(&payload);
        let endpoint = Url::parse(&format!("{}/interactions", self.base)).unwrap();
        let (status, answer) = self
            .discord
            .send(&self.client, &endpoint, &payload, self.bot.clock.now())
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["type"], 5, "deferred: {answer}");
        let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
        self.standin
            .wait_for(Duration::from_secs(30), |requests| {
                requests
                    .iter()
                    .find(|r| r.method == "PATCH" && r.path == path)
                    .map(|r| content(r).to_owned())
            })
            .await
            .unwrap_or_else(|| panic!("never edited in: {:?}", self.standin.requests()))
    }

    async fn login_ana(&self, password: &str) -> u16 {
        let body = json!({ "tenant": "lincoln", "login": self.bot.ana.login.as_str(), "password": password });
        self.client
            .post(format!("{}/api/v1/login", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The message posts (DMs: these tests add no server channel) so far.
    fn message_posts(&self) -> Vec<RecordedRequest> {
        self.standin
            .requests()
            .into_iter()
            .filter(|r| r.method == MESSAGES.0 && r.path.starts_with(MESSAGES.1))
            .collect()
    }
}

fn content(request: &RecordedRequest) -> &str {
    request
        .body
        .as_ref()
        .and_then(|b| b["content"].as_str())
        .unwrap_or_default()
}

fn code_span(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    assert_eq!(parts.len(), 3, "exactly one inline code span in {text:?}");
    parts[1].to_owned()
}

#[tokio::test]
async fn a_dm_that_meets_500s_is_sent_again_and_arrives_exactly_once() {
    let world = Faulty::start().await;
    world
        .standin
        .script(MESSAGES, &[Fault::ServerError, Fault::ServerError]);
    let answer = world.reset_ana().await;
    assert!(answer.starts_with("Done:"), "{answer}");
    let statuses: Vec<u16> = world.message_posts().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    let dms = world.standin.dms();
    assert_eq!(dms.len(), 1, "delivered once: {dms:?}");
    let password = code_span(&dms[0].1);
    assert_eq!(world.login_ana(&password).await, 200);
    assert_eq!(world.login_ana(OWN).await, 401, "the reset stands");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_dm_delivered() {
    let world = Faulty::start().await;
    world.standin.script(MESSAGES, &[Fault::RateLimited(0.4)]);
    let started = Instant::now();
    let answer = world.reset_ana().await;
    assert!(answer.starts_with("Done:"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the retry waited retry_after"
    );
    let statuses: Vec<u16> = world.message_posts().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
    let dms = world.standin.dms();
    assert_eq!(dms.len(), 1);
    assert_eq!(world.login_ana(&code_span(&dms[0].1)).await, 200);
}

#[tokio::test]
async fn a_dm_that_hangs_is_given_up_after_the_timeout_and_sent_again() {
    let world = Faulty::start().await;
    world.standin.script(MESSAGES, &[Fault::Hang]);
    let started = Instant::now();
    let answer = world.reset_ana().await;
    assert!(answer.starts_with("Done:"), "{answer}");
    assert!(started.elapsed() >= FAST.request_timeout);
    let statuses: Vec<u16> = world.message_posts().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [0, 200],
        "one try never answered, then one delivered"
    );
    let dms = world.standin.dms();
    assert_eq!(dms.len(), 1);
    assert_eq!(world.login_ana(&code_span(&dms[0].1)).await, 200);
}

#[tokio::test]
async fn a_follow_up_that_meets_a_500_and_a_hang_is_sent_again_when_dms_are_closed() {
    let world = Faulty::start().await;
    world.standin.fail_dms_with(50007);
    world
        .standin
        .script(FOLLOWUPS, &[Fault::ServerError, Fault::Hang]);
    let answer = world.reset_ana().await;
    assert!(answer.contains("Your DMs are closed"), "{answer}");
    let followups: Vec<RecordedRequest> = world
        .standin
        .requests()
        .into_iter()
        .filter(|r| r.method == FOLLOWUPS.0 && r.path.starts_with(FOLLOWUPS.1))
        .collect();
    let statuses: Vec<u16> = followups.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 0, 200]);
    let delivered = &followups[2];
    assert_eq!(delivered.body.as_ref().unwrap()["flags"], 64);
    assert_eq!(world.login_ana(&code_span(content(delivered))).await, 200);
}

#[tokio::test]
async fn when_every_try_fails_the_reset_is_rolled_back_and_the_previous_password_signs_in() {
    let world = Faulty::start().await;
    let every_try = [
        Fault::ServerError,
        Fault::Hang,
        Fault::ServerError,
        Fault::ServerError,
    ];
    world.standin.script(MESSAGES, &every_try);
    world.standin.script(FOLLOWUPS, &every_try);
    let answer = world.reset_ana().await;
    assert!(answer.contains("I undid the reset"), "{answer}");
    // Discord failing is not the educator's closed DMs, and the answer says so.
    assert!(answer.contains("Discord didn't take the DM"), "{answer}");
    assert!(!answer.contains("DMs are closed"), "{answer}");
    assert_eq!(world.standin.faults_left(), 0, "every try was made");
    assert!(world.standin.dms().is_empty());
    assert_eq!(
        world.login_ana(OWN).await,
        200,
        "the previous password is back"
    );
    let stored = world
        .bot
        .db
        .store
        .password_hash(world.bot.world.tenant.id, world.bot.ana.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.must_change);
    // The temporary password that was tried does not sign in.
    let tried = code_span(content(&world.message_posts()[0]));
    assert_eq!(world.login_ana(&tried).await, 401);
}

#[tokio::test]
async fn no_password_is_in_any_message_but_the_dm_or_the_ephemeral_follow_up() {
    let world = Faulty::start().await;
    // Delivered by DM after a 500 and a 429.
    world
        .standin
        .script(MESSAGES, &[Fault::ServerError, Fault::RateLimited(0.05)]);
    world.reset_ana().await;
    // Every try fails: rolled back.
    let every_try = [Fault::ServerError; 4];
    world.standin.script(MESSAGES, &every_try);
    world.standin.script(FOLLOWUPS, &every_try);
    world.reset_ana().await;
    // DMs closed: by follow-up after a hang.
    world.standin.fail_dms_with(50278);
    world.standin.script(FOLLOWUPS, &[Fault::Hang]);
    world.reset_ana().await;

    let requests = world.standin.requests();
    let is_dm = |r: &RecordedRequest| r.method == MESSAGES.0 && r.path.starts_with(MESSAGES.1);
    let is_ephemeral_followup = |r: &RecordedRequest| {
        r.method == FOLLOWUPS.0
            && r.path.starts_with(FOLLOWUPS.1)
            && r.body.as_ref().is_some_and(|b| b["flags"] == 64)
    };
    let mut passwords: Vec<String> = requests
        .iter()
        .filter(|r| is_dm(r) || is_ephemeral_followup(r))
        .map(|r| code_span(content(r)))
        .collect();
    passwords.sort();
    passwords.dedup();
    assert_eq!(passwords.len(), 3, "one password per reset: {passwords:?}");
    for request in &requests {
        let text = request
            .body
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default();
        let leaked = passwords.iter().any(|p| text.contains(p.as_str()));
        assert!(
            !leaked || is_dm(request) || is_ephemeral_followup(request),
            "a password in {} {} (status {})",
            request.method,
            request.path,
            request.status
        );
    }
    assert!(
        requests.iter().any(|r| r.method == "PATCH"),
        "the edited answers were checked too"
    );
}
