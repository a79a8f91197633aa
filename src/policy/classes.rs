//! Classes: whose classes an actor may act on as a whole (issue 11, "What
//! autocomplete offers"; policy.md "Classes and login cards").
//!
//! Promise: a teacher reaches the classes they teach (enrolled as teacher), a
//! school admin their school's classes, a district admin their district's;
//! students and disabled actors reach none, and nothing crosses tenants.
//! [`class_scope`] is the search form of the rule and [`can_see_class`] decides
//! one class; a class the scope does not cover is never allowed. A class the
//! actor may not reach is answered like a class that does not exist.

use super::{Decision, Denial, Subject};
use crate::directory::{Class, DistrictId, Role, SchoolId, UserId};

/// Whose classes an actor may print cards for (issue 11 "What autocomplete offers").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassScope {
    /// The classes `teacher` is enrolled in as teacher.
    Taught { teacher: UserId },
    /// Every class of the school.
    School(SchoolId),
    /// Every class of the district's schools.
    District(DistrictId),
    /// None at all.
    Nothing,
}

/// The classes `actor` may act on, as a search can ask the database for them.
/// Disabled actors and students get [`ClassScope::Nothing`].
pub fn class_scope(actor: &Subject) -> ClassScope {
    if actor.disabled {
        return ClassScope::Nothing;
    }
    match actor.role {
        Role::Student => ClassScope::Nothing,
        Role::Teacher => ClassScope::Taught { teacher: actor.id },
        Role::SchoolAdmin => actor
            .place
            .school()
            .map_or(ClassScope::Nothing, ClassScope::School),
        Role::DistrictAdmin => ClassScope::District(actor.place.district()),
    }
}

/// Whether `actor` may see (and so act on) `class`. `teaches` is whether the
/// actor is enrolled in it as teacher (the store's `teaches`); only a
/// teacher's answer depends on it. The tenant is checked here.
pub fn can_see_class(actor: &Subject, class: &Class, teaches: bool) -> Decision {
    if actor.disabled {
        return Decision::deny(Denial::ActorDisabled);
    }
    if actor.tenant != class.tenant_id {
        return Decision::deny(Denial::NoSuchClass);
    }
    let sees = match class_scope(actor) {
        ClassScope::Taught { .. } => teaches,
        ClassScope::School(school) => class.school_id == school,
        ClassScope::District(district) => class.district_id == district,
        ClassScope::Nothing => false,
    };
    Decision::allow_if(sees, Denial::NoSuchClass)
}
