//! Getting secrets and notices to people. A secret goes by direct message; if
//! the invoker's DMs are closed (or the bot has no token to send DMs with), in
//! a reply only they can see, and the answer says which of the two happened;
//! if neither can be delivered, the action is undone so no account is left
//! with a password nobody received.

use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::app::App;
use crate::directory::DiscordUserId;
use crate::store::RollBack;

use super::reply::{Body, Reply, Undo};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The recipient does not accept direct messages (Discord 50007, 50278).
    #[error("the recipient does not accept direct messages")]
    DmsClosed,
    /// No bot token is configured (DISCORD_TOKEN), and a DM needs one.
    #[error("no bot token is configured (DISCORD_TOKEN), so no DM can be sent")]
    NoBotToken,
    #[error("delivery failed: {0}")]
    Failed(String),
}

/// The ways a transport can reach people. Implemented by the Discord REST
/// client (gateway and HTTP modes alike), the console and the demo.
#[async_trait]
pub trait Courier: Send + Sync {
    async fn direct_message(&self, to: DiscordUserId, text: &str) -> Result<(), DeliveryError>;
    /// A message in the current conversation that only the invoker sees.
    async fn private_reply(&self, text: &str) -> Result<(), DeliveryError>;
}

/// How the secret reached the invoker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    DirectMessage,
    PrivateReply,
    /// Undelivered, and the action was undone.
    Undone,
}

/// Delivers the reply's secret and notices; returns the body to show (amended
/// when the secret took another route) and the route.
pub async fn deliver(app: &App, courier: &dyn Courier, reply: Reply) -> (Body, Option<Route>) {
    for notice in &reply.notices {
        if let Err(e) = courier.direct_message(notice.to, &notice.text).await {
            tracing::warn!(to = %notice.to, error = %e, "could not deliver a notice");
        }
    }
    let Some(secret) = reply.secret else {
        return (reply.body, None);
    };
    let text = secret.text.expose_secret();
    let mut dm_failure = None;
    if let Some(to) = secret.to {
        match courier.direct_message(to, text).await {
            Ok(()) => {
                delivered(app, secret.undo.as_ref()).await;
                return (reply.body, Some(Route::DirectMessage));
            }
            Err(e) => {
                tracing::info!(error = %e, "DM failed; trying a private reply");
                dm_failure = Some(e);
            }
        }
    }
    if courier.private_reply(text).await.is_ok() {
        delivered(app, secret.undo.as_ref()).await;
        let note = match dm_failure {
            Some(DeliveryError::NoBotToken) => {
                "This bot has no token configured (DISCORD_TOKEN), so it can't send DMs; I've put it in a message only you can see, below."
            }
            Some(DeliveryError::Failed(_)) => {
                "Discord didn't take the DM (it kept failing or didn't answer), so I've put it in a message only you can see, below."
            }
            _ => "Your DMs are closed, so I've put it in a message only you can see, below.",
        };
        return (amend(reply.body, note), Some(Route::PrivateReply));
    }
    let undone = match secret.undo {
        Some(undo) => self::undo(app, undo).await,
        None => "nothing was changed".to_owned(),
    };
    let content = match dm_failure {
        Some(DeliveryError::NoBotToken) => format!(
            "I couldn't deliver it to you: this bot has no token configured (DISCORD_TOKEN), so it can't send DMs, and a private reply failed too, so {undone}. Ask the operator to set DISCORD_TOKEN, then try again."
        ),
        Some(DeliveryError::Failed(_)) => format!(
            "I couldn't deliver it to you: Discord didn't take the DM or a private reply, so {undone}. Try again in a few minutes."
        ),
        _ => format!(
            "I couldn't deliver it to you: your DMs are closed and a private reply failed too, so {undone}. Open your DMs to this bot (Privacy Settings → Direct Messages) and try again."
        ),
    };
    let body = Body::Text {
        content,
        ephemeral: true,
    };
    (body, Some(Route::Undone))
}

fn amend(body: Body, note: &str) -> Body {
    match body {
        Body::Text { content, ephemeral } => Body::Text {
            content: format!("{content}\n{note}"),
            ephemeral,
        },
        other => other,
    }
}

/// Closes the hand-off of a delivered secret, so no roll-back (a sweep, the
/// next start) touches a password its recipient has.
async fn delivered(app: &App, undo: Option<&Undo>) {
    if let Some(Undo::Password { user, handoff }) = undo
        && let Err(e) = app.store.finish_handoff(handoff, app.now()).await
    {
        tracing::error!(error = %e, user = %user.id, "could not close a delivered hand-off");
    }
}

async fn undo(app: &App, undo: Undo) -> String {
    match undo {
        Undo::Passwords(_) => "PLACEHOLDER".to_owned(),
        Undo::Password { user, handoff } => {
            match app.store.roll_back_handoff(&handoff, app.now()).await {
                Ok(RollBack::Restored) => format!(
                    "I undid the reset: {}'s password is unchanged",
                    super::markdown::name(&user)
                ),
                Ok(RollBack::Superseded) => format!(
                    "the reset is void: {}'s password was changed again meanwhile, and that one stands",
                    super::markdown::name(&user)
                ),
                Ok(RollBack::AlreadyFinished) => {
                    "the reset was already settled; ask an admin to reset the password again"
                        .to_owned()
                }
                Err(e) => {
                    tracing::error!(error = %e, user = %user.id, "could not undo an undelivered reset");
                    "the reset could not be undone; ask an admin to reset the password again"
                        .to_owned()
                }
            }
        }
    }
}
