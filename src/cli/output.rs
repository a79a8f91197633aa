//! How records and events look on a terminal.

use std::fmt::Write;

use crate::audit::AuditEvent;
use crate::store::UserRecord;

pub fn user_card(record: &UserRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}, {}  ({})",
        record.last_name, record.first_name, record.login
    );
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<14} {value}");
    };
    line("role", &record.role.replace('_', " "));
    if let Some(school) = &record.school {
        line("school", school);
    }
    line("district", record.district.as_deref().unwrap_or("-"));
    if let Some(grade) = &record.grade {
        line("grade", grade);
    }
    if let Some(title) = &record.title {
        line("title", title);
    }
    line(
        "chat account",
        record
            .discord_user_id
            .as_deref()
            .map_or("not linked", |_| "linked"),
    );
    if let Some(discord) = &record.discord_user_id {
        line("discord id", discord);
    }
    line(
        "password",
        if record.must_change_password {
            "must change at next sign-in"
        } else {
            "set by the user"
        },
    );
    if record.disabled {
        line("status", "disabled");
    }
    line("tenant", &record.tenant);
    line("id", &record.id);
    out
}

pub fn audit_line(event: &AuditEvent) -> String {
    let mut line = format!(
        "{}  {:<8} {:<16} by {}",
        event.at, event.outcome, event.action, event.actor
    );
    if let Some(target) = &event.target {
        let _ = write!(line, "  on {target}");
    }
    if let (Some(before), Some(after)) = (&event.before, &event.after) {
        let _ = write!(line, "  {before} -> {after}");
    }
    if let Some(reason) = &event.reason {
        let _ = write!(line, "  ({reason})");
    }
    line
}
