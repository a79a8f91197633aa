//! `/link-code user` issues a one-time code for someone the actor may edit (by
//! DM to the actor); `/link code` lets that person link their chat account.
//! A new code ends the person's previous one. Wrong codes are throttled per
//! chat account (5 an hour by default, held in the database so the limit holds
//! across instances), then answered with when to try again.

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use crate::app::App;
use crate::audit::{Action, AuditActor, AuditEntry};
use crate::credentials::LinkCode;
use crate::directory::Tenant;
use crate::policy::{Subject, can_issue_link_code};
use crate::store::{RedeemError, StoreError};

use super::context::{Actor, origin, refuse, target_or_refuse, trouble};
use super::definition::{Command, OptionDef, always_slow, never_slow};
use super::markdown;
use super::reply::{Invocation, Reply, SecretDelivery};

const USER: OptionDef = OptionDef::autocomplete("user", true);
const CODE: OptionDef = OptionDef::text("code", true);

pub const LINK_CODE: Command = Command {
    name: "link-code",
    json: include_str!("../../commands/link-code.json"),
    options: &[USER],
    // The code goes out by DM.
    slow: always_slow,
    run: |app, actor, inv, raw| Box::pin(link_code(app, actor, inv, USER.text_in(raw))),
    unlinked: None,
};

pub const LINK: Command = Command {
    name: "link",
    json: include_str!("../../commands/link.json"),
    options: &[CODE],
    slow: never_slow,
    run: |_, actor, _, _| {
        Box::pin(async move {
            Reply::private(format!(
                "This Discord account is already linked to {}.",
                markdown::person(&actor.user)
            ))
        })
    },
    unlinked: Some(|app, tenant, inv, raw| Box::pin(link(app, tenant, inv, CODE.text_in(raw)))),
};

/// The durable quota of `/link` tries per chat account (wrong codes keep theirs).
const LINK_ATTEMPT: &str = "link_attempt";

/// `/link-code user`; the option is the person, as autocomplete offered them.
async fn link_code(app: &App, actor: &Actor, inv: &Invocation, raw: &str) -> Reply {
    let who = match target_or_refuse(app, actor, inv, Action::ChatLink, raw).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    if let Err(denial) = can_issue_link_code(&actor.subject(), &Subject::from(&who)).into_result() {
        return refuse(app, actor, inv, Action::ChatLink, Some(&who), raw, denial).await;
    }
    if who.discord_user_id.is_some() {
        return Reply::private(format!(
            "{} already has a Discord account linked.",
            markdown::name(&who)
        ));
    }
    let code = app.random.link_code();
    let now = app.now();
    let expires = now + app.settings.link_code_lifetime;
    if let Err(e) = app
        .store
        .insert_link_code(
            &who,
            actor.user.id,
            code.hash(&app.secret_key).as_str(),
            now,
            expires,
        )
        .await
    {
        return trouble(e);
    }
    let text = SecretString::from(format!(
        "Link code for {}: `{}`\nThey run /link with it in this server. It works once, until {}.",
        markdown::person(&who),
        code.expose_secret(),
        expires.format("%Y-%m-%d %H:%M UTC")
    ));
    Reply::private(format!(
        "I've sent you a link code for {} privately. Pass it on to them in person.",
        markdown::name(&who)
    ))
    .with_secret(SecretDelivery {
        to: inv.user,
        text,
        attachment: None,
        undo: None,
    })
}

/// `/link code`: the one command an unlinked chat account may run.
/// `/link code`, from a chat account not yet linked.
async fn link(app: &App, tenant: &Tenant, inv: &Invocation, raw: &str) -> Reply {
    let code = match LinkCode::normalize(raw) {
        Ok(code) => code,
        Err(e) => return Reply::private(e.to_string()),
    };
    let Some(account) = inv.user else {
        return Reply::private("/link links a Discord account; run it in Discord.");
    };
    let actor = AuditActor {
        user_id: None,
        discord_user_id: Some(account),
        label: format!("discord:{account}"),
    };
    let now = app.now();
    let entry = AuditEntry::new(Some(tenant.id), now, actor, Action::ChatLink, origin(inv));
    // Every attempt takes a try from the hour's budget first (so simultaneous
    // guesses on several instances cannot overrun it); only a wrong code keeps it.
    let attempt = match app
        .store
        .take_quota(
            tenant.id,
            &format!("discord:{account}"),
            LINK_ATTEMPT,
            app.settings.link_attempts_per_hour,
            Duration::hours(1),
            now,
        )
        .await
    {
        Ok(decision) => match decision.taken {
            Some(id) => id,
            None => return too_many(app, &entry, decision.retry_at).await,
        },
        Err(e) => return trouble(e),
    };
    let redeemed = app
        .store
        .redeem_link_code(
            tenant.id,
            code.hash(&app.secret_key).as_str(),
            account,
            entry.clone(),
        )
        .await;
    if !matches!(redeemed, Err(RedeemError::Invalid))
        && let Err(e) = app.store.refund_quota(&attempt).await
    {
        tracing::error!(error = %e, "could not give back a /link attempt");
    }
    match redeemed {
        Ok(user) => Reply::private(format!(
            "You're linked: this Discord account is now {}. Try /reset-password to set your password.",
            markdown::person(&user)
        )),
        Err(RedeemError::Invalid) => {
            let _ = app
                .store
                .append_audit(&entry.refused(RedeemError::Invalid.to_string()))
                .await;
            Reply::private(RedeemError::Invalid.to_string())
        }
        Err(RedeemError::Store(StoreError::AlreadyLinked)) => Reply::private(
            "That account is already linked to a Discord account, or yours is linked to someone else. Ask an admin.",
        ),
        Err(RedeemError::Store(e)) => trouble(e),
    }
}

/// The answer once a chat account has typed too many wrong codes this hour.
async fn too_many(app: &App, entry: &AuditEntry, retry_at: Option<DateTime<Utc>>) -> Reply {
    let at = retry_at
        .map(|t| format!("at {}", t.format("%H:%M UTC")))
        .unwrap_or_else(|| "in an hour".to_owned());
    let reason = format!(
        "Too many wrong link codes from this Discord account. Try again {at}, or ask an admin to link you."
    );
    if let Err(e) = app
        .store
        .append_audit(&entry.clone().refused(reason.clone()))
        .await
    {
        tracing::error!(error = %e, "failed to audit a throttled /link");
    }
    Reply::private(reason)
}
