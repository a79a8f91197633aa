//! The slash commands, free of any transport: one file per command, each
//! turning options into service calls and a plain [`Reply`]. The Discord
//! gateway, the HTTP interactions endpoint, the console and the demo all call
//! [`handle`], so they all answer alike. Definitions live in `commands/*.json`.

mod audit_log;
mod autocomplete;
mod burst;
mod context;
mod delivery;
mod edit_user;
mod link;
pub mod markdown;
mod promote_request;
mod reply;
mod reset_email;
mod reset_password;
mod whois;

pub use burst::{BURST_WINDOW_MINUTES, ChannelPoster};
pub use delivery::{Courier, DeliveryError, Route, deliver};
pub use promote_request::{MAX_REASON_CHARS, PromotionReason};
pub use reply::{
    Body, Choice, Invocation, Modal, Notice, Reply, Request, SecretDelivery, TextInput, Undo,
};

use crate::app::App;
pub use context::Actor;
pub use context::trouble;
use context::{Caller, UNLINKED, caller};

/// The commands with a handler here; a test holds them equal to `commands/*.json`.
pub const HANDLED: &[&str] = &[
    "reset-password",
    "edit-user",
    "promote-request",
    "link",
    "link-code",
    "whois",
    "audit",
];

/// The value of the one choice a rate-limited autocomplete offers; as a user
/// or a place it matches nothing.
pub const RATE_LIMITED_CHOICE: &str = "rate-limited";

/// Answers one request.
#[tracing::instrument(skip(app, request), fields(user = ?inv.user, guild = ?inv.guild))]
pub async fn handle(app: &App, inv: &Invocation, request: Request) -> Reply {
    let limited = match (&request, inv.user) {
        (_, None) => Ok(()),
        (Request::Autocomplete { .. }, Some(account)) => app.limits.check_autocomplete(account),
        (_, Some(account)) => app.limits.check_command(account),
    };
    if let Err(retry) = limited {
        let text = format!(
            "You're going a little fast. Please try again {}.",
            retry.in_words()
        );
        return match request {
            // An autocomplete answer can only hold choices: the one choice
            // says when to try again, and picking it names nobody.
            Request::Autocomplete { .. } => Reply::choices(vec![Choice {
                name: text,
                value: RATE_LIMITED_CHOICE.to_owned(),
            }]),
            _ => Reply::private(text),
        };
    }
    let actor = match caller(app, inv).await {
        Ok(Caller::Linked(actor)) => actor,
        Ok(Caller::Unlinked(tenant)) => {
            return match &request {
                Request::Command { name, options } if name == "link" => {
                    link::link(app, &tenant, inv, options).await
                }
                Request::Autocomplete { .. } => Reply::choices(Vec::new()),
                _ => Reply::private(UNLINKED),
            };
        }
        Err(reply) => return reply,
    };
    handle_as(app, &actor, inv, request).await
}

/// Answers a request from an actor already resolved (the console resolves its
/// actor by login, with no Discord account).
pub async fn handle_as(app: &App, actor: &Actor, inv: &Invocation, request: Request) -> Reply {
    let actor = actor.clone();
    match request {
        // Only the listed commands reach a handler, so the list a test holds
        // equal to `commands/*.json` is the one the dispatch obeys.
        Request::Command { name, .. } if !HANDLED.contains(&name.as_str()) => {
            Reply::private(format!("hallpass doesn't know the command /{name}."))
        }
        Request::Command { name, options } => match name.as_str() {
            "reset-password" => reset_password::reset_password(app, &actor, inv, &options).await,
            "edit-user" => edit_user::edit_user(app, &actor, inv, &options).await,
            "promote-request" => promote_request::promote_request(app, &actor, inv, &options).await,
            "link-code" => link::link_code(app, &actor, inv, &options).await,
            "whois" => whois::whois(app, &actor, inv, &options).await,
            "audit" => audit_log::audit(app, &actor, inv, &options).await,
            "link" => Reply::private(format!(
                "This Discord account is already linked to {}.",
                markdown::person(&actor.user)
            )),
            other => Reply::private(format!(
                "hallpass doesn't know the command /{}.",
                markdown::escape(other)
            )),
        },
        Request::Autocomplete {
            focused, options, ..
        } => {
            let text = options.get(&focused).map(String::as_str).unwrap_or("");
            autocomplete::autocomplete(app, &actor, &focused, text).await
        }
        Request::ModalSubmit { custom_id, fields } if edit_user::owns_modal(&custom_id) => {
            edit_user::submit(app, &actor, inv, &custom_id, &fields).await
        }
        Request::ModalSubmit { custom_id, fields } if reset_email::owns_modal(&custom_id) => {
            reset_email::submit(app, &actor, inv, &custom_id, &fields).await
        }
        Request::ModalSubmit { .. } => Reply::private("That form is not one hallpass recognises."),
    }
}
