//! Discord's side of an interaction, simulated: payloads shaped the way
//! Discord sends them (its documented interaction objects), signed with an
//! Ed25519 key the way Discord signs them. The demo drives the real
//! `/interactions` endpoint with these, and so do the tests. Nothing here is
//! used when hallpass talks to the real Discord.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use url::Url;

pub struct SimulatedDiscord {
    key: SigningKey,
    application_id: u64,
    next_id: AtomicU64,
}

/// A chat account in a simulated server.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub guild: u64,
    pub user: u64,
    pub username: &'a str,
}

impl SimulatedDiscord {
    pub fn new(seed: [u8; 32], application_id: u64) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
            application_id,
            next_id: AtomicU64::new(1_100_000_000_000_000_000),
        }
    }

    /// The public key to configure as `DISCORD_PUBLIC_KEY`.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    pub fn application_id(&self) -> u64 {
        self.application_id
    }

    /// `X-Signature-Ed25519` for a body sent at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let message = [timestamp.as_bytes(), body].concat();
        hex::encode(self.key.sign(&message).to_bytes())
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Each interaction gets its own token (used for edits and follow-ups).
    pub fn token_of(payload: &Value) -> String {
        payload["token"].as_str().unwrap_or_default().to_owned()
    }

    pub fn ping(&self) -> Value {
        let id = self.id();
        json!({ "id": id.to_string(), "application_id": self.application_id.to_string(), "type": 1,
                "token": format!("ping-token-{id}"), "version": 1 })
    }

    pub fn command(&self, who: Member<'_>, name: &str, options: &[(&str, &str)]) -> Value {
        let options: Vec<Value> = options
            .iter()
            .map(|(k, v)| json!({ "name": k, "type": 3, "value": v }))
            .collect();
        self.envelope(
            who,
            2,
            json!({ "id": "1000", "name": name, "type": 1, "options": options }),
        )
    }

    /// An autocomplete request while `focused` is being typed.
    pub fn autocomplete(
        &self,
        who: Member<'_>,
        name: &str,
        focused: &str,
        options: &[(&str, &str)],
    ) -> Value {
        let options: Vec<Value> = options
            .iter()
            .map(|(k, v)| {
                let mut option = json!({ "name": k, "type": 3, "value": v });
                if *k == focused {
                    option["focused"] = json!(true);
                }
                option
            })
            .collect();
        self.envelope(
            who,
            4,
            json!({ "id": "1000", "name": name, "type": 1, "options": options }),
        )
    }

    pub fn modal_submit(&self, who: Member<'_>, custom_id: &str, fields: &[(&str, &str)]) -> Value {
        let rows: Vec<Value> = fields
            .iter()
            .map(|(k, v)| json!({ "type": 1, "components": [{ "type": 4, "custom_id": k, "value": v }] }))
            .collect();
        self.envelope(
            who,
            5,
            json!({ "custom_id": custom_id, "components": rows }),
        )
    }

    /// A click on the button `custom_id` of a prompt hallpass sent
    /// (MESSAGE_COMPONENT, component type 2), with the prompt's message as
    /// Discord includes it.
    pub fn button(&self, who: Member<'_>, custom_id: &str) -> Value {
        let mut payload = self.envelope(
            who,
            3,
            json!({ "custom_id": custom_id, "component_type": 2 }),
        );
        payload["message"] = self.prompt_message(custom_id);
        payload
    }

    /// The ephemeral prompt whose button is clicked, as a message object.
    fn prompt_message(&self, custom_id: &str) -> Value {
        json!({
            "id": self.id().to_string(),
            "type": 20,
            "channel_id": "1200000000000000001",
            "author": { "id": self.application_id.to_string(), "username": "hallpass", "discriminator": "0",
                        "global_name": null, "avatar": null, "bot": true },
            "content": "Confirm?",
            "timestamp": "2026-09-01T08:00:00.000000+00:00",
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": false,
            "flags": 64,
            "application_id": self.application_id.to_string(),
            "components": [{ "type": 1, "components": [
                { "type": 2, "style": 1, "label": "Confirm", "custom_id": custom_id }
            ]}]
        })
    }

    fn envelope(&self, who: Member<'_>, kind: u8, data: Value) -> Value {
        let id = self.id();
        json!({
            "id": id.to_string(),
            "application_id": self.application_id.to_string(),
            "type": kind,
            "data": data,
            "guild_id": who.guild.to_string(),
            "channel_id": "1200000000000000001",
            "member": {
                "user": { "id": who.user.to_string(), "username": who.username, "discriminator": "0",
                          "global_name": who.username, "avatar": null },
                "roles": [], "joined_at": "2026-09-01T08:00:00.000000+00:00", "premium_since": null,
                "deaf": false, "mute": false, "flags": 0, "pending": false, "permissions": "2248473465835073",
                "nick": null, "avatar": null, "communication_disabled_until": null
            },
            "token": format!("interaction-token-{id}"),
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": { "0": who.guild.to_string() },
            "context": 0,
            "attachment_size_limit": 26214400
        })
    }

    /// Signs and posts `payload` to the endpoint; returns the status and the JSON answer (or null).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        endpoint: &Url,
        payload: &Value,
        now: DateTime<Utc>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let body = serde_json::to_vec(payload).unwrap_or_default();
        let timestamp = now.timestamp().to_string();
        let signature = self.sign(&timestamp, &body);
        let response = client
            .post(endpoint.clone())
            .header("content-type", "application/json")
            .header("x-signature-ed25519", signature)
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let json = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, json))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::commands::Request;
    use crate::discord::{Incoming, parse};

    const ANA: Member<'static> = Member {
        guild: 4242,
        user: 1001,
        username: "ana",
    };

    #[test]
    fn serenity_reads_a_simulated_command_as_discord_would_send_it() {
        let discord = SimulatedDiscord::new([7; 32], 42);
        let payload = discord.command(ANA, "whois", &[("user", "ana.lopez")]);
        let Incoming::Request(envelope) = parse(&serde_json::to_vec(&payload).unwrap()).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            envelope.request,
            Request::command("whois", &[("user", "ana.lopez")])
        );
        assert_eq!(envelope.invocation.user.map(|u| u.get()), Some(1001));
        assert_eq!(envelope.invocation.guild.map(|g| g.get()), Some(4242));
        assert!(envelope.token.starts_with("interaction-token-"));
    }

    #[test]
    fn serenity_reads_autocomplete_and_modal_submits() {
        let discord = SimulatedDiscord::new([7; 32], 42);
        let auto = discord.autocomplete(ANA, "whois", "user", &[("user", "lo")]);
        let Incoming::Request(envelope) = parse(&serde_json::to_vec(&auto).unwrap()).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            envelope.request,
            Request::autocomplete("whois", "user", &[("user", "lo")])
        );
        let modal = discord.modal_submit(ANA, "edit-user:x:1", &[("first_name", "Anita")]);
        let Incoming::Request(envelope) = parse(&serde_json::to_vec(&modal).unwrap()).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            envelope.request,
            Request::modal_submit("edit-user:x:1", &[("first_name", "Anita")])
        );
        let ping = discord.ping();
        assert!(matches!(
            parse(&serde_json::to_vec(&ping).unwrap()).unwrap(),
            Incoming::Ping
        ));
    }

    #[test]
    fn serenity_reads_a_simulated_button_click_as_a_button_request() {
        let discord = SimulatedDiscord::new([7; 32], 42);
        let click = discord.button(ANA, "class-cards:confirm:1");
        let Incoming::Request(envelope) = parse(&serde_json::to_vec(&click).unwrap()).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(envelope.request, Request::button("class-cards:confirm:1"));
        assert_eq!(envelope.invocation.user.map(|u| u.get()), Some(1001));
        assert!(envelope.token.starts_with("interaction-token-"));
        assert_eq!(envelope.invocation.guild.map(|g| g.get()), Some(4242));
    }
}
