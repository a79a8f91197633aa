//! `/reset-password method:email`: a single-use link by email, for a login
//! that is an email address, once the actor confirms the person can open that
//! mailbox (a modal asks). Only the token's hash is stored; the link itself
//! exists only in the one message sent, never in a reply, a log or the audit.
//! A link you ask for yourself counts against the self-service quota (given
//! back if the mail cannot be sent); a sent link ends the person's earlier
//! links and a pending temporary password.

use chrono::Duration;
use secrecy::SecretString;
use serde_json::json;

use crate::app::App;
use crate::audit::{Action, AuditEntry};
use crate::credentials::TokenHash;
use crate::directory::User;
use crate::mail::OutgoingEmail;
use crate::policy::{Subject, can_reset_password};

use super::burst;
use super::context::{Actor, refuse, target_or_refuse, trouble};
use super::definition::{Form, UserForm};
use super::markdown;
use super::reply::{Invocation, Modal, Reply, TextInput};
use super::reset_password::{RESET_PASSWORD, take_self_reset};

/// The confirmation form of `/reset-password method:email`.
pub const RESET_EMAIL_FORM: Form = Form {
    prefix: "reset-email",
    command: RESET_PASSWORD.name,
    // Sending a reset link waits for the mail server.
    slow: true,
    submit: |app, actor, inv, custom_id, fields| {
        let submitted = Submitted {
            form: UserForm::parse(&RESET_EMAIL_FORM, custom_id),
            confirmed: fields
                .get(CONFIRM_FIELD)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes")),
        };
        Box::pin(submit(app, actor, inv, submitted))
    },
};

const CONFIRM_FIELD: &str = "confirm";

/// Why an email reset cannot be offered for `who`, if it cannot.
pub fn refusal(app: &App, who: &User) -> Option<String> {
    if !who.login.is_email() {
        Some(format!(
            "{}'s login ({}) isn't an email address, so there's no mailbox to send a link to. Use a temporary password instead.",
            who.display_name(),
            who.login
        ))
    } else if app.mailer.is_none() {
        Some("Email reset links aren't set up on this hallpass server (SMTP_URL is not configured). Use a temporary password instead.".into())
    } else {
        None
    }
}

/// The modal that asks the actor to confirm the person can open the mailbox.
pub fn confirmation(who: &User) -> Reply {
    let title = markdown::clip(
        &format!("Email a link to {}?", who.login),
        markdown::limits::MODAL_TITLE,
    );
    Reply::modal(Modal {
        custom_id: UserForm::of(who).format(&RESET_EMAIL_FORM),
        title,
        inputs: vec![TextInput {
            custom_id: CONFIRM_FIELD.to_owned(),
            label: "Can they open that mailbox? Type YES".to_owned(),
            value: String::new(),
            required: true,
            max_length: 10,
        }],
    })
}

/// The submitted confirmation: whose record at which version, and whether YES was typed.
struct Submitted {
    form: Option<UserForm>,
    confirmed: bool,
}

async fn submit(app: &App, actor: &Actor, inv: &Invocation, submitted: Submitted) -> Reply {
    let Some(form) = submitted.form else {
        return Reply::private(
            "That form is not one hallpass recognises; run /reset-password again.",
        );
    };
    let (id, version) = (&form.user.to_string(), form.version);
    let who = match target_or_refuse(app, actor, inv, Action::PasswordReset, id).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    let refused = |reason: String| {
        refuse(
            app,
            actor,
            inv,
            Action::PasswordReset,
            Some(&who),
            id,
            reason,
        )
    };
    if let Err(denial) = can_reset_password(&actor.subject(), &Subject::from(&who)).into_result() {
        return refused(denial.to_string()).await;
    }
    if who.version != version {
        return refused(format!(
            "{}'s record changed since you opened the form, so nothing was sent. Run /reset-password again.",
            who.display_name()
        ))
        .await;
    }
    if let Some(reason) = refusal(app, &who) {
        return refused(reason).await;
    }
    if !submitted.confirmed {
        return refused(format!(
            "Nothing was sent: type YES only if {} can open {}. Otherwise use a temporary password.",
            who.display_name(),
            who.login
        ))
        .await;
    }
    send_link(app, actor, inv, &who).await
}

async fn send_link(app: &App, actor: &Actor, inv: &Invocation, who: &User) -> Reply {
    let Some(mailer) = &app.mailer else {
        return trouble("the mailer disappeared between the check and the send");
    };
    let now = app.now();
    let lifetime = app.settings.reset_link_lifetime;
    let expires = now + lifetime;
    // Asking for your own link is a self-service reset: it counts against the
    // daily quota, and is given back if no mail goes out.
    let quota = if who.id == actor.user.id {
        match take_self_reset(app, actor, inv, now).await {
            Ok(taken) => Some(taken),
            Err(refused) => return refused,
        }
    } else {
        None
    };
    let refund = || async {
        if let Some((id, _)) = &quota
            && let Err(e) = app.store.refund_quota(id).await
        {
            tracing::error!(error = %e, "could not give back a self-service reset");
        }
    };
    let token = app.random.reset_token();
    let hash = token.token_hash(&app.secret_key);
    if let Err(e) = app
        .store
        .insert_reset_token(who, actor.user.id, &hash, now, expires)
        .await
    {
        refund().await;
        return trouble(e);
    }
    let link = format!(
        "{}/reset/{}",
        app.settings.public_url.trim_end_matches('/'),
        token.expose_secret()
    );
    let email = reset_email(actor, who, &link, expires, lifetime);
    let entry = actor
        .audit(app, inv, Action::PasswordReset)
        .target(who.id, who.display_name());
    if let Err(error) = mailer.send(&email).await {
        tracing::warn!(%error, "a reset link could not be sent");
        refund().await;
        return unsent(app, who, &hash, entry, &error.to_string()).await;
    }
    let mut after = json!({ "method": "email" });
    match app.store.end_secrets_before_link(who.id, &hash, now).await {
        Ok((links, temporary)) => {
            after["ended_reset_links"] = json!(links);
            after["ended_temporary_password"] = json!(temporary);
        }
        Err(e) => {
            tracing::error!(error = %e, "could not end the secrets issued before a reset link")
        }
    }
    let mut sent = entry;
    sent.after = Some(after);
    if let Err(e) = app.store.append_audit(&sent).await {
        tracing::error!(error = %e, "failed to audit a sent reset link");
    }
    burst::after_reset(app, actor).await;
    let left = quota
        .map(|(_, left)| format!(" Self-service resets left today: {left}."))
        .unwrap_or_default();
    Reply::private(format!(
        "I've emailed a reset link to {} (expires in {}). It works once; {}'s password stays as it is until they use it.{left}",
        markdown::escape(&masked(who.login.as_str())),
        in_words(lifetime),
        markdown::name(who)
    ))
}

fn reset_email(
    actor: &Actor,
    who: &User,
    link: &str,
    expires: chrono::DateTime<chrono::Utc>,
    lifetime: Duration,
) -> OutgoingEmail {
    OutgoingEmail {
        to: who.login.to_string(),
        subject: "Reset your hallpass password".to_owned(),
        body: SecretString::from(format!(
            "Hello {first},\n\n\
             {asker} asked hallpass to send you a link to choose a new password\n\
             for {login}.\n\n\
             Open this link to choose your new password:\n\
             {link}\n\n\
             The link works once and expires at {at} (in {span}).\n\n\
             If you didn't expect this email, ignore it: your password stays as it is.\n",
            first = who.first_name,
            asker = actor.user.display_name(),
            login = who.login,
            at = expires.format("%Y-%m-%d %H:%M UTC"),
            span = in_words(lifetime),
        )),
    }
}

/// The mail server did not take the message: the link is withdrawn, the
/// failure audited, and the actor told nothing was issued.
async fn unsent(app: &App, who: &User, hash: &TokenHash, entry: AuditEntry, error: &str) -> Reply {
    let withdrawn = app.store.delete_reset_token(hash).await;
    if let Err(e) = &withdrawn {
        tracing::error!(error = %e, "failed to withdraw an unsent reset token");
    }
    let mut failed = entry.failed(format!("the mail server did not take the message: {error}"));
    failed.after = Some(json!({ "method": "email" }));
    if let Err(e) = app.store.append_audit(&failed).await {
        tracing::error!(error = %e, "failed to audit an unsent reset link");
    }
    Reply::private(format!(
        "I couldn't send the reset link to {}: the mail server refused it or didn't answer. No link was issued and the password is unchanged. Try again later, or use a temporary password.",
        markdown::escape(&masked(who.login.as_str()))
    ))
}

/// `ana.lopez@school.org` as `a…@…`: enough to recognise, little to copy.
fn masked(address: &str) -> String {
    let first: String = address.chars().take(1).collect();
    format!("{first}…@…")
}

fn in_words(span: Duration) -> String {
    let minutes = span.num_minutes();
    match (minutes / 60, minutes % 60) {
        (1, 0) => "1 hour".into(),
        (hours, 0) => format!("{hours} hours"),
        _ => format!("{minutes} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_masked_and_the_lifetime_said_in_words() {
        assert_eq!(masked("ana.lopez@school.org"), "a…@…");
        assert_eq!(in_words(Duration::hours(1)), "1 hour");
        assert_eq!(in_words(Duration::hours(2)), "2 hours");
        assert_eq!(in_words(Duration::minutes(30)), "30 minutes");
    }

    #[test]
    fn only_its_own_modals_are_claimed() {
        assert!(RESET_EMAIL_FORM.owns("reset-email:abc:1"));
        assert!(!RESET_EMAIL_FORM.owns("reset-emailx:abc:1"));
        assert!(!RESET_EMAIL_FORM.owns("edit-user:abc:1"));
    }
}
