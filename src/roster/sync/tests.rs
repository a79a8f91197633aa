//! The merge, field by field, on plain values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};

use super::*;
use crate::directory::{DistrictId, Grade, Login, PersonName, SchoolId, TenantId, UserId};

fn place() -> (Place, Place, DistrictId) {
    let district = DistrictId::new();
    (
        Place::School {
            school: SchoolId::new(),
            district,
        },
        Place::School {
            school: SchoolId::new(),
            district,
        },
        district,
    )
}

fn user(role: Role, place: Place) -> User {
    User {
        id: UserId::new(),
        tenant_id: TenantId::new(),
        login: Login::parse("tess").unwrap(),
        first_name: PersonName::parse("Tess").unwrap(),
        last_name: PersonName::parse("Harper").unwrap(),
        role,
        place,
        grade: None,
        title: None,
        must_change_password: false,
        disabled: false,
        discord_user_id: None,
        source_id: Some("t1".into()),
        version: 3,
        updated_at: Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap(),
    }
}

#[test]
fn a_field_the_roster_did_not_change_keeps_hallpass_value() {
    let (a, _, _) = place();
    let last = values_of(&user(Role::Teacher, a));
    let current = User {
        role: Role::SchoolAdmin,
        ..user(Role::Teacher, a)
    };
    let m = merge(&current, &last, &last);
    assert_eq!(m.after, current);
    assert_eq!((m.applied, m.kept, m.conflicts.len()), (0, 1, 0));
}

#[test]
fn a_field_the_roster_changed_is_applied_and_a_both_sides_change_is_a_conflict() {
    let (a, b, _) = place();
    let original = user(Role::Teacher, a);
    let last = values_of(&original);
    let current = User {
        last_name: PersonName::parse("Harper-Local").unwrap(),
        ..original.clone()
    };
    let theirs = RosterValues {
        last_name: PersonName::parse("Harper-Roster").unwrap(),
        place: b,
        ..last.clone()
    };
    let m = merge(&current, &last, &theirs);
    assert_eq!(m.after.last_name.as_str(), "Harper-Roster");
    assert_eq!(m.after.place, b);
    assert_eq!(m.applied, 2);
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(m.conflicts[0].field, Field::LastName);
    assert_eq!(
        m.conflicts[0].hallpass,
        FieldValue::Text("Harper-Local".into())
    );
}

#[test]
fn both_sides_making_the_same_change_is_neither_applied_nor_a_conflict() {
    let (a, _, _) = place();
    let original = user(Role::Student, a);
    let last = RosterValues {
        grade: Some(Grade::Numbered(6)),
        ..values_of(&original)
    };
    let current = User {
        grade: Some(Grade::Numbered(7)),
        ..original
    };
    let theirs = RosterValues {
        grade: Some(Grade::Numbered(7)),
        ..last.clone()
    };
    let m = merge(&current, &last, &theirs);
    assert_eq!((m.applied, m.kept, m.conflicts.len()), (0, 0, 0));
    assert_eq!(m.after, current);
}

#[test]
fn disabling_always_applies_even_over_a_local_enable() {
    let (a, _, _) = place();
    let original = user(Role::Student, a);
    let last = RosterValues {
        disabled: true,
        ..values_of(&original)
    };
    // Re-enabled in hallpass; the roster still says disabled, as last time.
    let m = merge(&original, &last, &last);
    assert!(m.after.disabled);
    assert_eq!(m.conflicts[0].field, Field::Disabled);
}

#[test]
fn a_role_and_place_that_no_longer_fit_take_the_roster_role_and_place_together() {
    let (a, _, district) = place();
    let original = user(Role::Teacher, a);
    let last = values_of(&original);
    let current = User {
        role: Role::DistrictAdmin,
        place: Place::District { district },
        ..original
    };
    let theirs = RosterValues {
        role: Role::SchoolAdmin,
        ..last.clone()
    };
    let m = merge(&current, &last, &theirs);
    assert_eq!((m.after.role, m.after.place), (Role::SchoolAdmin, a));
    assert!(m.after.place.fits(m.after.role));
    assert_eq!(m.conflicts.len(), 1);
}

#[test]
fn an_import_moves_staff_one_step_and_never_turns_a_student_into_staff() {
    use Role::*;
    assert!(role_change_allowed(Teacher, SchoolAdmin));
    assert!(role_change_allowed(DistrictAdmin, SchoolAdmin));
    assert!(!role_change_allowed(Student, DistrictAdmin));
    assert!(!role_change_allowed(Student, Teacher));
    assert!(!role_change_allowed(Teacher, Student));
    assert!(!role_change_allowed(Teacher, DistrictAdmin));
}
