//! `/edit-user user [school] [district] [role]`: without move options, a modal
//! prefilled with the fields this actor may change; its submit applies the
//! change if nobody changed the record meanwhile. With move options, the move
//! is applied directly. Both answer with a before -> after summary.

use std::collections::BTreeMap;

use crate::app::App;
use crate::audit::Action;
use crate::directory::{
    DistrictId, Grade, Login, PersonName, Place, Role, SchoolId, Title, User, UserId,
};
use crate::policy::{
    Field, PlaceChange, Subject, can_change_place, can_edit, can_see, editable_fields,
};
use crate::store::{StoreError, UserChanges};

use super::context::{Actor, refuse, target_or_refuse, trouble};
use super::markdown;
use super::reply::{Invocation, Modal, Reply, TextInput};

const MODAL_PREFIX: &str = "edit-user";

pub async fn edit_user(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    options: &BTreeMap<String, String>,
) -> Reply {
    let raw = options.get("user").map(String::as_str).unwrap_or("");
    let who = match target_or_refuse(app, actor, inv, Action::UserEdit, raw).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    let moving = ["school", "district", "role"]
        .iter()
        .any(|k| options.contains_key(*k));
    if moving {
        return move_user(app, actor, inv, &who, options).await;
    }
    let fields: Vec<Field> = editable_fields(&actor.subject(), &Subject::from(&who))
        .into_iter()
        .filter(|f| {
            matches!(
                f,
                Field::FirstName | Field::LastName | Field::Title | Field::Grade | Field::Login
            )
        })
        .collect();
    if fields.is_empty() {
        let denial = match can_edit(&actor.subject(), &Subject::from(&who)).into_result() {
            Err(denial) => denial.to_string(),
            Ok(()) => "There is nothing on this record you can change here.".to_owned(),
        };
        return refuse(app, actor, inv, Action::UserEdit, Some(&who), raw, denial).await;
    }
    Reply::modal(form(&who, &fields))
}

fn form(who: &User, fields: &[Field]) -> Modal {
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
    let mut title: String = format!("Edit {}", who.display_name())
        .chars()
        .take(45)
        .collect();
    if title.chars().count() == 45 {
        title.pop();
        title.push('…');
    }
    Modal {
        custom_id: format!("{MODAL_PREFIX}:{}:{}", who.id, who.version),
        title,
        inputs,
    }
}

/// Whether a modal submission belongs to `/edit-user`.
pub fn owns_modal(custom_id: &str) -> bool {
    custom_id.starts_with(MODAL_PREFIX) && custom_id[MODAL_PREFIX.len()..].starts_with(':')
}

pub async fn submit(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    custom_id: &str,
    fields: &BTreeMap<String, String>,
) -> Reply {
    let mut parts = custom_id.splitn(3, ':').skip(1);
    let (Some(id), Some(version)) = (
        parts.next(),
        parts.next().and_then(|v| v.parse::<i64>().ok()),
    ) else {
        return Reply::private("That form is not one hallpass recognises; run /edit-user again.");
    };
    let who = match UserId::parse(id) {
        Ok(_) => match target_or_refuse(app, actor, inv, Action::UserEdit, id).await {
            Ok(user) => user,
            Err(reply) => return reply,
        },
        Err(_) => {
            return Reply::private(
                "That form is not one hallpass recognises; run /edit-user again.",
            );
        }
    };
    if who.version != version {
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
    let changes = match parse_changes(fields) {
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

fn parse_changes(fields: &BTreeMap<String, String>) -> Result<UserChanges, Vec<String>> {
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

async fn move_user(
    app: &App,
    actor: &Actor,
    inv: &Invocation,
    who: &User,
    options: &BTreeMap<String, String>,
) -> Reply {
    let raw = options.get("user").map(String::as_str).unwrap_or("");
    let role = match options.get("role").map(|r| Role::parse(r)) {
        None => who.role,
        Some(Ok(role @ (Role::SchoolAdmin | Role::DistrictAdmin))) => role,
        Some(_) => {
            let reason = "The role option can only be school_admin or district_admin.";
            return refuse(app, actor, inv, Action::UserMove, Some(who), raw, reason).await;
        }
    };
    let place = match destination(app, actor, who, role, options).await {
        Ok(place) => place,
        Err(Unknown(reason)) => {
            return refuse(app, actor, inv, Action::UserMove, Some(who), raw, reason).await;
        }
        Err(Trouble(reply)) => return reply,
    };
    let change = PlaceChange { role, place };
    // The enabled district admins besides the target; `Store::move_user`
    // counts them again inside the transaction that makes the change.
    let admins = if who.role == Role::DistrictAdmin {
        match app
            .store
            .count_district_admins(actor.tenant.id, who.place.district())
            .await
        {
            Ok(n) => n.saturating_sub(u32::from(!who.disabled)),
            Err(e) => return trouble(e),
        }
    } else {
        0
    };
    if let Err(denial) =
        can_change_place(&actor.subject(), &Subject::from(who), &change, admins).into_result()
    {
        return refuse(app, actor, inv, Action::UserMove, Some(who), raw, denial).await;
    }
    if role == who.role && place == who.place {
        return Reply::private(format!(
            "Nothing to change: {} is already there.",
            markdown::name(who)
        ));
    }
    let changes = UserChanges {
        role: (role != who.role).then_some(role),
        place: (place != who.place).then_some(place),
        ..UserChanges::default()
    };
    match app
        .store
        .move_user(who, &changes, actor.audit(app, inv, Action::UserMove))
        .await
    {
        Ok(after) => {
            let before_text = describe(app, actor, who.role, who.place).await;
            let after_text = describe(app, actor, after.role, after.place).await;
            Reply::private(format!(
                "Moved {}: {before_text} → {after_text}.",
                markdown::name(who)
            ))
        }
        Err(e @ (StoreError::Conflict | StoreError::LastDistrictAdmin)) => {
            refuse(app, actor, inv, Action::UserMove, Some(who), raw, e).await
        }
        Err(e) => trouble(e),
    }
}

/// Why no destination: a place that is not in the actor's tenant (a refusal,
/// audited like any other), or trouble reading it.
enum NoDestination {
    Unknown(&'static str),
    Trouble(Reply),
}
use NoDestination::{Trouble, Unknown};

/// The place the options name, checked to exist in the actor's tenant.
async fn destination(
    app: &App,
    actor: &Actor,
    who: &User,
    role: Role,
    options: &BTreeMap<String, String>,
) -> Result<Place, NoDestination> {
    const NO_SCHOOL: &str = "No school you can choose matches that. Pick one from the list.";
    const NO_DISTRICT: &str = "No district you can choose matches that. Pick one from the list.";
    if let Some(raw) = options.get("school") {
        let id = SchoolId::parse(raw).map_err(|_| Unknown(NO_SCHOOL))?;
        return match app.store.school(actor.tenant.id, id).await {
            Ok(Some(school)) => Ok(Place::School {
                school: school.id,
                district: school.district_id,
            }),
            Ok(None) => Err(Unknown(NO_SCHOOL)),
            Err(e) => Err(Trouble(trouble(e))),
        };
    }
    if let Some(raw) = options.get("district") {
        let id = DistrictId::parse(raw).map_err(|_| Unknown(NO_DISTRICT))?;
        return match app.store.district(actor.tenant.id, id).await {
            Ok(Some(district)) => Ok(Place::District {
                district: district.id,
            }),
            Ok(None) => Err(Unknown(NO_DISTRICT)),
            Err(e) => Err(Trouble(trouble(e))),
        };
    }
    // Only a role: a school admin becoming district admin stays in their district;
    // otherwise the place stays and the policy says what is missing.
    Ok(match (who.place, role) {
        (Place::School { district, .. }, Role::DistrictAdmin) => Place::District { district },
        (place, _) => place,
    })
}

async fn describe(app: &App, actor: &Actor, role: Role, place: Place) -> String {
    let name = app
        .store
        .place_name(actor.tenant.id, place)
        .await
        .ok()
        .flatten()
        .map_or_else(|| "an unknown place".into(), |name| markdown::escape(&name));
    match place {
        Place::School { .. } => format!("{} at {name}", role.label()),
        Place::District { .. } => format!("{} of {name}", role.label()),
    }
}
