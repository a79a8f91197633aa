//! The principles that decide every case the tables do not spell out:
//! nobody grants more than they hold, nobody changes their own place, the last
//! district admin of a district is kept, and nothing ever crosses tenants.

use super::*;
use Role::*;

fn switch_only_for_district_admins() -> Decision {
    deny(Denial::OnlyDistrictAdmins {
        what: "switch someone between school admin and district admin",
    })
}

#[test]
fn a_school_admin_can_never_make_anyone_a_district_admin() {
    let actor = school_admin(A1);
    let targets = [
        (actor, deny(Denial::OwnPlace)),
        (student(A1), deny(Denial::NoDirectAdminGrant)),
        (teacher(A1), deny(Denial::NoDirectAdminGrant)),
        (school_admin(A1), switch_only_for_district_admins()),
        (student(A2), HIDDEN),
        (teacher(A2), HIDDEN),
        (school_admin(A2), HIDDEN),
        (student(B1), HIDDEN),
        (teacher(B1), HIDDEN),
        (school_admin(B1), HIDDEN),
        (district_admin(A), HIDDEN),
        (district_admin(B), HIDDEN),
        (in_other_tenant(school_admin(A1)), HIDDEN),
        (school_admin(C1), HIDDEN),
    ];
    for (target, expected) in targets {
        for destination in [A, B, C] {
            for count in [0, 1, 2] {
                assert_eq!(
                    can_change_place(&actor, &target, &to(DistrictAdmin, destination), count),
                    expected,
                    "{target:?} to district admin of {destination:?}"
                );
            }
        }
    }
    assert_eq!(
        can_edit_field(&actor, &school_admin(A1), Field::Role),
        switch_only_for_district_admins()
    );
}

#[test]
fn nobody_gives_anyone_a_role_above_their_own() {
    for actor_role in Role::ALL {
        for &actor_at in home_places(actor_role) {
            let actor = user(actor_role, actor_at);
            let mut targets: Vec<Subject> = Role::ALL
                .iter()
                .flat_map(|&role| home_places(role).iter().map(move |&at| user(role, at)))
                .collect();
            targets.push(actor);
            for target in targets {
                for change in every_change().into_iter().filter(|c| c.role > actor_role) {
                    for count in [1, 2] {
                        assert!(
                            !can_change_place(&actor, &target, &change, count).is_allowed(),
                            "{actor:?} made {target:?} {change:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn nobody_changes_their_own_role_school_or_district() {
    let own = |role| {
        deny(Denial::RecordNotEditable {
            actor: role,
            target: role,
            own_record: true,
        })
    };
    let cases = [
        (
            student(A1),
            own(Student),
            vec![to(Student, A2), to(Student, B1), to(Teacher, A1)],
        ),
        (
            teacher(A1),
            own(Teacher),
            vec![
                to(Teacher, A2),
                to(Teacher, B1),
                to(SchoolAdmin, A1),
                to(Student, A1),
            ],
        ),
        (
            school_admin(A1),
            deny(Denial::OwnPlace),
            vec![
                to(SchoolAdmin, A2),
                to(SchoolAdmin, B1),
                to(DistrictAdmin, A),
                to(Teacher, A1),
            ],
        ),
        (
            district_admin(A),
            deny(Denial::OwnPlace),
            vec![
                to(DistrictAdmin, B),
                to(SchoolAdmin, A1),
                to(SchoolAdmin, A2),
            ],
        ),
    ];
    for (actor, expected, changes) in cases {
        for change in changes {
            for count in [1, 2, 3] {
                assert_eq!(
                    can_change_place(&actor, &actor, &change, count),
                    expected,
                    "a {} to {change:?}",
                    actor.role
                );
            }
        }
        for &field in Field::of_role(actor.role).iter().filter(|f| f.is_place()) {
            assert_eq!(
                can_edit_field(&actor, &actor, field),
                expected,
                "a {}'s {field}",
                actor.role
            );
        }
    }
}

#[test]
fn the_last_district_admin_of_a_district_is_not_demoted() {
    let (actor, target) = (district_admin(A), district_admin(A));
    let demote = to(SchoolAdmin, A1);
    assert_eq!(
        can_change_place(&actor, &target, &demote, 0),
        deny(Denial::LastDistrictAdmin)
    );
    assert_eq!(can_change_place(&actor, &target, &demote, 1), ALLOW);
}

#[test]
fn the_last_district_admin_of_a_district_is_not_moved_away() {
    let (actor, target) = (district_admin(A), district_admin(A));
    let move_away = to(DistrictAdmin, B);
    assert_eq!(
        can_change_place(&actor, &target, &move_away, 0),
        deny(Denial::LastDistrictAdmin)
    );
    assert_eq!(can_change_place(&actor, &target, &move_away, 1), ALLOW);
}

#[test]
fn a_disabled_district_admin_is_not_a_district_admin_who_could_be_the_last() {
    // Dave is disabled: moving or demoting him takes no admin away from the
    // district, whatever the count of the others.
    let (actor, target) = (district_admin(A), disabled(district_admin(A)));
    for change in [to(SchoolAdmin, A1), to(DistrictAdmin, B)] {
        assert_eq!(can_change_place(&actor, &target, &change, 0), ALLOW);
    }
}

#[test]
fn the_last_district_admin_staying_where_they_are_is_no_move() {
    let (actor, target) = (district_admin(A), district_admin(A));
    assert_eq!(
        can_change_place(&actor, &target, &to(DistrictAdmin, A), 1),
        ALLOW
    );
}

#[test]
fn the_district_admin_count_matters_only_when_the_target_is_a_district_admin() {
    let actor = district_admin(A);
    for count in [0, 1] {
        assert_eq!(
            can_change_place(&actor, &school_admin(A1), &to(DistrictAdmin, A), count),
            ALLOW
        );
        assert_eq!(
            can_change_place(&actor, &teacher(A1), &to(Teacher, A2), count),
            ALLOW
        );
    }
}

#[test]
fn nothing_ever_crosses_tenants_even_with_identical_place_ids() {
    for actor_role in Role::ALL {
        for &at in home_places(actor_role) {
            let actor = user(actor_role, at);
            let namesake = Subject {
                tenant: other_tenant(),
                ..actor
            };
            let mut strangers = vec![in_other_tenant(actor), namesake];
            for role in Role::ALL {
                strangers.extend(
                    home_places(role)
                        .iter()
                        .map(|&at| in_other_tenant(user(role, at))),
                );
                strangers.push(user(role, if role == DistrictAdmin { C } else { C1 }));
            }
            for stranger in strangers {
                assert_all_hidden(&actor, &stranger);
                assert_all_hidden(&stranger, &actor);
            }
        }
    }
}
