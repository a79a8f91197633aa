//! The slash-command handlers, called as every transport calls them.

use crate::bot::Bot;
use crate::helpers::{TestDb, on_both_backends};
use crate::unchanged::Snapshot;
use hallpass::audit::AuditQuery;
use hallpass::commands::{Body, Reply, Request};
use hallpass::credentials::PasswordHash;
use hallpass::directory::{DiscordGuildId, DiscordUserId, Role};
use secrecy::{ExposeSecret, SecretString};

// Every test here runs twice: on a fresh SQLite file and on a fresh
// PostgreSQL database (as the store conformance suite does), so quotas,
// link codes and restores are exercised on the backend that makes them hard.
mod edits;
mod links;
mod lookup;
mod moves;
mod resets;

const NO_SUCH_USER: &str = "No user you can manage matches that.";

fn choices(reply: &Reply) -> Vec<(String, String)> {
    match &reply.body {
        Body::Choices(choices) => choices
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect(),
        other => panic!("expected choices, got {other:?}"),
    }
}

/// The text between the single pair of backticks.
fn code_span(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    assert_eq!(parts.len(), 3, "exactly one inline code span in {text:?}");
    parts[1].to_owned()
}

fn regex_like_passphrase(p: &str) -> bool {
    let parts: Vec<&str> = p.split('-').collect();
    parts.len() == 4
        && parts[..3]
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && parts[3].len() == 3
        && parts[3].chars().all(|c| c.is_ascii_digit())
}

async fn issue_link_code(bot: &Bot, for_whom: &hallpass::directory::User) -> String {
    let issued = bot
        .command(
            &bot.dana,
            "link-code",
            &[("user", &for_whom.id.to_string())],
        )
        .await;
    code_span(issued.secret.as_ref().unwrap().text.expose_secret())
}

async fn open_form(bot: &Bot, who: &hallpass::directory::User) -> hallpass::commands::Modal {
    let Body::Modal(m) = bot
        .command(who, "edit-user", &[("user", &bot.ana.id.to_string())])
        .await
        .body
    else {
        panic!()
    };
    m
}

/// Runs a move that must be refused, and proves from the database that it
/// changed nothing: every record as it was, one refused audit entry with the
/// reason the actor was told.
async fn refused_move(
    bot: &Bot,
    actor: &hallpass::directory::User,
    options: &[(&str, &str)],
) -> String {
    let before = Snapshot::of(bot).await;
    let reply = bot.command(actor, "edit-user", options).await;
    let text = reply.text().to_owned();
    before.assert_only_refusals(bot, &[&text]).await;
    text
}

/// The seconds in "… Please try again in N seconds."
fn retry_seconds(text: &str) -> u64 {
    let rest = text
        .strip_prefix("You're going a little fast. Please try again in ")
        .unwrap_or_else(|| panic!("not a rate-limit answer: {text:?}"));
    let seconds = rest
        .strip_suffix(" seconds.")
        .unwrap_or_else(|| panic!("not in seconds: {text:?}"));
    seconds.parse().unwrap()
}
