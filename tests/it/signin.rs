//! The sign-in API end to end: `POST /api/v1/login` and `POST /api/v1/password`
//! through the real listener (served with peer addresses, as `serve` does),
//! temporary passwords handed out by `/reset-password` through signed
//! interactions with the DM captured by the Discord stand-in, on SQLite and
//! PostgreSQL. Time is the bot's `ManualClock`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use hallpass::app::Clock;
use hallpass::audit::{Action, AuditQuery};
use hallpass::credentials::{HashParams, PasswordHash, PasswordHasher};
use hallpass::directory::User;
use hallpass::discord::{DiscordRest, InteractionVerifier};
use hallpass::limits::Limits;
use hallpass::signin::{EXPIRED, GENERIC, SAME_AS_CURRENT};
use hallpass::standins::discord::{self as standin, DiscordStandIn};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::store::UserChanges;
use hallpass::web::WebState;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use crate::bot::{Bot, GUILD};
use crate::helpers::{TestDb, cli_audit, t0};

const APPLICATION_ID: u64 = 42;
const GOOD: &str = "purple giraffes eat tacos";

/// What a test changes from the defaults.
#[derive(Default)]
pub struct Options {
    pub api_token: Option<&'static str>,
    pub lockout_threshold: Option<u32>,
    pub signins_per_minute: Option<u32>,
    /// Hash with OWASP's parameters instead of the cheap test ones.
    pub owasp_hasher: bool,
}

/// The bot world behind a real listener, with a Discord stand-in for DMs.
pub struct Api {
    pub bot: Bot,
    pub discord: SimulatedDiscord,
    pub standin: DiscordStandIn,
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    pub async fn start() -> Self {
        Self::on(TestDb::sqlite().await, Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        Self::on(TestDb::sqlite().await, options).await
    }

    pub async fn on(db: TestDb, options: Options) -> Self {
        let bot = Bot::on(db).await;
        Self::around(bot, options).await
    }

    /// Starts the listener for `bot`, after applying `options` to its app.
    pub async fn around(mut bot: Bot, options: Options) -> Self {
        let mut settings = (*bot.app.settings).clone();
        if let Some(n) = options.lockout_threshold {
            settings.lockout_threshold = n;
        }
        let bound = hallpass::web::bind("127.0.0.1:0").await.unwrap();
        let base = bound.url("");
        settings.public_url = base.clone();
        bot.app.settings = Arc::new(settings);
        if let Some(n) = options.signins_per_minute {
            bot.app.limits = Arc::new(Limits::default().with_signins_per_minute(n));
        }
        if options.owasp_hasher {
            bot.app.hasher = PasswordHasher::new(HashParams::owasp()).unwrap();
        }
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
            api_token: options
                .api_token
                .map(|t| Arc::new(SecretString::from(t.to_owned()))),
            ..WebState::new(bot.app.clone())
        };
        bound.serve(state);
        Self {
            bot,
            discord,
            standin,
            base,
            client: reqwest::Client::new(),
        }
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn login(&self, user: &User, password: &str) -> (u16, Value) {
        self.login_as(user.login.as_str(), password).await
    }

    pub async fn login_as(&self, login: &str, password: &str) -> (u16, Value) {
        let body = json!({ "tenant": "lincoln", "login": login, "password": password });
        self.post("/api/v1/login", &body, None).await
    }

    pub async fn change(&self, user: &User, current: &str, new: &str) -> (u16, Value) {
        let body = json!({
            "tenant": "lincoln",
            "login": user.login.as_str(),
            "current_password": current,
            "new_password": new,
        });
        self.post("/api/v1/password", &body, None).await
    }

    /// `/reset-password user:<target>` as `actor` through `POST /interactions`;
    /// answers the temporary password from the DM the stand-in captured.
    pub async fn reset_through_discord(&self, actor: &User, target: &User) -> String {
        let member = Member {
            guild: GUILD,
            user: actor.discord_user_id.map(|d| d.get()).unwrap_or(1),
            username: "someone",
        };
        let payload = self.discord.command(
            member,
            "reset-password",
            &[("user", &target.id.to_string())],
        );
        let endpoint = Url::parse(&format!("{}/interactions", self.base)).unwrap();
        let dms_before = self.standin.dms().len();
        let (status, answer) = self
            .discord
            .send(&self.client, &endpoint, &payload, self.bot.clock.now())
            .await
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        // The reset is deferred; wait for its DM to reach the stand-in, woken
        // by each request it gets (the timeout only turns a hang into a failure).
        loop {
            let seen = self.standin.requests().len();
            let dms = self.standin.dms();
            if dms.len() > dms_before {
                return code_span(&dms[dms.len() - 1].1);
            }
            self.standin
                .wait_for(Duration::from_secs(30), |r| (r.len() > seen).then_some(()))
                .await
                .unwrap_or_else(|| panic!("no DM arrived: {:?}", self.standin.requests()));
        }
    }

    /// Gives `user` a password directly (hashed by the app's hasher).
    pub async fn give_password(&self, user: &User, password: &str) {
        let hash = self
            .bot
            .app
            .hasher
            .hash(&SecretString::from(password.to_owned()))
            .await
            .unwrap();
        self.store_hash(user, &hash).await;
    }

    pub async fn store_hash(&self, user: &User, hash: &PasswordHash) {
        let user = self.bot.reload(user).await;
        self.bot
            .db
            .store
            .set_password(
                &user,
                hash.as_str(),
                false,
                None,
                cli_audit(Action::PasswordReset, t0()),
            )
            .await
            .unwrap();
    }

    pub fn verifications(&self) -> u64 {
        self.bot.app.hasher.verifications()
    }

    pub async fn audit_log(&self) -> String {
        let events = self
            .bot
            .db
            .store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap();
        serde_json::to_string(&events).unwrap()
    }
}

pub fn code_span(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    assert_eq!(parts.len(), 3, "exactly one inline code span in {text:?}");
    parts[1].to_owned()
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
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

#[tokio::test]
async fn a_temporary_password_lives_from_reset_to_change_and_expires_on_sqlite() {
    the_life_of_a_temporary_password(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn a_temporary_password_lives_from_reset_to_change_and_expires_on_postgresql() {
    the_life_of_a_temporary_password(TestDb::postgres().await).await;
}

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

/// The rows of `signin_failures`, as (key, count), in key order.
async fn unmatched_failures(api: &Api) -> Vec<(String, i64)> {
    use sqlx::Row;
    sqlx::query("SELECT attempt_key, failures FROM signin_failures ORDER BY attempt_key")
        .fetch_all(api.bot.db.store.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                row.try_get("attempt_key").unwrap(),
                row.try_get("failures").unwrap(),
            )
        })
        .collect()
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

#[tokio::test]
async fn every_failed_sign_in_makes_one_durable_write_on_sqlite() {
    every_failed_sign_in_makes_one_durable_write(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn every_failed_sign_in_makes_one_durable_write_on_postgresql() {
    every_failed_sign_in_makes_one_durable_write(TestDb::postgres().await).await;
}
