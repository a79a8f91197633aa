//! The moves table, row by row: each row allowed, then each of its limits broken.
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
//! Unless a case is about the last district admin, the target's district has
//! two district admins.

use super::*;
use Role::*;

/// One test per row: `name: actor => target, change, expected;` asserts
/// `can_change_place(&actor, &target, &change, 2) == expected`.
macro_rules! moves {
    ($( $name:ident: $actor:expr => $target:expr, $change:expr, $expected:expr; )*) => {$(
        #[test]
        fn $name() {
            let (actor, target): (Subject, Subject) = ($actor, $target);
            assert_eq!(can_change_place(&actor, &target, &$change, 2), $expected);
        }
    )*};
}

fn only_district_admins(what: &'static str) -> Decision {
    deny(Denial::OnlyDistrictAdmins { what })
}

const OUTSIDE: Decision = Decision::Deny(Denial::DestinationOutsideDistrict);

moves! {
    // student to another school: any educator who may edit the student,
    // destination in the actor's district
    a_teacher_moves_a_student_of_their_school_to_another_school_in_their_district:
        teacher(A1) => student(A1), to(Student, A2), ALLOW;
    a_school_admin_moves_a_student_of_their_school_to_another_school_in_their_district:
        school_admin(A1) => student(A1), to(Student, A2), ALLOW;
    a_district_admin_moves_a_student_to_another_school_in_their_district:
        district_admin(A) => student(A1), to(Student, A2), ALLOW;
    a_teacher_cannot_move_a_student_outside_their_district:
        teacher(A1) => student(A1), to(Student, B1), OUTSIDE;
    a_school_admin_cannot_move_a_student_outside_their_district:
        school_admin(A1) => student(A1), to(Student, B1), OUTSIDE;
    a_district_admin_cannot_move_a_student_outside_their_district:
        district_admin(A) => student(A1), to(Student, B1), OUTSIDE;
    a_student_cannot_be_moved_to_a_school_of_another_tenant:
        district_admin(A) => student(A1), to(Student, C1), OUTSIDE;
    a_teacher_cannot_move_a_student_they_may_not_edit:
        teacher(A2) => student(A1), to(Student, A2), HIDDEN;
    a_student_cannot_move_another_student:
        student(A1) => student(A1), to(Student, A2), HIDDEN;
    a_student_belongs_to_a_school_not_a_district:
        teacher(A1) => student(A1), to(Student, A), deny(Denial::PlaceDoesNotFitRole { role: Student });

    // teacher to another school: district admins, destination in the actor's district
    a_district_admin_moves_a_teacher_to_another_school_in_their_district:
        district_admin(A) => teacher(A1), to(Teacher, A2), ALLOW;
    a_district_admin_cannot_move_a_teacher_outside_their_district:
        district_admin(A) => teacher(A1), to(Teacher, B1), OUTSIDE;
    a_school_admin_cannot_move_a_teacher_of_their_school:
        school_admin(A1) => teacher(A1), to(Teacher, A2),
        only_district_admins("move a teacher to another school");
    a_teacher_cannot_move_another_teacher:
        teacher(A1) => teacher(A1), to(Teacher, A2), HIDDEN;

    // school admin to another school: district admins, destination in the actor's district
    a_district_admin_moves_a_school_admin_to_another_school_in_their_district:
        district_admin(A) => school_admin(A1), to(SchoolAdmin, A2), ALLOW;
    a_district_admin_cannot_move_a_school_admin_outside_their_district:
        district_admin(A) => school_admin(A1), to(SchoolAdmin, B1), OUTSIDE;
    a_school_admin_cannot_move_another_school_admin_of_their_school:
        school_admin(A1) => school_admin(A1), to(SchoolAdmin, A2),
        only_district_admins("move a school admin to another school");

    // school admin -> district admin: district admins, stays in the actor's district
    a_district_admin_makes_a_school_admin_a_district_admin_of_their_district:
        district_admin(A) => school_admin(A1), to(DistrictAdmin, A), ALLOW;
    a_district_admin_cannot_make_a_school_admin_a_district_admin_of_another_district:
        district_admin(A) => school_admin(A1), to(DistrictAdmin, B), OUTSIDE;
    a_school_admin_cannot_make_another_school_admin_a_district_admin:
        school_admin(A1) => school_admin(A1), to(DistrictAdmin, A),
        only_district_admins("switch someone between school admin and district admin");
    a_school_admin_made_district_admin_belongs_to_a_district_not_a_school:
        district_admin(A) => school_admin(A1), to(DistrictAdmin, A1),
        deny(Denial::PlaceDoesNotFitRole { role: DistrictAdmin });

    // district admin -> school admin: district admins, a school in the actor's district must be named
    a_district_admin_makes_another_district_admin_a_school_admin_of_a_school_in_their_district:
        district_admin(A) => district_admin(A), to(SchoolAdmin, A2), ALLOW;
    a_district_admin_made_school_admin_needs_a_school_not_a_district:
        district_admin(A) => district_admin(A), to(SchoolAdmin, A),
        deny(Denial::PlaceDoesNotFitRole { role: SchoolAdmin });
    a_district_admin_made_school_admin_needs_a_school_in_the_actors_district:
        district_admin(A) => district_admin(A), to(SchoolAdmin, B1), OUTSIDE;

    // district admin to another district: district admins, destination in the same tenant
    a_district_admin_moves_another_district_admin_to_another_district_of_the_same_tenant:
        district_admin(A) => district_admin(A), to(DistrictAdmin, B), ALLOW;
    a_school_admin_cannot_move_a_district_admin:
        school_admin(A1) => district_admin(A), to(DistrictAdmin, B), HIDDEN;
    a_district_admin_cannot_move_a_district_admin_of_another_district:
        district_admin(A) => district_admin(B), to(DistrictAdmin, A), HIDDEN;

    // teacher -> school admin: nobody directly, only through a promotion request
    teacher_to_school_admin_is_nobody_directly_only_through_a_promotion_request:
        district_admin(A) => teacher(A1), to(SchoolAdmin, A1),
        deny(Denial::PromotionOnlyThroughSupport);
    teacher_to_school_admin_is_not_for_their_school_admin_either:
        school_admin(A1) => teacher(A1), to(SchoolAdmin, A1),
        deny(Denial::PromotionOnlyThroughSupport);

    // student or teacher -> any admin role: nobody directly
    a_student_is_never_made_a_school_admin_directly:
        district_admin(A) => student(A1), to(SchoolAdmin, A1), deny(Denial::NoDirectAdminGrant);
    a_student_is_never_made_a_district_admin_directly:
        district_admin(A) => student(A1), to(DistrictAdmin, A), deny(Denial::NoDirectAdminGrant);
    a_teacher_is_never_made_a_district_admin_directly:
        district_admin(A) => teacher(A1), to(DistrictAdmin, A), deny(Denial::NoDirectAdminGrant);
    a_teacher_cannot_make_their_student_an_admin:
        teacher(A1) => student(A1), to(SchoolAdmin, A1), deny(Denial::NoDirectAdminGrant);

    // Not in the table. hallpass switches admins between school and district;
    // every other role change comes from the roster system.
    a_student_is_not_made_a_teacher_here:
        district_admin(A) => student(A1), to(Teacher, A1),
        deny(Denial::UnsupportedRoleChange { from: Student, to: Teacher });
    a_teacher_is_not_made_a_student_here:
        district_admin(A) => teacher(A1), to(Student, A1),
        deny(Denial::UnsupportedRoleChange { from: Teacher, to: Student });
    a_school_admin_is_not_made_a_teacher_here:
        district_admin(A) => school_admin(A1), to(Teacher, A1),
        deny(Denial::UnsupportedRoleChange { from: SchoolAdmin, to: Teacher });
    a_district_admin_is_not_made_a_teacher_here:
        district_admin(A) => district_admin(A), to(Teacher, A1),
        deny(Denial::UnsupportedRoleChange { from: DistrictAdmin, to: Teacher });

    // An edit form that sends the current place back moves nobody and is not refused.
    a_change_to_the_current_place_is_no_move:
        school_admin(A1) => teacher(A1), to(Teacher, A1), ALLOW;
}

#[test]
fn a_disabled_district_admin_moves_nobody() {
    let actor = disabled(district_admin(A));
    assert_eq!(
        can_change_place(&actor, &student(A1), &to(Student, A2), 2),
        deny(Denial::ActorDisabled)
    );
}
