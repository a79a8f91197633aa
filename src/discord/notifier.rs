//! Promotion news by direct message (the [`Notifier`]) and burst alerts in a
//! tenant's audit channel (the [`ChannelPoster`]) of a process that talks to
//! Discord, on the bot's REST client.

use async_trait::async_trait;

use super::rest::{DiscordRest, DmError};
use crate::commands::ChannelPoster;
use crate::directory::{DiscordChannelId, DiscordUserId};
use crate::support::notifier::{Notifier, NotifyError};

#[async_trait]
impl Notifier for DiscordRest {
    async fn notify(&self, to: DiscordUserId, text: &str) -> Result<(), NotifyError> {
        self.send_dm(to.get(), text).await.map_err(|e| match e {
            DmError::Closed { .. } => NotifyError::Closed,
            DmError::Other(e) => NotifyError::Failed(e.to_string()),
        })
    }
}

#[async_trait]
impl ChannelPoster for DiscordRest {
    async fn post(&self, channel: DiscordChannelId, text: &str) -> Result<(), String> {
        self.post_message(channel.get(), text)
            .await
            .map_err(|e| e.to_string())
    }
}
