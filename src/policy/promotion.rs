//! Promotion requests (teacher -> school admin): a teacher may ask for their own
//! promotion, an admin for a teacher they can see. Support decides; an
//! approval applies only to the teacher the request was about, as they were:
//! still an enabled teacher at the school named in the request.

use super::visibility::sees;
use super::{Decision, Denial, Subject};
use crate::directory::{Role, SchoolId, User};

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

/// Why support's approval cannot apply to the teacher as they are now (the
/// record is gone, disabled, no longer a teacher, or at another school than
/// the request named); `None` when it can.
pub fn approval_obstacle(teacher: Option<&User>, requested_school: SchoolId) -> Option<String> {
    let Some(teacher) = teacher else {
        return Some("the teacher's record no longer exists".into());
    };
    let name = teacher.display_name();
    if teacher.disabled {
        return Some(format!("{name}'s account is disabled"));
    }
    match teacher.role {
        Role::Teacher => {}
        Role::SchoolAdmin => return Some(format!("{name} is already a school admin")),
        role => return Some(format!("{name} is now a {}, not a teacher", role.label())),
    }
    if teacher.place.school() != Some(requested_school) {
        return Some(format!(
            "{name} has moved to another school since the request was made"
        ));
    }
    None
}
