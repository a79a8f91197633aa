//! The visibility table, cell by cell: whom an actor can find, see and name.
//!
//! | actor \ target  | student       | teacher       | school_admin  | district_admin |
//! |-----------------|---------------|---------------|---------------|----------------|
//! | student         | self          | -             | -             | -              |
//! | teacher         | same school   | self          | -             | -              |
//! | school_admin    | same school   | same school   | same school   | -              |
//! | district_admin  | same district | same district | same district | same district  |
//!
//! Each "same school" cell is a case for the same school (seen) and for another
//! school of the same district (not seen); each "same district" cell for both
//! schools of the district (seen) and for another district (not seen); each
//! "self" cell for the actor and for another user of the same role at the same
//! place; each "-" cell for the nearest target there is (not seen).

use super::*;

cases! { can_see;
    // student row
    a_student_sees_themselves:
        student(A1) => Itself, ALLOW;
    a_student_does_not_see_another_student_of_the_same_school:
        student(A1) => student(A1), HIDDEN;
    a_student_does_not_see_a_teacher_of_the_same_school:
        student(A1) => teacher(A1), HIDDEN;
    a_student_does_not_see_a_school_admin_of_the_same_school:
        student(A1) => school_admin(A1), HIDDEN;
    a_student_does_not_see_a_district_admin_of_the_same_district:
        student(A1) => district_admin(A), HIDDEN;

    // teacher row
    a_teacher_sees_a_student_of_the_same_school:
        teacher(A1) => student(A1), ALLOW;
    a_teacher_does_not_see_a_student_of_another_school_in_the_same_district:
        teacher(A1) => student(A2), HIDDEN;
    a_teacher_does_not_see_a_student_of_another_district:
        teacher(A1) => student(B1), HIDDEN;
    a_teacher_sees_themselves:
        teacher(A1) => Itself, ALLOW;
    a_teacher_does_not_see_another_teacher_of_the_same_school:
        teacher(A1) => teacher(A1), HIDDEN;
    a_teacher_does_not_see_a_school_admin_of_the_same_school:
        teacher(A1) => school_admin(A1), HIDDEN;
    a_teacher_does_not_see_a_district_admin_of_the_same_district:
        teacher(A1) => district_admin(A), HIDDEN;

    // school admin row
    a_school_admin_sees_a_student_of_the_same_school:
        school_admin(A1) => student(A1), ALLOW;
    a_school_admin_does_not_see_a_student_of_another_school_in_the_same_district:
        school_admin(A1) => student(A2), HIDDEN;
    a_school_admin_does_not_see_a_student_of_another_district:
        school_admin(A1) => student(B1), HIDDEN;
    a_school_admin_sees_a_teacher_of_the_same_school:
        school_admin(A1) => teacher(A1), ALLOW;
    a_school_admin_does_not_see_a_teacher_of_another_school_in_the_same_district:
        school_admin(A1) => teacher(A2), HIDDEN;
    a_school_admin_does_not_see_a_teacher_of_another_district:
        school_admin(A1) => teacher(B1), HIDDEN;
    a_school_admin_sees_themselves:
        school_admin(A1) => Itself, ALLOW;
    a_school_admin_sees_another_school_admin_of_the_same_school:
        school_admin(A1) => school_admin(A1), ALLOW;
    a_school_admin_does_not_see_a_school_admin_of_another_school_in_the_same_district:
        school_admin(A1) => school_admin(A2), HIDDEN;
    a_school_admin_does_not_see_a_school_admin_of_another_district:
        school_admin(A1) => school_admin(B1), HIDDEN;
    a_school_admin_does_not_see_a_district_admin_of_the_same_district:
        school_admin(A1) => district_admin(A), HIDDEN;

    // district admin row
    a_district_admin_sees_a_student_of_a_school_in_the_same_district:
        district_admin(A) => student(A1), ALLOW;
    a_district_admin_sees_a_student_of_another_school_in_the_same_district:
        district_admin(A) => student(A2), ALLOW;
    a_district_admin_does_not_see_a_student_of_another_district:
        district_admin(A) => student(B1), HIDDEN;
    a_district_admin_sees_a_teacher_of_a_school_in_the_same_district:
        district_admin(A) => teacher(A1), ALLOW;
    a_district_admin_sees_a_teacher_of_another_school_in_the_same_district:
        district_admin(A) => teacher(A2), ALLOW;
    a_district_admin_does_not_see_a_teacher_of_another_district:
        district_admin(A) => teacher(B1), HIDDEN;
    a_district_admin_sees_a_school_admin_of_a_school_in_the_same_district:
        district_admin(A) => school_admin(A1), ALLOW;
    a_district_admin_sees_a_school_admin_of_another_school_in_the_same_district:
        district_admin(A) => school_admin(A2), ALLOW;
    a_district_admin_does_not_see_a_school_admin_of_another_district:
        district_admin(A) => school_admin(B1), HIDDEN;
    a_district_admin_sees_themselves:
        district_admin(A) => Itself, ALLOW;
    a_district_admin_sees_another_district_admin_of_the_same_district:
        district_admin(A) => district_admin(A), ALLOW;
    a_district_admin_does_not_see_a_district_admin_of_another_district:
        district_admin(A) => district_admin(B), HIDDEN;
}
