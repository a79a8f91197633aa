//! The search form of the visibility table (`visible_set`) finds exactly the
//! users `can_see` allows: autocomplete never offers someone it should not,
//! nor misses someone it should.

use super::*;
use crate::policy::{SearchArea, visible_set};

fn in_set(actor: &Subject, target: &Subject) -> bool {
    let set = visible_set(actor);
    if set.plus_self && actor.id == target.id {
        return true;
    }
    let area = match set.area {
        SearchArea::School(s) => target.place.school() == Some(s),
        SearchArea::District(d) => target.place.district() == d,
        SearchArea::OnlySelf => false,
    };
    actor.tenant == target.tenant && area && set.roles.contains(&target.role)
}

#[test]
fn the_search_area_of_every_actor_holds_exactly_the_users_they_can_see() {
    let mut everyone = Vec::new();
    for role in Role::ALL {
        for &at in home_places(role) {
            everyone.push(user(role, at));
            everyone.push(user(role, at));
        }
    }
    everyone.push(in_other_tenant(user(Role::Student, A1)));
    for actor in &everyone {
        for target in &everyone {
            assert_eq!(
                in_set(actor, target),
                can_see(actor, target).is_allowed(),
                "{actor:?} -> {target:?}"
            );
        }
    }
}
