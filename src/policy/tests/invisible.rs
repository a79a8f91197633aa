//! Invisible is nonexistent: a user the actor cannot see gets, from every
//! question, exactly the answer for a user that does not exist.

use super::*;

#[test]
fn every_question_about_a_user_one_cannot_see_is_answered_no_such_user() {
    let mut everyone = Vec::new();
    for role in Role::ALL {
        for &at in home_places(role) {
            // Two of each, so every actor meets a peer as well as themselves.
            everyone.push(user(role, at));
            everyone.push(user(role, at));
        }
    }
    let mut hidden_pairs = 0;
    for actor in &everyone {
        for target in &everyone {
            match can_see(actor, target) {
                Decision::Allow => {}
                Decision::Deny(Denial::NoSuchUser) => {
                    assert_all_hidden(actor, target);
                    hidden_pairs += 1;
                }
                other => panic!("can_see answered {other:?} for {actor:?} -> {target:?}"),
            }
        }
    }
    assert!(
        hidden_pairs > everyone.len(),
        "the world hides most users from most actors"
    );
}

#[test]
fn the_answer_for_a_hidden_user_is_the_answer_for_a_missing_one() {
    assert_eq!(Denial::NoSuchUser.to_string(), NO_SUCH_USER_TEXT);
}
