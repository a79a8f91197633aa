//! The Discord way to reach people for one interaction: DMs through the bot,
//! and private follow-ups on the interaction itself, each with a file when
//! the secret has one.

use async_trait::async_trait;

use super::rest::{DiscordRest, DmError, RestError};
use crate::commands::{Attachment, Courier, DeliveryError};
use crate::directory::DiscordUserId;

pub struct InteractionCourier<'a> {
    pub rest: &'a DiscordRest,
    pub token: &'a str,
}

#[async_trait]
impl Courier for InteractionCourier<'_> {
    async fn direct_message(
        &self,
        to: DiscordUserId,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), DeliveryError> {
        direct_message(self.rest, to, text, attachment).await
    }

    async fn private_reply(
        &self,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), DeliveryError> {
        self.rest
            .followup_with(self.token, text, true, attachment)
            .await
            .map_err(|e| DeliveryError::Failed(e.to_string()))
    }
}

/// The one way hallpass sends a DM, for a secret and for promotion news
/// alike, with Discord's answer mapped to why it did not arrive.
pub(super) async fn direct_message(
    rest: &DiscordRest,
    to: DiscordUserId,
    text: &str,
    attachment: Option<&Attachment>,
) -> Result<(), DeliveryError> {
    rest.send_dm_with(to.get(), text, attachment)
        .await
        .map_err(|e| match e {
            DmError::Closed { .. } => DeliveryError::DmsClosed,
            DmError::Other(RestError::MissingToken(_)) => DeliveryError::NoBotToken,
            DmError::Other(e) => DeliveryError::Failed(e.to_string()),
        })
}
