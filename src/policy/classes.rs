//! PLACEHOLDER (replaced by merge of `classes`).

use crate::directory::{Class, DistrictId, Role, SchoolId, UserId};

use super::{Decision, Denial, Subject};

pub enum ClassScope {
    Taught { teacher: UserId },
    School(SchoolId),
    District(DistrictId),
    Nothing,
}

pub fn class_scope(actor: &Subject) -> ClassScope {
    if actor.disabled {
        return ClassScope::Nothing;
    }
    match (actor.role, actor.place.school()) {
        (Role::Teacher, _) => ClassScope::Taught { teacher: actor.id },
        (Role::SchoolAdmin, Some(school)) => ClassScope::School(school),
        (Role::DistrictAdmin, _) => ClassScope::District(actor.place.district()),
        _ => ClassScope::Nothing,
    }
}

pub fn can_see_class(actor: &Subject, class: &Class, teaches: bool) -> Decision {
    let ok = actor.tenant == class.tenant_id
        && match class_scope(actor) {
            ClassScope::Taught { .. } => teaches,
            ClassScope::School(s) => s == class.school_id,
            ClassScope::District(d) => d == class.district_id,
            ClassScope::Nothing => false,
        };
    Decision::allow_if(ok, Denial::NoSuchUser)
}
