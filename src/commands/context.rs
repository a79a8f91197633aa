//! Who is asking: the guild's tenant and the invoker's directory user, and the
//! target a command names. Refusals here are the same whatever the command.

use std::fmt::Display;

use crate::app::App;
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{Login, Tenant, User, UserId};
use crate::policy::{Denial, Subject, can_see};

use super::reply::{Invocation, Reply};

/// The invoker, resolved.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant: Tenant,
    pub user: User,
    /// What the statement that resolved the actor learned about the
    /// directory: autocomplete's search uses it rather than asking again.
    pub directory: Option<crate::store::DirectoryCheck>,
}

impl Actor {
    pub fn subject(&self) -> Subject {
        Subject::from(&self.user)
    }

    /// An audit entry about something this actor did, from where they did it.
    pub fn audit(&self, app: &App, inv: &Invocation, action: Action) -> AuditEntry {
        let actor = AuditActor {
            user_id: Some(self.user.id),
            discord_user_id: inv.user,
            label: format!("{} ({})", self.user.display_name(), self.user.login),
        };
        AuditEntry::new(Some(self.tenant.id), app.now(), actor, action, origin(inv))
    }
}

pub fn origin(inv: &Invocation) -> Origin {
    Origin {
        guild_id: inv.guild.map(|g| g.to_string()),
        channel_id: inv.channel.clone(),
        interaction_id: inv.interaction_id.clone(),
        api_caller: inv.api_caller.clone(),
    }
}

pub enum Caller {
    Linked(Box<Actor>),
    /// In a bound guild, but the chat account is not linked: only `/link` works.
    Unlinked(Tenant),
}

/// Resolves the guild's tenant and the invoker's directory user.
pub async fn caller(app: &App, inv: &Invocation) -> Result<Caller, Reply> {
    let Some(guild) = inv.guild else {
        return Err(Reply::private(
            "hallpass commands work inside your school's Discord server, not in direct messages.",
        ));
    };
    // One query for the tenant and the linked user: this runs on every keystroke.
    match app.store.caller_in_guild(guild, inv.user).await {
        Ok(Some((tenant, Some(user), check))) => Ok(Caller::Linked(Box::new(Actor {
            tenant,
            user,
            directory: Some(check),
        }))),
        Ok(Some((tenant, None, _))) => Ok(Caller::Unlinked(tenant)),
        Ok(None) => Err(Reply::private(format!(
            "This Discord server isn't connected to hallpass yet. An operator can connect it with `hallpass guild bind {guild} --tenant NAME`."
        ))),
        Err(e) => Err(trouble(e)),
    }
}

pub const UNLINKED: &str = "Your Discord account isn't linked to hallpass yet. Ask a teacher or an admin for a link code (they use /link-code), then run /link with it.";

/// The answer when something broke on our side: no details to the chat (they
/// go to the log), and the reassurance that nothing was half-done.
pub fn trouble(error: impl Display) -> Reply {
    tracing::error!(%error, "command failed");
    Reply::private(
        "Something went wrong on hallpass's side and nothing was changed. Please try again in a minute.",
    )
}

/// The user a command names: an id from autocomplete, or a login typed by
/// hand. Someone the actor cannot see gets the answer for nobody at all.
pub async fn target(app: &App, actor: &Actor, raw: &str) -> Result<User, Denial> {
    let found = match UserId::parse(raw) {
        Ok(id) => app.store.user(actor.tenant.id, id).await,
        Err(_) => match Login::parse(raw) {
            Ok(login) => app.store.user_by_login(actor.tenant.id, &login).await,
            Err(_) => Ok(None),
        },
    };
    match found {
        Ok(Some(user)) if can_see(&actor.subject(), &Subject::from(&user)).is_allowed() => Ok(user),
        Ok(_) => Err(Denial::NoSuchUser),
        Err(e) => {
            tracing::error!(error = %e, "target lookup failed");
            Err(Denial::NoSuchUser)
        }
    }
}

/// [`target`], with the refusal recorded and answered in one place: every
/// command that names a user goes through here, so none forgets the audit.
pub async fn target_or_refuse(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    action: Action,
    raw: &str,
) -> Result<User, Reply> {
    match target(app, actor, raw).await {
        Ok(user) => Ok(user),
        Err(denial) => Err(refuse(app, actor, inv, action, None, raw, denial).await),
    }
}

/// Records a refused attempt and answers with the reason. The reason goes to
/// the audit log as it is and to chat with markdown escaped, so a reason that
/// quotes a name or a typed value cannot format the message.
pub async fn refuse(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    action: Action,
    target: Option<&User>,
    asked_for: &str,
    reason: impl Display,
) -> Reply {
    let reason = reason.to_string();
    let mut entry = actor.audit(app, inv, action).refused(reason.clone());
    match target {
        Some(user) => entry = entry.target(user.id, user.display_name()),
        None => entry.target_label = Some(asked_for.to_owned()),
    }
    if let Err(e) = app.store.append_audit(&entry).await {
        tracing::error!(error = %e, "failed to audit a refused attempt");
    }
    Reply::private(super::markdown::escape(&reason))
}
