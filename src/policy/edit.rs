//! Editing a record (names, title, grade, email/username, password).
//!
//! | actor \ target  | student       | teacher       | school_admin  | district_admin |
//! |-----------------|---------------|---------------|---------------|----------------|
//! | teacher         | same school   | -             | -             | -              |
//! | school_admin    | same school   | same school   | same school   | -              |
//! | district_admin  | same district | same district | same district | same district  |
//!
//! Fields each target role has come from the platform's own editor; school,
//! district and role are "place" fields whose changes also pass [`super::can_change_place`].

use std::fmt;

use super::moves::DistrictAdminsOnly;
use super::visibility::sees;
use super::{Decision, Denial, Subject};
use crate::directory::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FirstName,
    LastName,
    Title,
    Grade,
    /// "email/username": the login name.
    Login,
    Password,
    School,
    District,
    Role,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::FirstName,
        Field::LastName,
        Field::Title,
        Field::Grade,
        Field::Login,
        Field::Password,
        Field::School,
        Field::District,
        Field::Role,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Self::FirstName => "first name",
            Self::LastName => "last name",
            Self::Title => "title",
            Self::Grade => "grade",
            Self::Login => "email/username",
            Self::Password => "password",
            Self::School => "school",
            Self::District => "district",
            Self::Role => "role",
        }
    }

    /// Whether the field moves the user in the hierarchy.
    pub fn is_place(&self) -> bool {
        matches!(self, Self::School | Self::District | Self::Role)
    }

    /// The fields a record of this role has.
    pub fn of_role(role: Role) -> &'static [Field] {
        // Not `Field::*`: its `Role` variant would shadow the `Role` enum matched on here.
        use Field::{District, FirstName, Grade, LastName, Login, Password, School, Title};
        match role {
            Role::Student => &[FirstName, LastName, School, Grade, Login, Password],
            Role::Teacher => &[FirstName, LastName, Title, Login, Password, School],
            Role::SchoolAdmin => &[
                FirstName,
                LastName,
                Title,
                Login,
                Password,
                School,
                Field::Role,
            ],
            Role::DistrictAdmin => &[
                FirstName,
                LastName,
                Title,
                Login,
                Password,
                District,
                Field::Role,
            ],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The right to edit a record at all.
pub fn can_edit(actor: &Subject, target: &Subject) -> Decision {
    if actor.disabled {
        return Decision::deny(Denial::ActorDisabled);
    }
    if !sees(actor, target) {
        return Decision::deny(Denial::NoSuchUser);
    }
    use Role::*;
    let allowed = match (actor.role, target.role) {
        (Student, _) => false,
        (Teacher, Student) => actor.same_school(target),
        (Teacher, _) => false,
        (SchoolAdmin, DistrictAdmin) => false,
        (SchoolAdmin, _) => actor.same_school(target),
        (DistrictAdmin, _) => actor.same_district(target),
    };
    Decision::allow_if(
        allowed,
        Denial::RecordNotEditable {
            actor: actor.role,
            target: target.role,
            own_record: actor.is(target),
        },
    )
}

/// The right to change one field of a record.
pub fn can_edit_field(actor: &Subject, target: &Subject, field: Field) -> Decision {
    if let Decision::Deny(denial) = can_edit(actor, target) {
        return Decision::deny(denial);
    }
    if !Field::of_role(target.role).contains(&field) {
        return Decision::deny(Denial::FieldNotOnRole {
            field: field.label(),
            target: target.role,
        });
    }
    if !field.is_place() {
        return Decision::Allow;
    }
    if actor.is(target) {
        return Decision::deny(Denial::OwnPlace);
    }
    // Only a student's school is open to every educator who may edit them; every
    // other move or role switch is the district admins' (see moves.rs).
    let open_to_all_editors = field == Field::School && target.role == Role::Student;
    Decision::allow_if(
        open_to_all_editors || actor.role == Role::DistrictAdmin,
        Denial::OnlyDistrictAdmins {
            what: district_admins_only(field, target.role).what(),
        },
    )
}

fn district_admins_only(field: Field, target: Role) -> DistrictAdminsOnly {
    match (field, target) {
        (Field::School, Role::Teacher) => DistrictAdminsOnly::TeacherToAnotherSchool,
        (Field::School, _) => DistrictAdminsOnly::SchoolAdminToAnotherSchool,
        (Field::District, _) => DistrictAdminsOnly::DistrictAdminToAnotherDistrict,
        _ => DistrictAdminsOnly::AdminRoleSwitch,
    }
}

/// The fields of `target` that `actor` may change: what the edit modal offers.
pub fn editable_fields(actor: &Subject, target: &Subject) -> Vec<Field> {
    Field::of_role(target.role)
        .iter()
        .copied()
        .filter(|field| can_edit_field(actor, target, *field).is_allowed())
        .collect()
}

/// Resetting a password: self-service for everyone, otherwise the right to edit the record.
pub fn can_reset_password(actor: &Subject, target: &Subject) -> Decision {
    if actor.disabled {
        return Decision::deny(Denial::ActorDisabled);
    }
    if actor.is(target) && actor.tenant == target.tenant {
        return Decision::Allow;
    }
    can_edit_field(actor, target, Field::Password)
}

/// Anyone who may edit a user may issue a link code for them.
pub fn can_issue_link_code(actor: &Subject, target: &Subject) -> Decision {
    can_edit(actor, target)
}
