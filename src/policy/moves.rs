//! Moving users around the hierarchy, and switching admins between school and district.
//!
//! | change                          | who may do it                         | limits                                   |
//! |---------------------------------|---------------------------------------|------------------------------------------|
//! | student to another school       | any educator who may edit the student | destination in the actor's district      |
//! | teacher to another school       | district admins                       | destination in the actor's district      |
//! | school admin to another school  | district admins                       | destination in the actor's district      |
//! | school admin -> district admin  | district admins                       | stays in the actor's district            |
//! | district admin -> school admin  | district admins                       | a school in the actor's district         |
//! | district admin to another district | district admins                    | destination in the same tenant           |
//! | teacher -> school admin         | nobody directly                       | only through an approved promotion       |
//! | student or teacher -> any admin | nobody directly                       |                                          |
//!
//! Anything else is decided by the two principles: nobody grants more than they
//! hold, and nobody changes their own place (nor removes the last district admin).
//!
//! **The last district admin.** Only *enabled* district admins count: a
//! disabled district admin cannot act (every request of a disabled actor is
//! refused), so a district whose only other district admin is disabled is a
//! district with one admin. Moving or switching a disabled district admin never
//! takes an admin away from a district, so it is never refused for this reason.
//! The check here answers the actor at once; `Store::move_user` repeats it in
//! the transaction that makes the change, so two district admins demoting each
//! other at the same moment cannot both succeed.

use super::edit::can_edit;
use super::{Decision, Denial, Subject};
use crate::directory::{Place, Role};

/// Where the target would end up: the new role and the new place. The caller
/// resolves the destination school's district from the directory of the same tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceChange {
    pub role: Role,
    pub place: Place,
}

/// May `actor` give `target` the role and place in `to`?
///
/// `other_district_admins` counts the enabled district admins of the target's
/// current district other than the target; it is read only when the target is
/// an enabled district admin.
pub fn can_change_place(
    actor: &Subject,
    target: &Subject,
    to: &PlaceChange,
    other_district_admins: u32,
) -> Decision {
    if let Decision::Deny(denial) = can_edit(actor, target) {
        return Decision::deny(denial);
    }
    if actor.is(target) {
        return Decision::deny(Denial::OwnPlace);
    }
    if let Some(denial) = role_change_denial(target.role, to.role) {
        return Decision::deny(denial);
    }
    if !to.place.fits(to.role) {
        return Decision::deny(Denial::PlaceDoesNotFitRole { role: to.role });
    }
    if to.role == target.role && to.place == target.place {
        return Decision::Allow; // nothing moves
    }
    let student_move = target.role == Role::Student && to.role == Role::Student;
    if !student_move && actor.role != Role::DistrictAdmin {
        return Decision::deny(Denial::OnlyDistrictAdmins {
            what: DistrictAdminsOnly::of_move(target.role, to.role).what(),
        });
    }
    // A district admin may send another district admin to any district of the
    // tenant; every other destination lies in the actor's own district.
    let cross_district_allowed =
        target.role == Role::DistrictAdmin && to.role == Role::DistrictAdmin;
    if !cross_district_allowed && to.place.district() != actor.place.district() {
        return Decision::deny(Denial::DestinationOutsideDistrict);
    }
    let leaves_district_admins = target.role == Role::DistrictAdmin
        && !target.disabled
        && (to.role != Role::DistrictAdmin || to.place.district() != target.place.district());
    Decision::allow_if(
        !leaves_district_admins || other_district_admins > 0,
        Denial::LastDistrictAdmin,
    )
}

/// Role switches that nobody may make directly, whoever asks.
fn role_change_denial(from: Role, to: Role) -> Option<Denial> {
    use Role::*;
    match (from, to) {
        _ if from == to => None,
        (SchoolAdmin, DistrictAdmin) | (DistrictAdmin, SchoolAdmin) => None,
        (Teacher, SchoolAdmin) => Some(Denial::PromotionOnlyThroughSupport),
        (Student | Teacher, SchoolAdmin | DistrictAdmin) => Some(Denial::NoDirectAdminGrant),
        _ => Some(Denial::UnsupportedRoleChange { from, to }),
    }
}

/// The changes of place or role only district admins make, named once for
/// both ways to ask for them (a move here, a field edit in `edit.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DistrictAdminsOnly {
    TeacherToAnotherSchool,
    SchoolAdminToAnotherSchool,
    DistrictAdminToAnotherDistrict,
    AdminRoleSwitch,
}

impl DistrictAdminsOnly {
    fn of_move(from: Role, to: Role) -> Self {
        match (from, to) {
            (Role::Teacher, _) => Self::TeacherToAnotherSchool,
            (Role::SchoolAdmin, Role::SchoolAdmin) => Self::SchoolAdminToAnotherSchool,
            (Role::DistrictAdmin, Role::DistrictAdmin) => Self::DistrictAdminToAnotherDistrict,
            _ => Self::AdminRoleSwitch,
        }
    }

    /// What only district admins may do, as the refusal says it.
    pub(super) fn what(self) -> &'static str {
        match self {
            Self::TeacherToAnotherSchool => "move a teacher to another school",
            Self::SchoolAdminToAnotherSchool => "move a school admin to another school",
            Self::DistrictAdminToAnotherDistrict => "move a district admin to another district",
            Self::AdminRoleSwitch => "switch someone between school admin and district admin",
        }
    }
}
