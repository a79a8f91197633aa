//! The tests of `docs/policy.md`: every cell of every table is a case
//! named in the spec's words, then the principles, then properties over random
//! hierarchies.
//!
//! Every case runs in one small world:
//!
//! * tenant "home": district A (schools A1 and A2) and district B (school B1);
//! * tenant "other": district C (school C1), and users built by [`in_other_tenant`],
//!   who sit at the *same* place ids as the home tenant's (so only the tenant
//!   tells them apart).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use uuid::Uuid;

use super::{
    Decision, Denial, Field, PlaceChange, Subject, can_change_place, can_edit, can_edit_field,
    can_issue_link_code, can_request_promotion, can_reset_password, can_see, editable_fields,
};
use crate::directory::{DistrictId, Place, Role, SchoolId, TenantId, UserId};

/// One test per row: `name: actor => target, expected;` asserts
/// `check(&actor, &target) == expected`. The target is a [`Subject`] or
/// [`Itself`] (the actor's own record).
macro_rules! cases {
    ($check:expr; $( $name:ident: $actor:expr => $target:expr, $expected:expr; )*) => {$(
        #[test]
        fn $name() {
            let actor: Subject = $actor;
            let target = $crate::policy::tests::Target::for_actor($target, &actor);
            assert_eq!(($check)(&actor, &target), $expected, "{actor:?} -> {target:?}");
        }
    )*};
}

mod classes;
mod edit;
mod fields;
mod invisible;
mod moves;
mod principles;
mod promotion;
mod property;
mod search;
mod self_service;
mod visibility;

pub(super) const ALLOW: Decision = Decision::Allow;
/// The one answer for a user who does not exist or whom the actor cannot see.
pub(super) const HIDDEN: Decision = Decision::Deny(Denial::NoSuchUser);
pub(super) const NO_SUCH_USER_TEXT: &str = "No user you can manage matches that.";

pub(super) fn deny(denial: Denial) -> Decision {
    Decision::Deny(denial)
}

/// The named places of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// School A1, in district A of the home tenant.
    A1,
    /// School A2, in district A of the home tenant.
    A2,
    /// School B1, in district B of the home tenant.
    B1,
    /// District A itself (where district admins sit).
    A,
    /// District B itself.
    B,
    /// School C1, in district C of the other tenant.
    C1,
    /// District C of the other tenant.
    C,
}

pub(super) use At::*;

impl At {
    pub(super) fn place(self) -> Place {
        match self {
            A1 => school(0xA1, 0xA),
            A2 => school(0xA2, 0xA),
            B1 => school(0xB1, 0xB),
            C1 => school(0xC1, 0xC),
            A => district(0xA),
            B => district(0xB),
            C => district(0xC),
        }
    }

    fn tenant(self) -> TenantId {
        match self {
            C1 | C => other_tenant(),
            A1 | A2 | B1 | A | B => home_tenant(),
        }
    }
}

fn school(school: u128, district: u128) -> Place {
    Place::School {
        school: SchoolId::from(Uuid::from_u128(0x5c00 + school)),
        district: DistrictId::from(Uuid::from_u128(0xd100 + district)),
    }
}

fn district(district: u128) -> Place {
    Place::District {
        district: DistrictId::from(Uuid::from_u128(0xd100 + district)),
    }
}

pub(super) fn home_tenant() -> TenantId {
    TenantId::from(Uuid::from_u128(0x7e01))
}

pub(super) fn other_tenant() -> TenantId {
    TenantId::from(Uuid::from_u128(0x7e02))
}

/// A fresh, active user of `role` at `at`.
pub(super) fn user(role: Role, at: At) -> Subject {
    let place = at.place();
    assert!(
        place.fits(role),
        "a {role} cannot sit at {at:?}: fix the test"
    );
    Subject {
        id: UserId::new(),
        tenant: at.tenant(),
        role,
        place,
        disabled: false,
    }
}

pub(super) fn student(at: At) -> Subject {
    user(Role::Student, at)
}

pub(super) fn teacher(at: At) -> Subject {
    user(Role::Teacher, at)
}

pub(super) fn school_admin(at: At) -> Subject {
    user(Role::SchoolAdmin, at)
}

pub(super) fn district_admin(at: At) -> Subject {
    user(Role::DistrictAdmin, at)
}

/// Another user of the same role at the identical place ids, in the other tenant.
pub(super) fn in_other_tenant(subject: Subject) -> Subject {
    Subject {
        id: UserId::new(),
        tenant: other_tenant(),
        ..subject
    }
}

pub(super) fn disabled(subject: Subject) -> Subject {
    Subject {
        disabled: true,
        ..subject
    }
}

/// The change "become a `role` at `at`".
pub(super) fn to(role: Role, at: At) -> PlaceChange {
    PlaceChange {
        role,
        place: at.place(),
    }
}

/// The home-tenant place where a user of `role` sits, one for each named place.
pub(super) fn home_places(role: Role) -> &'static [At] {
    if role == Role::DistrictAdmin {
        &[A, B]
    } else {
        &[A1, A2, B1]
    }
}

/// Every place change the world can express: each role at each named place.
pub(super) fn every_change() -> Vec<PlaceChange> {
    let places = [A1, A2, B1, C1, A, B, C];
    Role::ALL
        .iter()
        .flat_map(|&role| places.map(|at| to(role, at)))
        .collect()
}

/// Every question about `target` gets the answer for a user that does not exist,
/// word for word.
pub(super) fn assert_all_hidden(actor: &Subject, target: &Subject) {
    let case = format!("{actor:?} -> {target:?}");
    assert_eq!(can_see(actor, target), HIDDEN, "can_see {case}");
    assert_eq!(can_edit(actor, target), HIDDEN, "can_edit {case}");
    for field in Field::ALL {
        assert_eq!(
            can_edit_field(actor, target, field),
            HIDDEN,
            "can_edit_field {field} {case}"
        );
    }
    assert_eq!(editable_fields(actor, target), [], "editable_fields {case}");
    assert_eq!(
        can_reset_password(actor, target),
        HIDDEN,
        "can_reset_password {case}"
    );
    assert_eq!(
        can_issue_link_code(actor, target),
        HIDDEN,
        "can_issue_link_code {case}"
    );
    assert_eq!(
        can_request_promotion(actor, target),
        HIDDEN,
        "can_request_promotion {case}"
    );
    for change in every_change() {
        for count in [0, 1, 2] {
            assert_eq!(
                can_change_place(actor, target, &change, count),
                HIDDEN,
                "can_change_place {change:?} ({count} district admins) {case}"
            );
        }
    }
    let text = can_see(actor, target)
        .into_result()
        .map_err(|denial| denial.to_string());
    assert_eq!(text, Err(NO_SUCH_USER_TEXT.to_owned()), "{case}");
}

/// What a case names as its target: another user, or the actor themselves.
pub(super) trait Target {
    fn for_actor(self, actor: &Subject) -> Subject;
}

impl Target for Subject {
    fn for_actor(self, _: &Subject) -> Subject {
        self
    }
}

/// The actor's own record.
pub(super) struct Itself;

impl Target for Itself {
    fn for_actor(self, actor: &Subject) -> Subject {
        *actor
    }
}
