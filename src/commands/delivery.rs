//! Getting secrets and notices to people. A secret (and the file that goes
//! with it, if any) goes by direct message; if
//! the invoker's DMs are closed (or the bot has no token to send DMs with), in
//! a reply only they can see, and the answer says which of the two happened;
//! if neither can be delivered, the action is undone so no account is left
//! with a password nobody received.

use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::app::App;
use crate::directory::{DiscordUserId, User};
use crate::store::{HandoffId, RollBack};

use super::reply::{Attachment, Body, Reply, Undo};

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
    /// A direct message, with a file when `attachment` is given.
    async fn direct_message(
        &self,
        to: DiscordUserId,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), DeliveryError>;
    /// A message in the current conversation that only the invoker sees,
    /// with a file when `attachment` is given.
    async fn private_reply(
        &self,
        text: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), DeliveryError>;
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
        if let Err(e) = courier.direct_message(notice.to, &notice.text, None).await {
            tracing::warn!(to = %notice.to, error = %e, "could not deliver a notice");
        }
    }
    let Some(secret) = reply.secret else {
        return (reply.body, None);
    };
    let text = secret.text.expose_secret();
    let file = secret.attachment.as_ref();
    let mut dm_failure = None;
    if let Some(to) = secret.to {
        match courier.direct_message(to, text, file).await {
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
    if courier.private_reply(text, file).await.is_ok() {
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
        Body::Prompt { content, buttons } => Body::Prompt {
            content: format!("{content}\n{note}"),
            buttons,
        },
        other => other,
    }
}

/// Closes the hand-off(s) of a delivered secret, so no roll-back (a sweep,
/// the next start) touches a password its recipient has.
async fn delivered(app: &App, undo: Option<&Undo>) {
    let handoffs: Vec<(&User, &HandoffId)> = match undo {
        None => Vec::new(),
        Some(Undo::Password { user, handoff }) => vec![(&**user, handoff)],
        Some(Undo::Passwords(batch)) => batch.iter().map(|(u, h)| (u, h)).collect(),
    };
    for (user, handoff) in handoffs {
        if let Err(e) = app.store.finish_handoff(handoff, app.now()).await {
            tracing::error!(error = %e, user = %user.id, "could not close a delivered hand-off");
        }
    }
}

async fn undo(app: &App, undo: Undo) -> String {
    match undo {
        Undo::Password { user, handoff } => match roll_back(app, &user, &handoff).await {
            RollBackOutcome::Restored => format!(
                "I undid the reset: {}'s password is unchanged",
                super::markdown::name(&user)
            ),
            RollBackOutcome::Superseded => format!(
                "the reset is void: {}'s password was changed again meanwhile, and that one stands",
                super::markdown::name(&user)
            ),
            RollBackOutcome::AlreadyFinished => {
                "the reset was already settled; ask an admin to reset the password again".to_owned()
            }
            RollBackOutcome::Failed => {
                "the reset could not be undone; ask an admin to reset the password again".to_owned()
            }
        },
        Undo::Passwords(batch) => roll_back_each(app, &batch).await.sentence(),
    }
}

/// Rolls back every hand-off of a batch nobody received, each by the single
/// reset's rule; answers how many old passwords came back.
pub async fn roll_back_batch(app: &App, batch: &[(User, HandoffId)]) -> usize {
    roll_back_each(app, batch).await.restored
}

async fn roll_back_each(app: &App, batch: &[(User, HandoffId)]) -> Tally {
    let mut tally = Tally::default();
    for (user, handoff) in batch {
        tally.count(roll_back(app, user, handoff).await);
    }
    tally
}

/// How the roll-back of one hand-off went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RollBackOutcome {
    Restored,
    Superseded,
    AlreadyFinished,
    Failed,
}

/// Rolls back one hand-off by the store's rule: the old hash comes back only
/// if nobody changed the password since.
async fn roll_back(app: &App, user: &User, handoff: &HandoffId) -> RollBackOutcome {
    match app.store.roll_back_handoff(handoff, app.now()).await {
        Ok(RollBack::Restored) => RollBackOutcome::Restored,
        Ok(RollBack::Superseded) => RollBackOutcome::Superseded,
        Ok(RollBack::AlreadyFinished) => RollBackOutcome::AlreadyFinished,
        Err(e) => {
            tracing::error!(error = %e, user = %user.id, "could not undo an undelivered reset");
            RollBackOutcome::Failed
        }
    }
}

/// The roll-backs of a batch, counted for one sentence.
#[derive(Debug, Default)]
struct Tally {
    restored: usize,
    superseded: usize,
    unsettled: usize,
}

impl Tally {
    fn count(&mut self, outcome: RollBackOutcome) {
        match outcome {
            RollBackOutcome::Restored => self.restored += 1,
            RollBackOutcome::Superseded => self.superseded += 1,
            RollBackOutcome::AlreadyFinished | RollBackOutcome::Failed => self.unsettled += 1,
        }
    }

    /// Follows "…, so": what became of the batch's new passwords.
    fn sentence(&self) -> String {
        let mut parts = Vec::new();
        match self.restored {
            0 => {}
            1 => {
                parts.push("the new password was taken back and the old one works again".to_owned())
            }
            n => parts.push(format!(
                "the {n} new passwords were taken back and the old ones work again"
            )),
        }
        match self.superseded {
            0 => {}
            1 => parts.push(
                "1 password had been changed again meanwhile, and that one stands".to_owned(),
            ),
            n => parts.push(format!(
                "{n} passwords had been changed again meanwhile, and those stand"
            )),
        }
        match self.unsettled {
            0 => {}
            1 => parts.push(
                "1 reset could not be undone; ask an admin to reset that password again".to_owned(),
            ),
            n => parts.push(format!(
                "{n} resets could not be undone; ask an admin to reset those passwords again"
            )),
        }
        if parts.is_empty() {
            return "nothing was changed".to_owned();
        }
        parts.join(", and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_roll_back_says_how_many_passwords_were_taken_back() {
        let all = Tally {
            restored: 28,
            ..Tally::default()
        };
        assert_eq!(
            all.sentence(),
            "the 28 new passwords were taken back and the old ones work again"
        );
        let mixed = Tally {
            restored: 26,
            superseded: 1,
            unsettled: 1,
        };
        let sentence = mixed.sentence();
        assert!(
            sentence.starts_with("the 26 new passwords were taken back"),
            "{sentence}"
        );
        assert!(
            sentence.contains("1 password had been changed again meanwhile"),
            "{sentence}"
        );
        assert!(
            sentence.contains("1 reset could not be undone"),
            "{sentence}"
        );
        assert_eq!(Tally::default().sentence(), "nothing was changed");
    }
}
