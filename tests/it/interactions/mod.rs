//! End to end through `POST /interactions`: requests signed the way Discord
//! signs them, answered by the real listener, with DMs, edits and follow-ups
//! going to the local stand-in for Discord's REST API.

use crate::bot::{Bot, GUILD};
use crate::helpers::{TestDb, on_both_backends};
use hallpass::app::Clock;
use hallpass::directory::User;
use hallpass::discord::{DiscordRest, InteractionVerifier};
use hallpass::standins::discord::{self as standin, DiscordStandIn};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::web::WebState;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

mod endpoint;
mod forms;
mod resets;

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
    assert!(bot.holds_password(&bot.ana, &password).await);
}
