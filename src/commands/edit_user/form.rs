//! The `/edit-user` form: a modal prefilled with the fields the actor may
//! change, and its submit, which applies the change only if nobody changed the
//! record since the form opened.

use crate::app::App;
use crate::audit::Action;
use crate::directory::{Grade, Login, PersonName, Title, User};
use crate::policy::{Field, Subject, can_see};
use crate::store::{StoreError, UserChanges};

use super::super::context::{Actor, refuse, target_or_refuse, trouble};
use super::super::definition::{Form, RawOptions, UserForm};
use super::super::markdown;
use super::super::reply::{Invocation, Modal, Reply, TextInput};
use super::EDIT_USER;

pub const EDIT_FORM: Form = Form {
    prefix: EDIT_USER.name,
    command: EDIT_USER.name,
    slow: false,
    submit: |app, actor, inv, custom_id, fields| {
        let submitted = Submitted {
            form: UserForm::parse(&EDIT_FORM, custom_id),
            changes: parse_changes(fields),
        };
        Box::pin(submit(app, actor, inv, submitted))
    },
};

/// The form prefilled with the fields this actor may change.
pub(super) fn modal(who: &User, fields: &[Field]) -> Modal {
    let input = |id: &str, label: &str, value: String, required: bool, max: u16| TextInput {
        custom_id: id.to_owned(),
        label: label.to_owned(),
        value,
        required,
        max_length: max,
    };
    let inputs = fields
        .iter()
        .filter_map(|field| match field {
            Field::FirstName => Some(input(
                "first_name",
                "First name",
                who.first_name.to_string(),
                true,
                64,
            )),
            Field::LastName => Some(input(
                "last_name",
                "Last name",
                who.last_name.to_string(),
                true,
                64,
            )),
            Field::Login => Some(input(
                "login",
                "Email or username",
                who.login.to_string(),
                true,
                254,
            )),
            Field::Title => Some(input(
                "title",
                "Title (optional)",
                who.title.as_ref().map(Title::to_string).unwrap_or_default(),
                false,
                64,
            )),
            Field::Grade => Some(input(
                "grade",
                "Grade (KG, PK, 01-12)",
                who.grade.map(|g| g.code()).unwrap_or_default(),
                false,
                5,
            )),
            _ => None,
        })
        .collect();
    let title = markdown::clip(
        &format!("Edit {}", who.display_name()),
        markdown::limits::MODAL_TITLE,
    );
    Modal {
        custom_id: UserForm::of(who).format(&EDIT_FORM),
        title,
        inputs,
    }
}

/// The submitted form: which record at which version, and the changes typed.
struct Submitted {
    form: Option<UserForm>,
    changes: Result<UserChanges, Vec<String>>,
}

async fn submit(app: &App, actor: &Actor, inv: &Invocation, submitted: Submitted) -> Reply {
    let Some(form) = submitted.form else {
        return Reply::private("That form is not one hallpass recognises; run /edit-user again.");
    };
    let id = &form.user.to_string();
    let who = match target_or_refuse(app, actor, inv, Action::UserEdit, id).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    if who.version != form.version {
        return refuse(
            app,
            actor,
            inv,
            Action::UserEdit,
            Some(&who),
            id,
            StoreError::Conflict,
        )
        .await;
    }
    let changes = match submitted.changes {
        Ok(changes) => changes,
        Err(problems) => {
            return Reply::private(format!("Nothing was changed:\n{}", problems.join("\n")));
        }
    };
    let after = changes.apply_to(&who);
    for (field, changed) in [
        (Field::FirstName, after.first_name != who.first_name),
        (Field::LastName, after.last_name != who.last_name),
        (Field::Login, after.login != who.login),
        (Field::Title, after.title != who.title),
        (Field::Grade, after.grade != who.grade),
    ] {
        if !changed {
            continue;
        }
        if let Err(denial) =
            crate::policy::can_edit_field(&actor.subject(), &Subject::from(&who), field)
                .into_result()
        {
            return refuse(app, actor, inv, Action::UserEdit, Some(&who), id, denial).await;
        }
    }
    if after == who {
        return Reply::private(format!(
            "Nothing to change: {}'s record already says that.",
            markdown::name(&who)
        ));
    }
    match app
        .store
        .update_user(&who, &changes, actor.audit(app, inv, Action::UserEdit))
        .await
    {
        Ok(updated) => Reply::private(summary(&who, &updated)),
        Err(e @ StoreError::Conflict) => {
            refuse(app, actor, inv, Action::UserEdit, Some(&who), id, e).await
        }
        Err(StoreError::LoginTaken(_)) => {
            // The audit log says only that the login was unavailable: other
            // admins read it, and they may not see the holder.
            refuse(
                app,
                actor,
                inv,
                Action::UserEdit,
                Some(&who),
                id,
                LOGIN_UNAVAILABLE,
            )
            .await;
            Reply::private(login_taken(app, actor, &after.login).await)
        }
        Err(e) => trouble(e),
    }
}

/// The answer when the new login is someone else's. Naming the holder is
/// fine only when the actor can see them; otherwise the answer does not say
/// who, or what kind of user, holds it.
async fn login_taken(app: &App, actor: &Actor, login: &Login) -> String {
    let holder = app
        .store
        .user_by_login(actor.tenant.id, login)
        .await
        .ok()
        .flatten();
    match holder {
        Some(holder) if can_see(&actor.subject(), &Subject::from(&holder)).is_allowed() => {
            format!(
                "The login \"{}\" is already used by {}. Nothing was changed.",
                markdown::escape(login.as_str()),
                markdown::name(&holder)
            )
        }
        _ => LOGIN_UNAVAILABLE.to_owned(),
    }
}

/// One answer for a login held by someone the actor cannot see.
pub const LOGIN_UNAVAILABLE: &str =
    "That email/username can't be used for this record. Nothing was changed; choose another one.";

/// The changes typed in the form, or every problem with them.
fn parse_changes(fields: &RawOptions) -> Result<UserChanges, Vec<String>> {
    let mut changes = UserChanges::default();
    let mut problems = Vec::new();
    let mut note =
        |label: &str, e: crate::directory::ParseError| problems.push(format!("• {label}: {e}"));
    if let Some(v) = fields.get("first_name") {
        match PersonName::parse(v) {
            Ok(n) => changes.first_name = Some(n),
            Err(e) => note("first name", e),
        }
    }
    if let Some(v) = fields.get("last_name") {
        match PersonName::parse(v) {
            Ok(n) => changes.last_name = Some(n),
            Err(e) => note("last name", e),
        }
    }
    if let Some(v) = fields.get("login") {
        match Login::parse(v) {
            Ok(l) => changes.login = Some(l),
            Err(e) => note("email or username", e),
        }
    }
    if let Some(v) = fields.get("title") {
        match v.trim() {
            "" => changes.title = Some(None),
            t => match Title::parse(t) {
                Ok(t) => changes.title = Some(Some(t)),
                Err(e) => note("title", e),
            },
        }
    }
    if let Some(v) = fields.get("grade") {
        match v.trim() {
            "" => changes.grade = Some(None),
            g => match Grade::parse(g) {
                Ok(g) => changes.grade = Some(Some(g)),
                Err(e) => note("grade", e),
            },
        }
    }
    if problems.is_empty() {
        Ok(changes)
    } else {
        Err(problems)
    }
}

fn summary(before: &User, after: &User) -> String {
    let mut lines = vec![format!("Updated {}:", markdown::name(after))];
    let mut line = |label: &str, old: String, new: String| {
        if old != new {
            let shown = |s: &str| {
                if s.is_empty() {
                    "(none)".to_owned()
                } else {
                    markdown::escape(s)
                }
            };
            lines.push(format!("• {label}: {} → {}", shown(&old), shown(&new)));
        }
    };
    line(
        "first name",
        before.first_name.to_string(),
        after.first_name.to_string(),
    );
    line(
        "last name",
        before.last_name.to_string(),
        after.last_name.to_string(),
    );
    line(
        "email/username",
        before.login.to_string(),
        after.login.to_string(),
    );
    line(
        "title",
        before
            .title
            .as_ref()
            .map(Title::to_string)
            .unwrap_or_default(),
        after
            .title
            .as_ref()
            .map(Title::to_string)
            .unwrap_or_default(),
    );
    line(
        "grade",
        before.grade.map(|g| g.code()).unwrap_or_default(),
        after.grade.map(|g| g.code()).unwrap_or_default(),
    );
    lines.join("\n")
}
