//! `/audit user`: the latest events about someone, for admins who can see them.
//!
//! Promise: the log never names a person the viewer cannot see. An event's
//! actor who is a directory user outside the viewer's sight is shown by role
//! only ("a district admin"); system actors (the command line, the roster
//! import, a support agent) keep their label.

use std::collections::HashMap;

use crate::app::App;
use crate::audit::{Action, AuditEvent, AuditQuery};
use crate::directory::UserId;
use crate::policy::{Subject, can_see};

use super::context::{Actor, refuse, target_or_refuse, trouble};
use super::definition::{Command, OptionDef, RawOptions, never_slow};
use super::markdown;
use super::reply::{Invocation, Reply};

const LATEST: u32 = 10;

const USER: OptionDef = OptionDef::autocomplete("user", true);

pub const AUDIT: Command = Command {
    name: "audit",
    json: include_str!("../../commands/audit.json"),
    options: &[USER],
    slow: never_slow,
    run: |app, actor, inv, raw| Box::pin(audit(app, actor, inv, Options::parse(raw))),
    unlinked: None,
};

/// The options of `/audit`.
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

async fn audit(app: &App, actor: &Actor, inv: &Invocation, options: Options<'_>) -> Reply {
    let raw = options.user;
    if !actor.user.role.is_admin() {
        return refuse(
            app,
            actor,
            inv,
            Action::AuditRead,
            None,
            raw,
            "Only school admins and district admins can read the audit log.",
        )
        .await;
    }
    let who = match target_or_refuse(app, actor, inv, Action::AuditRead, raw).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    let query = AuditQuery {
        tenant_id: Some(actor.tenant.id),
        target_user_id: Some(who.id),
        limit: Some(LATEST),
        ..AuditQuery::default()
    };
    let events = match app.store.audit_events(&query).await {
        Ok(events) => events,
        Err(e) => return trouble(e),
    };
    if events.is_empty() {
        return Reply::private(format!("No events about {} yet.", markdown::name(&who)));
    }
    let mut lines = vec![format!(
        "Latest events about {} (newest last):",
        markdown::name(&who)
    )];
    let mut names = ActorNames::default();
    for e in events {
        let at = e.at.get(..16).unwrap_or(&e.at).replace('T', " ");
        let by = names.shown(app, actor, &e).await;
        let mut line = format!(
            "• {at} {} {} by {}",
            e.action,
            e.outcome,
            markdown::escape(&by)
        );
        if let Some(reason) = e.reason {
            line.push_str(&format!(" ({})", markdown::escape(&reason)));
        }
        lines.push(line);
    }
    Reply::private(lines.join("\n"))
}

/// How each event's actor is shown to this viewer, looked up once per actor.
#[derive(Default)]
struct ActorNames(HashMap<UserId, String>);

impl ActorNames {
    async fn shown(&mut self, app: &App, viewer: &Actor, event: &AuditEvent) -> String {
        let Some(id) = event
            .actor_user_id
            .as_deref()
            .and_then(|raw| UserId::parse(raw).ok())
        else {
            return event.actor.clone();
        };
        if let Some(shown) = self.0.get(&id) {
            return shown.clone();
        }
        let shown = match app.store.user(viewer.tenant.id, id).await {
            Ok(Some(user)) if can_see(&viewer.subject(), &Subject::from(&user)).is_allowed() => {
                event.actor.clone()
            }
            Ok(Some(user)) => format!("a {}", user.role.label()),
            Ok(None) | Err(_) => "someone".to_owned(),
        };
        self.0.insert(id, shown.clone());
        shown
    }
}
