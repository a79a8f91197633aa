//! The slash commands, free of any transport: one file per command, each
//! holding its [`Command`] definition (name, JSON, options, slowness) and
//! turning its options into service calls and a plain [`Reply`]. The Discord
//! gateway, the HTTP interactions endpoint, the console and the demo all call
//! [`handle`], so they all answer alike.
//!
//! To add a command: write `commands/NAME.json`, add `src/commands/NAME.rs`
//! with a `pub const` [`Command`] and its handler, and list it in [`COMMANDS`].
//! Dispatch, deferral, metrics labels, registration and the JSON check follow.

mod audit_log;
mod autocomplete;
mod burst;
pub mod class_cards;
mod context;
mod definition;
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
pub use definition::{Command, Form, OptionDef, RawOptions, UserForm};
pub use delivery::{Courier, DeliveryError, Route, deliver, roll_back_batch};
pub use promote_request::{MAX_REASON_CHARS, PromotionReason};
pub use reply::{
    Attachment, Body, Button, ButtonStyle, Choice, Invocation, Modal, Notice, Reply, Request,
    SecretDelivery, TextInput, Undo,
};

use crate::app::App;
pub use context::Actor;
pub use context::trouble;
use context::{Caller, UNLINKED, caller};

/// Every slash command, in the order they are registered; a test holds them
/// equal to the files in `commands/`.
pub const COMMANDS: &[&Command] = &[
    &reset_password::RESET_PASSWORD,
    &edit_user::EDIT_USER,
    &promote_request::PROMOTE_REQUEST,
    &link::LINK,
    &link::LINK_CODE,
    &whois::WHOIS,
    &audit_log::AUDIT,
    &class_cards::CLASS_CARDS,
];

/// Every form a command opens, and every prompt's buttons (a button is a
/// form with no fields: its click is submitted to the form owning its id).
pub const FORMS: &[&Form] = &[
    &edit_user::EDIT_FORM,
    &reset_email::RESET_EMAIL_FORM,
    &class_cards::CLASS_CARDS_FORM,
];

/// The command of that name.
pub fn command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().copied().find(|c| c.name == name)
}

/// The form a custom id belongs to.
pub fn form(custom_id: &str) -> Option<&'static Form> {
    FORMS.iter().copied().find(|f| f.owns(custom_id))
}

/// Whether answering takes long enough (password hashing, a secret to
/// deliver by DM, an email to send) that the transport must acknowledge first
/// and edit the answer in afterwards.
pub fn is_slow(request: &Request) -> bool {
    match request {
        Request::Command { name, options } => command(name).is_some_and(|c| (c.slow)(options)),
        Request::ModalSubmit { custom_id, .. } | Request::Button { custom_id } => {
            form(custom_id).is_some_and(|f| f.slow)
        }
        Request::Autocomplete { .. } => false,
    }
}

/// The (kind, command) a request is counted under in metrics: a fixed, small
/// set (a form counts under the command that opened it; anything unknown as "other").
pub fn labels(request: &Request) -> (&'static str, &'static str) {
    let known = |name: &str| command(name).map_or("other", |c| c.name);
    match request {
        Request::Command { name, .. } => ("command", known(name)),
        Request::Autocomplete { name, .. } => ("autocomplete", known(name)),
        Request::ModalSubmit { custom_id, .. } => (
            "modal_submit",
            form(custom_id).map_or("other", |f| f.command),
        ),
        Request::Button { custom_id } => ("button", form(custom_id).map_or("other", |f| f.command)),
    }
}

/// The value of the one choice a rate-limited autocomplete offers; as a user
/// or a place it matches nothing.
pub const RATE_LIMITED_CHOICE: &str = "rate-limited";

/// How an answer to a request over the per-account limit begins.
const RATE_LIMITED: &str = "You're going a little fast.";

/// Whether `reply` is the answer to a request over the per-account limit
/// (for metrics: the limit answers before any handler runs).
pub fn is_rate_limited(reply: &Reply) -> bool {
    match &reply.body {
        Body::Choices(choices) => choices.iter().any(|c| c.value == RATE_LIMITED_CHOICE),
        Body::Text { content, .. } => content.starts_with(RATE_LIMITED),
        Body::Modal(_) | Body::Prompt { .. } => false,
    }
}

/// Answers one request.
#[tracing::instrument(skip_all, fields(user = ?inv.user, guild = ?inv.guild))]
pub async fn handle(app: &App, inv: &Invocation, request: Request) -> Reply {
    let limited = match (&request, inv.user) {
        (_, None) => Ok(()),
        (Request::Autocomplete { .. }, Some(account)) => app.limits.check_autocomplete(account),
        (_, Some(account)) => app.limits.check_command(account),
    };
    if let Err(retry) = limited {
        let text = format!("{RATE_LIMITED} Please try again {}.", retry.in_words());
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
                Request::Command { name, options } => {
                    match command(name).and_then(|c| c.unlinked) {
                        Some(unlinked) => unlinked(app, &tenant, inv, options).await,
                        None => Reply::private(UNLINKED),
                    }
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
    match request {
        Request::Command { name, options } => match command(&name) {
            Some(command) => (command.run)(app, actor, inv, &options).await,
            None => Reply::private(format!(
                "hallpass doesn't know the command /{}.",
                markdown::escape(&name)
            )),
        },
        Request::Autocomplete {
            focused, options, ..
        } => {
            let text = options.get(&focused).map(String::as_str).unwrap_or("");
            autocomplete::autocomplete(app, actor, &focused, text).await
        }
        Request::ModalSubmit { custom_id, fields } => match form(&custom_id) {
            Some(form) => (form.submit)(app, actor, inv, &custom_id, &fields).await,
            None => Reply::private("That form is not one hallpass recognises."),
        },
        Request::Button { custom_id } => match form(&custom_id) {
            Some(form) => (form.submit)(app, actor, inv, &custom_id, &RawOptions::new()).await,
            None => Reply::private("That button is not one hallpass recognises."),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_submit_is_counted_under_the_command_that_opened_it() {
        let edit = Request::modal_submit("edit-user:0193:4", &[]);
        let email = Request::modal_submit("reset-email:0193:4", &[]);
        assert_eq!(labels(&edit), ("modal_submit", edit_user::EDIT_USER.name));
        assert_eq!(
            labels(&email),
            ("modal_submit", reset_password::RESET_PASSWORD.name)
        );
    }

    #[test]
    fn a_button_is_counted_under_the_command_of_the_form_that_owns_it() {
        let owned = Request::button("edit-user:0193:4");
        assert_eq!(labels(&owned), ("button", edit_user::EDIT_USER.name));
        assert_eq!(labels(&Request::button("nope:1")), ("button", "other"));
        assert_eq!(
            is_slow(&Request::button("reset-email:1:2")),
            is_slow(&Request::modal_submit("reset-email:1:2", &[]))
        );
        assert!(!is_slow(&Request::button("nope:1")));
    }

    #[test]
    fn a_name_no_command_has_is_labelled_other_so_labels_stay_a_fixed_set() {
        let stranger = Request::command("drop-table", &[]);
        assert_eq!(labels(&stranger), ("command", "other"));
        assert_eq!(
            labels(&Request::modal_submit("nope:1:2", &[])),
            ("modal_submit", "other")
        );
    }

    #[test]
    fn the_limits_answers_are_recognised_as_rate_limited_and_nothing_else_is() {
        let text = Reply::private(format!("{RATE_LIMITED} Please try again in 3 seconds."));
        let choice = Reply::choices(vec![Choice {
            name: "You're going a little fast.".into(),
            value: RATE_LIMITED_CHOICE.into(),
        }]);
        assert!(is_rate_limited(&text));
        assert!(is_rate_limited(&choice));
        assert!(!is_rate_limited(&Reply::private(
            "Done: Ana has a new password."
        )));
        assert!(!is_rate_limited(&Reply::choices(Vec::new())));
    }

    #[test]
    fn only_the_slow_answers_are_deferred() {
        let reset = Request::command(reset_password::RESET_PASSWORD.name, &[]);
        let email = Request::command(reset_password::RESET_PASSWORD.name, &[("method", "email")]);
        let link_code = Request::command(link::LINK_CODE.name, &[("user", "x")]);
        let whois = Request::command(whois::WHOIS.name, &[("user", "x")]);
        assert!(is_slow(&reset));
        assert!(!is_slow(&email), "the email method answers with a modal");
        assert!(is_slow(&link_code));
        assert!(!is_slow(&whois));
        assert!(is_slow(&Request::modal_submit("reset-email:1:2", &[])));
        assert!(!is_slow(&Request::modal_submit("edit-user:1:2", &[])));
    }
}
