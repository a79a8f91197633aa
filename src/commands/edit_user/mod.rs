//! `/edit-user user [school] [district] [role]`: without move options, a modal
//! prefilled with the fields this actor may change; its submit applies the
//! change if nobody changed the record meanwhile. With move options, the move
//! is applied directly. Both answer with a before -> after summary.

mod form;
mod moves;

use crate::app::App;
use crate::audit::Action;
use crate::policy::{Field, Subject, can_edit, editable_fields};

use super::context::{Actor, refuse, target_or_refuse};
use super::definition::{Command, OptionDef, RawOptions, never_slow};
use super::reply::{Invocation, Reply};

pub use form::EDIT_FORM;

const USER: OptionDef = OptionDef::autocomplete("user", true);
const SCHOOL: OptionDef = OptionDef::autocomplete("school", false);
const DISTRICT: OptionDef = OptionDef::autocomplete("district", false);
const ROLE: OptionDef = OptionDef::choice("role", false, &["school_admin", "district_admin"]);

pub const EDIT_USER: Command = Command {
    name: "edit-user",
    json: include_str!("../../../commands/edit-user.json"),
    options: &[USER, SCHOOL, DISTRICT, ROLE],
    slow: never_slow,
    run: |app, actor, inv, raw| Box::pin(edit_user(app, actor, inv, Options::parse(raw))),
    unlinked: None,
};

/// The options of `/edit-user`; any of the last three makes it a move.
struct Options<'a> {
    user: &'a str,
    school: Option<&'a str>,
    district: Option<&'a str>,
    role: Option<&'a str>,
}

impl<'a> Options<'a> {
    fn parse(raw: &'a RawOptions) -> Self {
        Self {
            user: USER.text_in(raw),
            school: SCHOOL.get(raw),
            district: DISTRICT.get(raw),
            role: ROLE.get(raw),
        }
    }

    fn moving(&self) -> bool {
        self.school.is_some() || self.district.is_some() || self.role.is_some()
    }
}

async fn edit_user(app: &App, actor: &Actor, inv: &Invocation, options: Options<'_>) -> Reply {
    let raw = options.user;
    let who = match target_or_refuse(app, actor, inv, Action::UserEdit, raw).await {
        Ok(user) => user,
        Err(reply) => return reply,
    };
    if options.moving() {
        return moves::move_user(app, actor, inv, &who, &options).await;
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
    Reply::modal(form::modal(&who, &fields))
}
