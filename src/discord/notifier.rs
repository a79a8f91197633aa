//! Promotion news by direct message (the [`Notifier`]) and burst alerts in a
//! tenant's audit channel (the [`ChannelPoster`]) of a process that talks to
//! Discord, on the bot's REST client.

use async_trait::async_trait;

use super::courier::direct_message;
use super::rest::DiscordRest;
use crate::commands::{ChannelPoster, DeliveryError};
use crate::directory::{DiscordChannelId, DiscordUserId};
use crate::support::notifier::Notifier;

#[async_trait]
impl Notifier for DiscordRest {
    async fn notify(&self, to: DiscordUserId, text: &str) -> Result<(), DeliveryError> {
        direct_message(self, to, text, None).await
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
