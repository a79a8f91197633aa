//! Promotion requests (teacher -> school admin): a teacher may request their own
//! promotion; an admin may request it for a teacher they can see.

use super::*;

cases! { can_request_promotion;
    a_teacher_may_request_their_own_promotion:
        teacher(A1) => Itself, ALLOW;
    a_teacher_cannot_request_a_promotion_for_another_teacher_they_cannot_see:
        teacher(A1) => teacher(A1), HIDDEN;
    a_school_admin_may_request_a_promotion_for_a_teacher_of_their_school:
        school_admin(A1) => teacher(A1), ALLOW;
    a_school_admin_cannot_request_a_promotion_for_a_teacher_of_another_school:
        school_admin(A1) => teacher(A2), HIDDEN;
    a_district_admin_may_request_a_promotion_for_a_teacher_of_their_district:
        district_admin(A) => teacher(A2), ALLOW;
    a_district_admin_cannot_request_a_promotion_for_a_teacher_of_another_district:
        district_admin(A) => teacher(B1), HIDDEN;
    a_student_cannot_request_a_promotion_for_a_teacher_they_cannot_see:
        student(A1) => teacher(A1), HIDDEN;

    // Only a teacher is promoted.
    a_student_is_not_a_teacher_to_promote:
        school_admin(A1) => student(A1), deny(Denial::NotATeacher);
    a_school_admin_is_not_a_teacher_to_promote:
        district_admin(A) => school_admin(A1), deny(Denial::NotATeacher);
    a_district_admin_is_not_a_teacher_to_promote:
        district_admin(A) => district_admin(A), deny(Denial::NotATeacher);
    a_school_admin_cannot_request_their_own_promotion:
        school_admin(A1) => Itself, deny(Denial::NotATeacher);
    a_teacher_cannot_request_a_promotion_for_their_student:
        teacher(A1) => student(A1), deny(Denial::NotATeacher);
    a_student_cannot_request_their_own_promotion:
        student(A1) => Itself, deny(Denial::NotATeacher);
    a_disabled_teacher_cannot_request_their_own_promotion:
        disabled(teacher(A1)) => Itself, deny(Denial::ActorDisabled);
}
