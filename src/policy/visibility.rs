//! Visibility: whom an actor can find, see and name.
//!
//! | actor \ target  | student       | teacher       | school_admin  | district_admin |
//! |-----------------|---------------|---------------|---------------|----------------|
//! | student         | self          | -             | -             | -              |
//! | teacher         | same school   | self          | -             | -              |
//! | school_admin    | same school   | same school   | same school   | -              |
//! | district_admin  | same district | same district | same district | same district  |

use super::{Decision, Denial, Subject};
use crate::directory::Role;

pub fn can_see(actor: &Subject, target: &Subject) -> Decision {
    if actor.disabled {
        return Decision::deny(Denial::ActorDisabled);
    }
    Decision::allow_if(sees(actor, target), Denial::NoSuchUser)
}

pub(crate) fn sees(actor: &Subject, target: &Subject) -> bool {
    if actor.tenant != target.tenant {
        return false;
    }
    use Role::*;
    match (actor.role, target.role) {
        (Student, _) | (Teacher, Teacher) => actor.is(target),
        (Teacher, Student) => actor.same_school(target),
        (Teacher, _) => false,
        (SchoolAdmin, DistrictAdmin) => false,
        (SchoolAdmin, _) => actor.same_school(target),
        (DistrictAdmin, _) => actor.same_district(target),
    }
}
