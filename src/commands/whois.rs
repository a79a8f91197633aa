//! `/whois user`: a minimal card about someone the actor can see.

use crate::app::App;
use crate::audit::Action;
use crate::directory::Role;

use super::context::{Actor, target_or_refuse};
use super::definition::{Command, OptionDef, RawOptions, never_slow};
use super::markdown;
use super::reply::{Invocation, Reply};

const USER: OptionDef = OptionDef::autocomplete("user", true);

pub const WHOIS: Command = Command {
    name: "whois",
    json: include_str!("../../commands/whois.json"),
    options: &[USER],
    slow: never_slow,
    run: |app, actor, inv, raw| Box::pin(whois(app, actor, inv, Options::parse(raw))),
    unlinked: None,
};

/// The options of `/whois`.
struct Options<'a> {
    user: &'a str,
}

impl<'a> Options<'a> {
    fn parse(raw: &'a RawOptions) -> Self {
        Self {
            user: USER.text_in(raw),
        }
    }
}

async fn whois(app: &App, actor: &Actor, inv: &Invocation, options: Options<'_>) -> Reply {
    let raw = options.user;
    let who = match target_or_refuse(app, actor, inv, Action::UserView, raw).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    let place = app
        .store
        .place_name(actor.tenant.id, who.place)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut lines = vec![
        format!(
            "**{}** ({})",
            markdown::name(&who),
            markdown::escape(who.login.as_str())
        ),
        format!("Role: {}", who.role.label()),
    ];
    lines.push(match who.role {
        Role::DistrictAdmin => format!("District: {}", markdown::escape(&place)),
        _ => format!("School: {}", markdown::escape(&place)),
    });
    if let Some(grade) = who.grade {
        lines.push(format!("Grade: {}", grade.spoken()));
    }
    if let Some(title) = &who.title {
        lines.push(format!("Title: {}", markdown::escape(title.as_str())));
    }
    lines.push(format!(
        "Discord: {}",
        if who.discord_user_id.is_some() {
            "linked"
        } else {
            "not linked"
        }
    ));
    if who.must_change_password {
        lines.push("Password: a change is pending (temporary password issued)".into());
    }
    if who.disabled {
        lines.push("Status: disabled".into());
    }
    Reply::private(lines.join("\n"))
}
