//! The class world behind the real listener: signed interactions in (the
//! Discord stand-in's simulator), DMs, follow-ups and edits out to the
//! Discord REST stand-in, and the sign-in API on the same address.

use std::sync::Arc;
use std::time::Duration;

use hallpass::app::Clock;
use hallpass::discord::{DiscordRest, InteractionVerifier};
use hallpass::standins::discord::{self as standin, DiscordStandIn};
use hallpass::standins::simulate::{Member, SimulatedDiscord};
use hallpass::web::WebState;
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;

use crate::class_world::{ClassWorld, GUILD};

pub const APPLICATION_ID: u64 = 43;

pub struct Listening {
    pub world: ClassWorld,
    pub discord: SimulatedDiscord,
    pub standin: DiscordStandIn,
    pub base: String,
    pub client: reqwest::Client,
}

impl Listening {
    pub async fn start(mut world: ClassWorld) -> Self {
        let bound = hallpass::web::bind("127.0.0.1:0").await.unwrap();
        let base = bound.url("");
        let mut settings = (*world.app.settings).clone();
        settings.public_url = base.clone();
        world.app.settings = Arc::new(settings);
        let standin = standin::start().await.unwrap();
        let discord = SimulatedDiscord::new([5; 32], APPLICATION_ID);
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
            ..WebState::new(world.app.clone())
        };
        bound.serve(state);
        Self {
            world,
            discord,
            standin,
            base,
            client: reqwest::Client::new(),
        }
    }

    pub async fn member(&self, login: &str) -> Member<'static> {
        let user = self.world.user(login).await;
        Member {
            guild: GUILD,
            user: user.discord_user_id.expect("a linked account").get(),
            username: "someone",
        }
    }

    pub async fn send(&self, payload: &Value) -> (u16, Value) {
        let endpoint = Url::parse(&format!("{}/interactions", self.base)).unwrap();
        self.discord
            .send(&self.client, &endpoint, payload, self.world.clock.now())
            .await
            .unwrap()
    }

    /// `/class-cards class:…` as `login`; the prompt's answer and its buttons' ids.
    pub async fn prompt(&self, login: &str, class: &str) -> (Value, Vec<String>) {
        let payload =
            self.discord
                .command(self.member(login).await, "class-cards", &[("class", class)]);
        let (status, answer) = self.send(&payload).await;
        assert_eq!(status, 200, "{answer}");
        let ids = answer["data"]["components"][0]["components"]
            .as_array()
            .unwrap_or_else(|| panic!("no buttons in {answer}"))
            .iter()
            .map(|b| b["custom_id"].as_str().unwrap().to_owned())
            .collect();
        (answer, ids)
    }

    /// Clicks a button as `login`; the immediate answer and the interaction's token.
    pub async fn click(&self, login: &str, custom_id: &str) -> (Value, String) {
        let payload = self.discord.button(self.member(login).await, custom_id);
        let (status, answer) = self.send(&payload).await;
        assert_eq!(status, 200, "{answer}");
        (answer, SimulatedDiscord::token_of(&payload))
    }

    /// The edit of the prompt (`@original`) after a slow click: its body.
    pub async fn edited(&self, token: &str) -> Value {
        let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
        self.standin
            .wait_for(Duration::from_secs(60), |requests| {
                requests
                    .iter()
                    .find(|r| r.method == "PATCH" && r.path == path)
                    .and_then(|edit| edit.body.clone())
            })
            .await
            .unwrap_or_else(|| panic!("no edit of the prompt: {:?}", self.standin.requests()))
    }

    /// `POST /api/v1/login`: (status, body).
    pub async fn login(&self, login: &str, password: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/login", self.base))
            .json(&json!({ "tenant": "lincoln", "login": login, "password": password }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
