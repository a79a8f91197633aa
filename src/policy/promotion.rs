//! Promotion requests (teacher -> school admin): a teacher may ask for their own
//! promotion, an admin for a teacher they can see. Support decides.

use super::visibility::sees;
use super::{Decision, Denial, Subject};
use crate::directory::Role;

pub fn can_request_promotion(actor: &Subject, teacher: &Subject) -> Decision {
    if actor.disabled {
        return Decision::deny(Denial::ActorDisabled);
    }
    if !sees(actor, teacher) {
        return Decision::deny(Denial::NoSuchUser);
    }
    if teacher.role != Role::Teacher {
        return Decision::deny(Denial::NotATeacher);
    }
    match actor.role {
        Role::Student => Decision::deny(Denial::StudentsCannotRequest),
        Role::Teacher => Decision::allow_if(actor.is(teacher), Denial::PromotionOnlyForSelf),
        Role::SchoolAdmin | Role::DistrictAdmin => Decision::Allow,
    }
}
