//! Promotion news by direct message: the [`Notifier`] of a process that
//! talks to Discord, on the bot's REST client.

use async_trait::async_trait;

use super::rest::{DiscordRest, DmError};
use crate::directory::DiscordUserId;
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
