//! `/audit user`: the latest events about someone, for admins who can see them.

use std::collections::BTreeMap;

use crate::app::App;
use crate::audit::{Action, AuditQuery};

use super::context::{Actor, refuse, target_or_refuse, trouble};
use super::reply::{Invocation, Reply};

const LATEST: u32 = 10;

pub async fn audit(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    options: &BTreeMap<String, String>,
) -> Reply {
    let raw = options.get("user").map(String::as_str).unwrap_or("");
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
        return Reply::private(format!("No events about {} yet.", who.display_name()));
    }
    let mut lines = vec![format!(
        "Latest events about {} (newest last):",
        who.display_name()
    )];
    for e in events {
        let at = e.at.get(..16).unwrap_or(&e.at).replace('T', " ");
        let mut line = format!("• {at} {} {} by {}", e.action, e.outcome, e.actor);
        if let Some(reason) = e.reason {
            line.push_str(&format!(" ({reason})"));
        }
        lines.push(line);
    }
    Reply::private(lines.join("\n"))
}
