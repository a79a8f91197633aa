//! The requests the bot makes: DMs (with a file when given), messages in a
//! server channel, the interaction's callback, edits and follow-ups, and the
//! bulk overwrite of the commands.

use std::num::NonZeroU64;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use serenity::http::Route;
use serenity::model::id::{ChannelId, GuildId, InteractionId};

use super::{Call, DiscordRest, DmError, RestError, decode};
use crate::commands::Attachment;

/// Message flag: only the invoker sees it.
pub(super) const EPHEMERAL: u64 = 1 << 6;

#[derive(Deserialize)]
struct Channel {
    id: ChannelId,
}
impl DiscordRest {
    /// Opens (or finds) the DM channel with `user` and posts `content` there.
    pub async fn send_dm(&self, user: u64, content: &str) -> Result<(), DmError> {
        self.send_dm_with(user, content, None).await
    }

    /// [`Self::send_dm`], with `file` attached when given.
    #[tracing::instrument(name = "send_dm", skip(self, content, file))]
    pub async fn send_dm_with(
        &self,
        user: u64,
        content: &str,
        file: Option<&Attachment>,
    ) -> Result<(), DmError> {
        self.require_token("sending a DM")?;
        NonZeroU64::new(user).ok_or(RestError::InvalidId("the DM recipient"))?;
        let label = "POST /users/@me/channels";
        let answer = self
            .send(Call {
                label,
                method: Method::POST,
                route: Route::UserMeDmChannels,
                body: &json!({ "recipient_id": user.to_string() }),
                file: None,
            })
            .await?;
        let channel: Channel = decode(label, &answer)?;
        self.send(Call {
            label: "POST /channels/{channel.id}/messages",
            method: Method::POST,
            route: Route::ChannelMessages {
                channel_id: channel.id,
            },
            body: &with_file(message(content, None), file),
            file,
        })
        .await?;
        Ok(())
    }

    /// Posts `content` in a server channel (a tenant's audit channel).
    #[tracing::instrument(skip(self, content))]
    pub async fn post_message(&self, channel: u64, content: &str) -> Result<(), RestError> {
        self.require_token("posting in a channel")?;
        let channel_id = NonZeroU64::new(channel)
            .map(ChannelId::from)
            .ok_or(RestError::InvalidId("the channel"))?;
        self.send(Call {
            label: "POST /channels/{channel.id}/messages",
            method: Method::POST,
            route: Route::ChannelMessages { channel_id },
            body: &message(content, None),
            file: None,
        })
        .await?;
        Ok(())
    }

    /// Replaces the text of the interaction's first answer (after a deferral).
    pub async fn edit_original(
        &self,
        interaction_token: &str,
        content: &str,
    ) -> Result<(), RestError> {
        self.edit_original_data(interaction_token, &message(content, None))
            .await
    }

    /// Replaces the interaction's first answer with `data` (a message body
    /// such as [`super::deferred_edit`] builds: content, and components to
    /// remove a prompt's buttons).
    #[tracing::instrument(name = "edit_original", skip(self, interaction_token, data))]
    pub async fn edit_original_data(
        &self,
        interaction_token: &str,
        data: &Value,
    ) -> Result<(), RestError> {
        let label = "PATCH /webhooks/{application.id}/{interaction.token}/messages/@original";
        self.send(Call {
            label,
            method: Method::PATCH,
            route: Route::WebhookOriginalInteractionResponse {
                application_id: self.application_id(label)?,
                token: interaction_token,
            },
            body: data,
            file: None,
        })
        .await?;
        Ok(())
    }

    /// Posts another message in answer to the interaction.
    pub async fn followup(
        &self,
        interaction_token: &str,
        content: &str,
        ephemeral: bool,
    ) -> Result<(), RestError> {
        self.followup_with(interaction_token, content, ephemeral, None)
            .await
    }

    /// [`Self::followup`], with `file` attached when given.
    #[tracing::instrument(name = "followup", skip(self, interaction_token, content, file))]
    pub async fn followup_with(
        &self,
        interaction_token: &str,
        content: &str,
        ephemeral: bool,
        file: Option<&Attachment>,
    ) -> Result<(), RestError> {
        let label = "POST /webhooks/{application.id}/{interaction.token}";
        self.send(Call {
            label,
            method: Method::POST,
            route: Route::WebhookFollowupMessages {
                application_id: self.application_id(label)?,
                token: interaction_token,
            },
            body: &with_file(message(content, ephemeral.then_some(EPHEMERAL)), file),
            file,
        })
        .await?;
        Ok(())
    }

    /// Answers an interaction received over the gateway (over HTTP the answer
    /// is the response body instead). `response` is an interaction-response
    /// object such as [`super::render`] builds.
    #[tracing::instrument(skip(self, interaction_token, response))]
    pub async fn create_response(
        &self,
        interaction_id: u64,
        interaction_token: &str,
        response: &Value,
    ) -> Result<(), RestError> {
        let label = "POST /interactions/{interaction.id}/{interaction.token}/callback";
        self.send(Call {
            label,
            method: Method::POST,
            route: Route::InteractionResponse {
                interaction_id: NonZeroU64::new(interaction_id)
                    .map(InteractionId::from)
                    .ok_or(RestError::InvalidId("the interaction"))?,
                token: interaction_token,
            },
            body: response,
            file: None,
        })
        .await?;
        Ok(())
    }

    /// Replaces the application's commands (globally, or in one server) with
    /// `commands`; answers how many Discord now holds.
    #[tracing::instrument(skip(self, commands), fields(commands = commands.len()))]
    pub async fn register_commands(
        &self,
        guild: Option<u64>,
        commands: &[Value],
    ) -> Result<usize, RestError> {
        let what = "registering commands";
        self.require_token(what)?;
        let application_id = self.application_id(what)?;
        let (label, route) = match guild {
            None => (
                "PUT /applications/{application.id}/commands",
                Route::Commands { application_id },
            ),
            Some(guild) => (
                "PUT /applications/{application.id}/guilds/{guild.id}/commands",
                Route::GuildCommands {
                    application_id,
                    guild_id: NonZeroU64::new(guild)
                        .map(GuildId::from)
                        .ok_or(RestError::InvalidId("the server"))?,
                },
            ),
        };
        let body = Value::Array(commands.to_vec());
        let answer = self
            .send(Call {
                label,
                method: Method::PUT,
                route,
                body: &body,
                file: None,
            })
            .await?;
        let registered: Vec<Value> = decode(label, &answer)?;
        Ok(registered.len())
    }
}

/// A message body. Mentions are never parsed: names in replies must not ping anyone.
/// Clipped to Discord's limit, as every message is (a longer one is refused).
pub(super) fn message(content: &str, flags: Option<u64>) -> Value {
    let mut body = json!({ "content": crate::discord::response::clip(content), "allowed_mentions": { "parse": [] } });
    if let Some(flags) = flags {
        body["flags"] = json!(flags);
    }
    body
}

/// `body` with the attachment's entry Discord asks for when a file is
/// uploaded with a message (`attachments: [{"id": 0, "filename": ...}]`).
fn with_file(mut body: Value, file: Option<&Attachment>) -> Value {
    if let Some(file) = file {
        body["attachments"] = json!([{ "id": 0, "filename": file.filename }]);
    }
    body
}
