//! `/reset-password [user] [method]`: a temporary password for someone the
//! actor may edit, or for yourself (self-service, a few a day). The password
//! goes to the invoker privately; only its hash is stored. `method:email`
//! instead asks for a confirmation and emails a link (see `reset_email`).

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::app::App;
use crate::audit::{Action, AuditEntry};
use crate::directory::User;
use crate::policy::{Subject, can_reset_password};
use crate::store::{HandoffId, NewPassword};

use super::burst;
use super::context::{Actor, refuse, target_or_refuse, trouble};
use super::definition::{Command, OptionDef, RawOptions};
use super::markdown;
use super::reply::{Invocation, Reply, SecretDelivery, Undo};
use super::reset_email;

const SELF_RESET: &str = "self_reset";

const USER: OptionDef = OptionDef::autocomplete("user", false);
const METHOD: OptionDef = OptionDef::choice("method", false, &["temporary", "email"]);

pub const RESET_PASSWORD: Command = Command {
    name: "reset-password",
    json: include_str!("../../commands/reset-password.json"),
    options: &[USER, METHOD],
    // Hashing and a DM take a while; the email method answers at once with a
    // modal, which cannot follow a deferral.
    slow: |raw| Method::parse(METHOD.get(raw)) != Ok(Method::Email),
    run: |app, actor, inv, raw| Box::pin(reset_password(app, actor, inv, Options::parse(raw))),
    unlinked: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Temporary,
    Email,
}

impl Method {
    /// The method asked for (temporary by default), or the unknown value.
    fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw {
            None | Some("temporary") => Ok(Self::Temporary),
            Some("email") => Ok(Self::Email),
            Some(other) => Err(other.to_owned()),
        }
    }
}

/// The options of `/reset-password`.
struct Options<'a> {
    /// `None` is yourself.
    user: Option<&'a str>,
    /// Told only once the target is known and may be reset.
    method: Result<Method, String>,
}

impl<'a> Options<'a> {
    fn parse(raw: &'a RawOptions) -> Self {
        Self {
            user: USER.get(raw),
            method: Method::parse(METHOD.get(raw)),
        }
    }
}

async fn reset_password(app: &App, actor: &Actor, inv: &Invocation, options: Options<'_>) -> Reply {
    let asked_for = options.user;
    let who = match asked_for {
        None => actor.user.clone(),
        Some(raw) => match target_or_refuse(app, actor, inv, Action::PasswordReset, raw).await {
            Ok(user) => user,
            Err(reply) => return reply,
        },
    };
    if let Err(denial) = can_reset_password(&actor.subject(), &Subject::from(&who)).into_result() {
        return refuse(
            app,
            actor,
            inv,
            Action::PasswordReset,
            Some(&who),
            asked_for.unwrap_or(""),
            denial,
        )
        .await;
    }
    match options.method {
        Ok(Method::Temporary) => temporary(app, actor, inv, who).await,
        Ok(Method::Email) => by_email(app, actor, inv, &who).await,
        Err(other) => Reply::private(format!(
            "\"{}\" is not a reset method; choose temporary or email.",
            markdown::escape(&other)
        )),
    }
}

/// `method:email`: the confirmation form, or why there is no mailbox to use.
async fn by_email(app: &App, actor: &Actor, inv: &Invocation, who: &User) -> Reply {
    match reset_email::refusal(app, who) {
        Some(reason) => {
            refuse(
                app,
                actor,
                inv,
                Action::PasswordReset,
                Some(who),
                "",
                reason,
            )
            .await
        }
        None => reset_email::confirmation(who),
    }
}

/// A temporary password for `who` (self-service takes one of the day's uses).
async fn temporary(app: &App, actor: &Actor, inv: &Invocation, who: User) -> Reply {
    let now = app.now();
    let yourself = who.id == actor.user.id;
    let (quota_use, remaining) = if yourself {
        match take_self_reset(app, actor, inv, now).await {
            Ok((id, remaining)) => (Some(id), remaining),
            Err(refused) => return refused,
        }
    } else {
        (None, 0)
    };
    let audit = actor.audit(app, inv, Action::PasswordReset);
    match issue_temporary(app, audit, &who, now, quota_use.as_deref()).await {
        Ok((password, handoff, expires)) => {
            burst::after_reset(app, actor).await;
            let content = done(&who, yourself, remaining);
            let text = handed_over(&who, &password, expires, &app.settings.sign_in_url());
            let undo = Undo::Password {
                user: Box::new(who),
                handoff,
            };
            Reply::private(content).with_secret(SecretDelivery {
                to: inv.user,
                text,
                attachment: None,
                undo: Some(undo),
            })
        }
        Err(e) => {
            if let Some(id) = quota_use {
                let _ = app.store.refund_quota(&id).await;
            }
            trouble(e)
        }
    }
}

/// What the educator reads where they asked (never the password).
fn done(who: &User, yourself: bool, remaining: u32) -> String {
    if yourself {
        format!(
            "Done: your temporary password is in your DMs. You'll choose a new one when you sign in. Self-service resets left today: {remaining}."
        )
    } else {
        format!(
            "Done: {} has a new temporary password, sent to you privately. Give it to them in person; they'll choose their own when they sign in.",
            markdown::person(who)
        )
    }
}

/// The private message that carries the password, in a code span.
fn handed_over(
    who: &User,
    password: &SecretString,
    expires: DateTime<Utc>,
    sign_in_url: &str,
) -> SecretString {
    SecretString::from(format!(
        "Temporary password for {}: `{}`\nIt must be changed at the next sign-in and stops working {} if unused.\nSign in at {sign_in_url}",
        markdown::person(who),
        password.expose_secret(),
        expires.format("%Y-%m-%d %H:%M UTC")
    ))
}

pub(super) type Issued = (SecretString, HandoffId, DateTime<Utc>);

/// Sets a new temporary password for `who` and opens its hand-off (what a
/// roll-back needs is kept in the store, see `Store::start_handoff`), with
/// `audit` as its entry: every temporary password, alone or in a class's
/// batch, is issued here.
pub(super) async fn issue_temporary(
    app: &App,
    audit: AuditEntry,
    who: &User,
    now: DateTime<Utc>,
    quota_use: Option<&str>,
) -> anyhow::Result<Issued> {
    let password = app.random.temporary_password();
    let hash = app.hasher.hash(&password).await?;
    let expires = app.settings.temporary_password.expires_at(now);
    let new = NewPassword {
        phc: hash.as_str(),
        expires_at: expires,
        quota_use,
    };
    let handoff = app.store.start_handoff(who, &new, audit).await?;
    // A new reset ends the email links sent before it. In a transaction of its
    // own, after the password is set: at worst (the database fails between the
    // two) an old link lives out its hour, as it did before.
    if let Err(e) = app.store.end_reset_links(who.id, now).await {
        tracing::error!(error = %e, user = %who.id, "could not end earlier reset links");
    }
    Ok((password, handoff, expires))
}

/// Takes one of the actor's self-service resets (temporary or by email):
/// `Ok((use, left))`, or the refusal, audited, saying when they can again.
pub(super) async fn take_self_reset(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    now: DateTime<Utc>,
) -> Result<(String, u32), Reply> {
    let limit = app.settings.self_resets_per_day;
    let subject = format!("user:{}", actor.user.id);
    let decision = app
        .store
        .take_quota(
            actor.tenant.id,
            &subject,
            SELF_RESET,
            limit,
            Duration::hours(24),
            now,
        )
        .await
        .map_err(trouble)?;
    match decision.taken {
        Some(id) => Ok((id, decision.remaining)),
        None => {
            let reason = format!(
                "You've used all {limit} self-service password resets for today. You can reset again {}, or ask a teacher or an admin to reset it for you.",
                when(decision.retry_at, now)
            );
            let who = actor.user.clone();
            Err(refuse(
                app,
                actor,
                inv,
                Action::PasswordReset,
                Some(&who),
                "",
                reason,
            )
            .await)
        }
    }
}

/// "at 09:00 UTC (in 23 h 59 min)", or "shortly".
pub(super) fn when(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match at {
        Some(at) if at > now => {
            let hours = (at - now).num_minutes().div_euclid(60);
            let minutes = (at - now).num_minutes().rem_euclid(60);
            format!(
                "at {} (in {hours} h {minutes:02} min)",
                at.format("%H:%M UTC")
            )
        }
        _ => "shortly".into(),
    }
}
