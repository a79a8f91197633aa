//! Whose classes an actor reaches (policy.md "Classes and login cards"): a
//! teacher the classes they teach, a school admin their school's, a district
//! admin their district's, a student none; never across tenants, never while
//! disabled.

use super::*;
use crate::directory::{Class, ClassId};
use crate::policy::{ClassScope, can_see_class, class_scope};

/// A class of the school at `at` (a school of the world).
fn class_at(at: At) -> Class {
    let place = at.place();
    let Place::School { school, district } = place else {
        panic!("a class sits in a school: fix the test");
    };
    Class {
        id: ClassId::new(),
        tenant_id: at.tenant(),
        district_id: district,
        school_id: school,
        sourced_id: "c-1".into(),
        title: "Science 7B".into(),
        class_code: Some("SCI-7B".into()),
    }
}

const NO_CLASS: Decision = Decision::Deny(Denial::NoSuchClass);

#[test]
fn a_teacher_sees_a_class_they_teach_and_not_one_of_their_school_they_do_not() {
    let t = teacher(A1);
    let class = class_at(A1);
    assert_eq!(can_see_class(&t, &class, true), ALLOW);
    assert_eq!(can_see_class(&t, &class, false), NO_CLASS);
    assert_eq!(class_scope(&t), ClassScope::Taught { teacher: t.id });
}

#[test]
fn a_teacher_sees_a_class_they_teach_in_another_school() {
    assert_eq!(can_see_class(&teacher(A1), &class_at(B1), true), ALLOW);
}

#[test]
fn a_school_admin_sees_their_schools_classes_only() {
    let admin = school_admin(A1);
    assert_eq!(can_see_class(&admin, &class_at(A1), false), ALLOW);
    assert_eq!(can_see_class(&admin, &class_at(A2), false), NO_CLASS);
    assert_eq!(
        can_see_class(&admin, &class_at(A2), true),
        NO_CLASS,
        "a school admin's reach is their school, enrolled or not"
    );
    let Place::School { school, .. } = A1.place() else {
        panic!("A1 is a school");
    };
    assert_eq!(class_scope(&admin), ClassScope::School(school));
}

#[test]
fn a_district_admin_sees_every_class_of_their_district_and_none_of_another() {
    let admin = district_admin(A);
    assert_eq!(can_see_class(&admin, &class_at(A1), false), ALLOW);
    assert_eq!(can_see_class(&admin, &class_at(A2), false), ALLOW);
    assert_eq!(can_see_class(&admin, &class_at(B1), false), NO_CLASS);
    assert_eq!(
        class_scope(&admin),
        ClassScope::District(A.place().district())
    );
}

#[test]
fn a_student_sees_no_class_even_one_they_are_enrolled_in() {
    let s = student(A1);
    assert_eq!(can_see_class(&s, &class_at(A1), true), NO_CLASS);
    assert_eq!(class_scope(&s), ClassScope::Nothing);
}

#[test]
fn nobody_sees_a_class_of_another_tenant_at_the_same_place_ids() {
    let class = class_at(A1);
    let elsewhere = Class {
        tenant_id: other_tenant(),
        ..class
    };
    for actor in [teacher(A1), school_admin(A1), district_admin(A)] {
        assert_eq!(
            can_see_class(&actor, &elsewhere, true),
            NO_CLASS,
            "{actor:?}"
        );
    }
}

#[test]
fn a_disabled_actor_reaches_no_class() {
    for actor in [teacher(A1), school_admin(A1), district_admin(A)] {
        let off = disabled(actor);
        assert_eq!(class_scope(&off), ClassScope::Nothing, "{off:?}");
        assert_eq!(
            can_see_class(&off, &class_at(A1), true),
            deny(Denial::ActorDisabled)
        );
    }
}

#[test]
fn an_unreachable_class_reads_like_one_that_does_not_exist() {
    let text = can_see_class(&teacher(A1), &class_at(A1), false)
        .into_result()
        .map_err(|d| d.to_string());
    assert_eq!(
        text,
        Err("No class you can manage matches that.".to_owned())
    );
}
