//! Self-service, and the disabled actor who is refused everything.

use super::*;

#[test]
fn everybody_may_reset_their_own_password_even_a_student() {
    for role in Role::ALL {
        for &at in home_places(role) {
            let actor = user(role, at);
            assert_eq!(
                can_reset_password(&actor, &actor),
                ALLOW,
                "a {role} at {at:?}"
            );
        }
    }
}

#[test]
fn a_user_with_the_same_id_in_another_tenant_is_someone_else() {
    let actor = student(A1);
    let namesake = Subject {
        tenant: other_tenant(),
        ..actor
    };
    assert_eq!(can_reset_password(&actor, &namesake), HIDDEN);
}

#[test]
fn a_disabled_actor_is_refused_everything() {
    let refused = deny(Denial::ActorDisabled);
    for role in Role::ALL {
        let actor = disabled(user(role, home_places(role)[0]));
        let targets = [
            actor,
            student(A1),
            teacher(A1),
            school_admin(A1),
            district_admin(A),
        ];
        for target in targets {
            let case = format!("a disabled {role} -> {target:?}");
            assert_eq!(can_see(&actor, &target), refused, "{case}");
            assert_eq!(can_edit(&actor, &target), refused, "{case}");
            for field in Field::ALL {
                assert_eq!(
                    can_edit_field(&actor, &target, field),
                    refused,
                    "{case}: {field}"
                );
            }
            assert_eq!(editable_fields(&actor, &target), [], "{case}");
            assert_eq!(can_reset_password(&actor, &target), refused, "{case}");
            assert_eq!(can_issue_link_code(&actor, &target), refused, "{case}");
            assert_eq!(can_request_promotion(&actor, &target), refused, "{case}");
            for change in [
                to(Role::Student, A2),
                to(Role::SchoolAdmin, A1),
                to(Role::DistrictAdmin, B),
            ] {
                assert_eq!(
                    can_change_place(&actor, &target, &change, 2),
                    refused,
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn a_disabled_actor_is_told_so_in_plain_words() {
    let refusal = can_reset_password(&disabled(teacher(A1)), &teacher(A1));
    assert_eq!(
        refusal.into_result().map_err(|d| d.to_string()),
        Err(
            "Your account is disabled, so hallpass can't act for you. Ask your school admin."
                .to_owned()
        )
    );
}
