//! The sign-in API end to end: `POST /api/v1/login` and `POST /api/v1/password`
//! through the real listener (served with peer addresses, as `serve` does),
//! temporary passwords handed out by `/reset-password` through signed
//! interactions with the DM captured by the Discord stand-in, on SQLite and
//! PostgreSQL. Time is the bot's `ManualClock`.

use crate::bot::{Bot, GUILD};
use crate::helpers::{TestDb, cli_audit, t0};
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
use std::sync::Arc;
use std::time::Duration;
use url::Url;

mod api;
mod failures;
mod life;

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
