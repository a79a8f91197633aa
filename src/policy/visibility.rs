//! Visibility: whom an actor can find, see and name.
//!
//! | actor \ target  | student       | teacher       | school_admin  | district_admin |
//! |-----------------|---------------|---------------|---------------|----------------|
//! | student         | self          | -             | -             | -              |
//! | teacher         | same school   | self          | -             | -              |
//! | school_admin    | same school   | same school   | same school   | -              |
//! | district_admin  | same district | same district | same district | same district  |

use super::{Decision, Denial, Subject};
use crate::directory::{DistrictId, Place, Role, SchoolId};

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

/// Where the people an actor can see are, so a search can ask the database
/// for just them. `can_see` still decides every result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchArea {
    School(SchoolId),
    District(DistrictId),
    /// Only the actor themself.
    OnlySelf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisibleSet {
    pub area: SearchArea,
    /// The roles visible inside the area.
    pub roles: &'static [Role],
    /// The actor sees themself even though their role is not in `roles`.
    pub plus_self: bool,
}

/// The search form of the visibility table.
pub fn visible_set(actor: &Subject) -> VisibleSet {
    use Role::*;
    let school = match actor.place {
        Place::School { school, .. } => SearchArea::School(school),
        Place::District { .. } => SearchArea::OnlySelf,
    };
    match actor.role {
        Student => VisibleSet {
            area: SearchArea::OnlySelf,
            roles: &[],
            plus_self: true,
        },
        Teacher => VisibleSet {
            area: school,
            roles: &[Student],
            plus_self: true,
        },
        SchoolAdmin => VisibleSet {
            area: school,
            roles: &[Student, Teacher, SchoolAdmin],
            plus_self: false,
        },
        DistrictAdmin => VisibleSet {
            area: SearchArea::District(actor.place.district()),
            roles: &[Student, Teacher, SchoolAdmin, DistrictAdmin],
            plus_self: false,
        },
    }
}
