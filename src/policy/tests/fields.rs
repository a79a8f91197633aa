//! The fields each target role has, and which of them an actor may change.
//!
//! | target role     | editable fields                                                          |
//! |-----------------|--------------------------------------------------------------------------|
//! | student         | first name, last name, school, grade, email/username, password           |
//! | teacher         | first name, last name, title, email/username, password (+ school)        |
//! | school_admin    | first name, last name, title, email/username, password, school, role     |
//! | district_admin  | first name, last name, title, email/username, password, district, role   |

use std::collections::HashSet;

use super::*;
use Field::{District, FirstName, Grade, LastName, Login, Password, School, Title};

fn set(fields: &[Field]) -> HashSet<Field> {
    fields.iter().copied().collect()
}

fn not_on(field: Field, target: Role) -> Decision {
    deny(Denial::FieldNotOnRole {
        field: field.label(),
        target,
    })
}

fn only_district_admins(what: &'static str) -> Decision {
    deny(Denial::OnlyDistrictAdmins { what })
}

/// For each of the nine fields, what a district admin of district A gets when
/// changing it on `target`: the district admin holds every right there is, so
/// what is refused is refused because the record has no such field.
fn assert_fields(target: Subject, expected: [(Field, Decision); 9]) {
    let actor = district_admin(A);
    assert_eq!(
        expected.iter().map(|(f, _)| *f).collect::<HashSet<_>>(),
        set(&Field::ALL),
        "the case names every field once"
    );
    for (field, decision) in expected {
        assert_eq!(
            can_edit_field(&actor, &target, field),
            decision,
            "{field} of a {}",
            target.role
        );
    }
}

#[test]
fn a_student_record_has_first_name_last_name_school_grade_email_username_and_password() {
    assert_eq!(
        set(Field::of_role(Role::Student)),
        set(&[FirstName, LastName, School, Grade, Login, Password])
    );
    let s = Role::Student;
    assert_fields(
        student(A1),
        [
            (FirstName, ALLOW),
            (LastName, ALLOW),
            (Title, not_on(Title, s)),
            (Grade, ALLOW),
            (Login, ALLOW),
            (Password, ALLOW),
            (School, ALLOW),
            (District, not_on(District, s)),
            (Field::Role, not_on(Field::Role, s)),
        ],
    );
}

#[test]
fn a_teacher_record_has_first_name_last_name_title_email_username_password_and_school() {
    assert_eq!(
        set(Field::of_role(Role::Teacher)),
        set(&[FirstName, LastName, Title, Login, Password, School])
    );
    let t = Role::Teacher;
    assert_fields(
        teacher(A1),
        [
            (FirstName, ALLOW),
            (LastName, ALLOW),
            (Title, ALLOW),
            (Grade, not_on(Grade, t)),
            (Login, ALLOW),
            (Password, ALLOW),
            (School, ALLOW),
            (District, not_on(District, t)),
            (Field::Role, not_on(Field::Role, t)),
        ],
    );
}

#[test]
fn a_school_admin_record_has_first_name_last_name_title_email_username_password_school_and_role() {
    assert_eq!(
        set(Field::of_role(Role::SchoolAdmin)),
        set(&[
            FirstName,
            LastName,
            Title,
            Login,
            Password,
            School,
            Field::Role
        ])
    );
    let sa = Role::SchoolAdmin;
    assert_fields(
        school_admin(A1),
        [
            (FirstName, ALLOW),
            (LastName, ALLOW),
            (Title, ALLOW),
            (Grade, not_on(Grade, sa)),
            (Login, ALLOW),
            (Password, ALLOW),
            (School, ALLOW),
            (District, not_on(District, sa)),
            (Field::Role, ALLOW),
        ],
    );
}

#[test]
fn a_district_admin_record_has_first_name_last_name_title_email_username_password_district_and_role()
 {
    assert_eq!(
        set(Field::of_role(Role::DistrictAdmin)),
        set(&[
            FirstName,
            LastName,
            Title,
            Login,
            Password,
            District,
            Field::Role
        ])
    );
    let da = Role::DistrictAdmin;
    assert_fields(
        district_admin(A),
        [
            (FirstName, ALLOW),
            (LastName, ALLOW),
            (Title, ALLOW),
            (Grade, not_on(Grade, da)),
            (Login, ALLOW),
            (Password, ALLOW),
            (School, not_on(School, da)),
            (District, ALLOW),
            (Field::Role, ALLOW),
        ],
    );
}

#[test]
fn email_and_username_are_one_field_the_login() {
    assert_eq!(Login.label(), "email/username");
    let logins = Field::ALL
        .iter()
        .filter(|f| f.label().contains("email"))
        .count();
    assert_eq!(logins, 1);
}

#[test]
fn a_field_a_role_lacks_is_refused_in_the_platforms_words() {
    let refusal = can_edit_field(&teacher(A1), &student(A1), Title);
    assert_eq!(refusal, not_on(Title, Role::Student));
    assert_eq!(
        refusal.into_result().map_err(|d| d.to_string()),
        Err("A student record has no title to change.".to_owned())
    );
}

/// `editable_fields(actor, target)` is exactly `expected` (as a set).
fn assert_editable(actor: &Subject, target: &Subject, expected: &[Field]) {
    assert_eq!(
        set(&editable_fields(actor, target)),
        set(expected),
        "{actor:?} -> {target:?}"
    );
}

#[test]
fn a_teacher_editing_a_student_gets_names_school_grade_login_and_password() {
    assert_editable(
        &teacher(A1),
        &student(A1),
        &[FirstName, LastName, School, Grade, Login, Password],
    );
}

#[test]
fn a_school_admin_editing_a_student_gets_every_field_of_the_student() {
    assert_editable(
        &school_admin(A1),
        &student(A1),
        &[FirstName, LastName, School, Grade, Login, Password],
    );
}

#[test]
fn a_school_admin_editing_a_teacher_gets_no_school() {
    assert_editable(
        &school_admin(A1),
        &teacher(A1),
        &[FirstName, LastName, Title, Login, Password],
    );
    assert_eq!(
        can_edit_field(&school_admin(A1), &teacher(A1), School),
        only_district_admins("move a teacher to another school")
    );
}

#[test]
fn a_school_admin_editing_another_school_admin_gets_neither_school_nor_role() {
    let (actor, target) = (school_admin(A1), school_admin(A1));
    assert_editable(
        &actor,
        &target,
        &[FirstName, LastName, Title, Login, Password],
    );
    assert_eq!(
        can_edit_field(&actor, &target, School),
        only_district_admins("move a school admin to another school")
    );
    assert_eq!(
        can_edit_field(&actor, &target, Field::Role),
        only_district_admins("switch someone between school admin and district admin")
    );
}

#[test]
fn a_school_admin_editing_their_own_record_gets_neither_school_nor_role() {
    let actor = school_admin(A1);
    assert_editable(
        &actor,
        &actor,
        &[FirstName, LastName, Title, Login, Password],
    );
    assert_eq!(
        can_edit_field(&actor, &actor, School),
        deny(Denial::OwnPlace)
    );
    assert_eq!(
        can_edit_field(&actor, &actor, Field::Role),
        deny(Denial::OwnPlace)
    );
}

#[test]
fn a_district_admin_editing_a_teacher_gets_the_school() {
    assert_editable(
        &district_admin(A),
        &teacher(A2),
        &[FirstName, LastName, Title, Login, Password, School],
    );
}

#[test]
fn a_district_admin_editing_a_school_admin_gets_school_and_role() {
    assert_editable(
        &district_admin(A),
        &school_admin(A1),
        &[
            FirstName,
            LastName,
            Title,
            Login,
            Password,
            School,
            Field::Role,
        ],
    );
}

#[test]
fn a_district_admin_editing_another_district_admin_gets_district_and_role() {
    assert_editable(
        &district_admin(A),
        &district_admin(A),
        &[
            FirstName,
            LastName,
            Title,
            Login,
            Password,
            District,
            Field::Role,
        ],
    );
}

#[test]
fn a_district_admin_editing_their_own_record_gets_neither_district_nor_role() {
    let actor = district_admin(A);
    assert_editable(
        &actor,
        &actor,
        &[FirstName, LastName, Title, Login, Password],
    );
    assert_eq!(
        can_edit_field(&actor, &actor, District),
        deny(Denial::OwnPlace)
    );
    assert_eq!(
        can_edit_field(&actor, &actor, Field::Role),
        deny(Denial::OwnPlace)
    );
}

#[test]
fn teachers_and_students_editing_their_own_record_get_no_field() {
    for actor in [teacher(A1), student(A1)] {
        assert_editable(&actor, &actor, &[]);
    }
}

#[test]
fn nobody_gets_a_field_of_a_record_they_cannot_edit() {
    assert_editable(&teacher(A1), &student(A2), &[]);
    assert_editable(&school_admin(A1), &district_admin(A), &[]);
    assert_editable(&district_admin(A), &student(B1), &[]);
}
