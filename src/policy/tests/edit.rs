//! The editing table, cell by cell: the right to edit a record at all.
//!
//! | actor \ target  | student       | teacher       | school_admin  | district_admin |
//! |-----------------|---------------|---------------|---------------|----------------|
//! | teacher         | same school   | -             | -             | -              |
//! | school_admin    | same school   | same school   | same school   | -              |
//! | district_admin  | same district | same district | same district | same district  |
//!
//! A "-" cell is `NoSuchUser` where the actor cannot see the target (invisible is
//! nonexistent) and `RecordNotEditable` where the actor can: that only happens
//! for one's own record. Each case also checks the rights that follow the edit
//! right: resetting someone else's password and issuing them a link code.

use super::*;

/// `can_edit`, after checking that the password reset (for someone else) and
/// the link code agree with it.
fn edit_right(actor: &Subject, target: &Subject) -> Decision {
    let decision = can_edit(actor, target);
    assert_eq!(
        can_issue_link_code(actor, target),
        decision,
        "a link code follows the edit right"
    );
    if !actor.is(target) {
        assert_eq!(
            can_reset_password(actor, target),
            decision,
            "resetting someone's password needs the right to edit their record"
        );
    }
    decision
}

fn own_record_not_editable(role: Role) -> Decision {
    deny(Denial::RecordNotEditable {
        actor: role,
        target: role,
        own_record: true,
    })
}

cases! { edit_right;
    // teacher row
    a_teacher_edits_a_student_of_the_same_school:
        teacher(A1) => student(A1), ALLOW;
    a_teacher_cannot_edit_a_student_of_another_school_in_the_same_district:
        teacher(A1) => student(A2), HIDDEN;
    a_teacher_cannot_edit_a_student_of_another_district:
        teacher(A1) => student(B1), HIDDEN;
    a_teacher_cannot_edit_their_own_record:
        teacher(A1) => Itself, own_record_not_editable(Role::Teacher);
    a_teacher_cannot_edit_another_teacher_of_the_same_school:
        teacher(A1) => teacher(A1), HIDDEN;
    a_teacher_cannot_edit_a_school_admin_of_the_same_school:
        teacher(A1) => school_admin(A1), HIDDEN;
    a_teacher_cannot_edit_a_district_admin_of_the_same_district:
        teacher(A1) => district_admin(A), HIDDEN;

    // school admin row
    a_school_admin_edits_a_student_of_the_same_school:
        school_admin(A1) => student(A1), ALLOW;
    a_school_admin_cannot_edit_a_student_of_another_school_in_the_same_district:
        school_admin(A1) => student(A2), HIDDEN;
    a_school_admin_cannot_edit_a_student_of_another_district:
        school_admin(A1) => student(B1), HIDDEN;
    a_school_admin_edits_a_teacher_of_the_same_school:
        school_admin(A1) => teacher(A1), ALLOW;
    a_school_admin_cannot_edit_a_teacher_of_another_school_in_the_same_district:
        school_admin(A1) => teacher(A2), HIDDEN;
    a_school_admin_cannot_edit_a_teacher_of_another_district:
        school_admin(A1) => teacher(B1), HIDDEN;
    a_school_admin_edits_their_own_record:
        school_admin(A1) => Itself, ALLOW;
    a_school_admin_edits_another_school_admin_of_the_same_school:
        school_admin(A1) => school_admin(A1), ALLOW;
    a_school_admin_cannot_edit_a_school_admin_of_another_school_in_the_same_district:
        school_admin(A1) => school_admin(A2), HIDDEN;
    a_school_admin_cannot_edit_a_school_admin_of_another_district:
        school_admin(A1) => school_admin(B1), HIDDEN;
    a_school_admin_cannot_edit_a_district_admin_of_the_same_district:
        school_admin(A1) => district_admin(A), HIDDEN;

    // district admin row
    a_district_admin_edits_a_student_of_a_school_in_the_same_district:
        district_admin(A) => student(A1), ALLOW;
    a_district_admin_edits_a_student_of_another_school_in_the_same_district:
        district_admin(A) => student(A2), ALLOW;
    a_district_admin_cannot_edit_a_student_of_another_district:
        district_admin(A) => student(B1), HIDDEN;
    a_district_admin_edits_a_teacher_of_a_school_in_the_same_district:
        district_admin(A) => teacher(A1), ALLOW;
    a_district_admin_edits_a_teacher_of_another_school_in_the_same_district:
        district_admin(A) => teacher(A2), ALLOW;
    a_district_admin_cannot_edit_a_teacher_of_another_district:
        district_admin(A) => teacher(B1), HIDDEN;
    a_district_admin_edits_a_school_admin_of_a_school_in_the_same_district:
        district_admin(A) => school_admin(A1), ALLOW;
    a_district_admin_edits_a_school_admin_of_another_school_in_the_same_district:
        district_admin(A) => school_admin(A2), ALLOW;
    a_district_admin_cannot_edit_a_school_admin_of_another_district:
        district_admin(A) => school_admin(B1), HIDDEN;
    a_district_admin_edits_their_own_record:
        district_admin(A) => Itself, ALLOW;
    a_district_admin_edits_another_district_admin_of_the_same_district:
        district_admin(A) => district_admin(A), ALLOW;
    a_district_admin_cannot_edit_a_district_admin_of_another_district:
        district_admin(A) => district_admin(B), HIDDEN;

    // The student row is not in the table: students edit nobody, not even themselves.
    a_student_cannot_edit_their_own_record:
        student(A1) => Itself, own_record_not_editable(Role::Student);
    a_student_cannot_edit_another_student_of_the_same_school:
        student(A1) => student(A1), HIDDEN;
}

#[test]
fn a_link_code_follows_the_edit_right_for_every_pair() {
    let mut everyone = Vec::new();
    for role in Role::ALL {
        for &at in home_places(role) {
            everyone.push(user(role, at));
            everyone.push(user(role, at));
        }
    }
    for actor in &everyone {
        for target in everyone.iter().chain([actor]) {
            assert_eq!(
                can_issue_link_code(actor, target),
                can_edit(actor, target),
                "{actor:?} -> {target:?}"
            );
        }
    }
}
