//! The answer to every policy question.

use std::fmt;

use crate::directory::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    Allow,
    Deny(Denial),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow)
    }

    /// `Ok(())` for `Allow`, so callers can use `?`.
    pub fn into_result(self) -> Result<(), Denial> {
        match self {
            Self::Allow => Ok(()),
            Self::Deny(denial) => Err(denial),
        }
    }

    pub(crate) fn deny(denial: Denial) -> Self {
        Self::Deny(denial)
    }

    /// `Allow` when `ok`, else the given denial.
    pub(crate) fn allow_if(ok: bool, denial: Denial) -> Self {
        if ok { Self::Allow } else { Self::Deny(denial) }
    }
}

/// Why a request was refused. `Display` is the sentence shown to the person who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The target does not exist *or* the actor cannot see it: the two are one answer.
    NoSuchUser,
    /// The class does not exist *or* the actor may not act on it: one answer, as for users.
    NoSuchClass,
    ActorDisabled,
    /// The actor can see the record but their role may not edit it.
    RecordNotEditable {
        actor: Role,
        target: Role,
        own_record: bool,
    },
    /// The target's role has no such field.
    FieldNotOnRole {
        field: &'static str,
        target: Role,
    },
    /// Only district admins may make this move.
    OnlyDistrictAdmins {
        what: &'static str,
    },
    DestinationOutsideDistrict,
    OwnPlace,
    LastDistrictAdmin,
    PromotionOnlyThroughSupport,
    NoDirectAdminGrant,
    UnsupportedRoleChange {
        from: Role,
        to: Role,
    },
    /// The destination does not have the shape the new role needs (a school admin needs a school).
    PlaceDoesNotFitRole {
        role: Role,
    },
    NotATeacher,
    PromotionOnlyForSelf,
    StudentsCannotRequest,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchUser => f.write_str("No user you can manage matches that."),
            Self::NoSuchClass => f.write_str("No class you can manage matches that."),
            Self::ActorDisabled => f.write_str(
                "Your account is disabled, so hallpass can't act for you. Ask your school admin.",
            ),
            Self::RecordNotEditable { actor, own_record: true, .. } => write!(
                f,
                "A {} can't edit their own record here; ask {} to change it. You can still reset your own password.",
                actor.label(),
                if *actor == Role::Student { "a teacher" } else { "an admin at your school" }
            ),
            Self::RecordNotEditable { actor: Role::Student, .. } => {
                f.write_str("Students can only reset their own password.")
            }
            Self::RecordNotEditable { actor: Role::Teacher, target, .. } => write!(
                f,
                "Teachers can edit student records only; a {} record is changed by an admin.",
                target.label()
            ),
            Self::RecordNotEditable { actor, target, .. } => write!(
                f,
                "A {} can't edit a {} record.",
                actor.label(),
                target.label()
            ),
            Self::FieldNotOnRole { field, target } => {
                write!(f, "A {} record has no {field} to change.", target.label())
            }
            Self::OnlyDistrictAdmins { what } => {
                write!(f, "Only a district admin can {what}.")
            }
            Self::DestinationOutsideDistrict => {
                f.write_str("That destination is outside your district; you can only move people within it.")
            }
            Self::OwnPlace => f.write_str(
                "Nobody changes their own role, school or district; ask another admin of your district.",
            ),
            Self::LastDistrictAdmin => f.write_str(
                "That is the last district admin of the district. Make someone else a district admin there first.",
            ),
            Self::PromotionOnlyThroughSupport => f.write_str(
                "A teacher becomes a school admin only through a promotion request that support approves: use /promote-request.",
            ),
            Self::NoDirectAdminGrant => f.write_str(
                "Students and teachers can't be given an admin role directly. A teacher can be promoted with /promote-request.",
            ),
            Self::UnsupportedRoleChange { from, to } => write!(
                f,
                "hallpass can't change a {} into a {}; it only switches admins between school admin and district admin. Other role changes come from your roster system.",
                from.label(),
                to.label()
            ),
            Self::PlaceDoesNotFitRole { role: Role::DistrictAdmin } => {
                f.write_str("A district admin belongs to a district, not a school: name a district.")
            }
            Self::PlaceDoesNotFitRole { role } => {
                write!(f, "A {} belongs to a school: name a school in your district.", role.label())
            }
            Self::NotATeacher => {
                f.write_str("Only a teacher can be promoted to school admin.")
            }
            Self::PromotionOnlyForSelf => f.write_str(
                "Teachers can request a promotion only for themselves; an admin can request one for a teacher.",
            ),
            Self::StudentsCannotRequest => {
                f.write_str("Students can't request promotions.")
            }
        }
    }
}

impl std::error::Error for Denial {}
