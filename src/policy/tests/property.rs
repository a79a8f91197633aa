//! Properties over random hierarchies: two tenants, three districts each, three
//! schools per district, actors and targets of random roles and places, random
//! place changes and district-admin counts.

use proptest::prelude::*;

use super::*;
use Role::*;

const TENANTS: u8 = 2;
const DISTRICTS: u8 = 3;
const SCHOOLS: u8 = 3;

fn tenant_id(tenant: u8) -> TenantId {
    TenantId::from(Uuid::from_u128(0x7e00 + u128::from(tenant)))
}

fn district_id(tenant: u8, district: u8) -> DistrictId {
    DistrictId::from(Uuid::from_u128(
        0xd000 + 0x10 * u128::from(tenant) + u128::from(district),
    ))
}

fn school_id(tenant: u8, district: u8, school: u8) -> SchoolId {
    let n = 0x100 * u128::from(tenant) + 0x10 * u128::from(district) + u128::from(school);
    SchoolId::from(Uuid::from_u128(0x5000 + n))
}

/// A school, or (`at_school` false) the district itself, of the given tenant.
fn place(tenant: u8, district: u8, school: u8, at_school: bool) -> Place {
    if at_school {
        Place::School {
            school: school_id(tenant, district, school),
            district: district_id(tenant, district),
        }
    } else {
        Place::District {
            district: district_id(tenant, district),
        }
    }
}

/// A user of the random world, by indices, so a target can be put near its actor.
#[derive(Debug, Clone, Copy)]
struct Who {
    id: u128,
    tenant: u8,
    role: Role,
    district: u8,
    school: u8,
    disabled: bool,
}

impl Who {
    fn subject(&self) -> Subject {
        Subject {
            id: UserId::from(Uuid::from_u128(self.id)),
            tenant: tenant_id(self.tenant),
            role: self.role,
            place: place(
                self.tenant,
                self.district,
                self.school,
                self.role != DistrictAdmin,
            ),
            disabled: self.disabled,
        }
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

fn who() -> impl Strategy<Value = Who> {
    (
        any::<u128>(),
        0..TENANTS,
        role(),
        0..DISTRICTS,
        0..SCHOOLS,
        prop::bool::weighted(0.05),
    )
        .prop_map(|(id, tenant, role, district, school, disabled)| Who {
            id,
            tenant,
            role,
            district,
            school,
            disabled,
        })
}

/// An actor and a target. Uniform places would rarely meet, so the target is
/// often put in the actor's tenant, district or school, and sometimes is the actor.
fn actor_and_target() -> impl Strategy<Value = (Who, Who)> {
    // How near the target is put: 0 anywhere, 1 the actor's tenant, 2 their
    // district, 3 their school (for a school-less district admin, their district).
    let near = prop_oneof![1 => Just(0u8), 1 => Just(1), 3 => Just(2), 3 => Just(3)];
    (who(), who(), near, prop::bool::weighted(0.1)).prop_map(|(actor, mut target, near, itself)| {
        if itself {
            target = actor;
        } else {
            if near >= 1 {
                target.tenant = actor.tenant;
            }
            if near >= 2 {
                target.district = actor.district;
            }
            if near >= 3 {
                target.school = actor.school;
            }
        }
        (actor, target)
    })
}

fn subjects(actor: Who, target: Who) -> (Subject, Subject) {
    (actor.subject(), target.subject())
}

/// A destination picked by indices. Uniform destinations would rarely be
/// allowed, so it often keeps the target's role, lies in the actor's district
/// and has the shape the role needs; otherwise it is anywhere in the tenant.
#[derive(Debug, Clone, Copy)]
struct Dest {
    keep_role: bool,
    role: Role,
    in_actors_district: bool,
    district: u8,
    school: u8,
    fitting: bool,
    at_school: bool,
}

impl Dest {
    /// A `PlaceChange` carries no tenant: the caller resolves the destination in
    /// the actor's tenant (see moves.rs), so the destination is drawn there.
    fn change(&self, actor: &Who, target: &Who) -> PlaceChange {
        let role = if self.keep_role {
            target.role
        } else {
            self.role
        };
        let district = if self.in_actors_district {
            actor.district
        } else {
            self.district
        };
        let at_school = if self.fitting {
            role != DistrictAdmin
        } else {
            self.at_school
        };
        PlaceChange {
            role,
            place: place(actor.tenant, district, self.school, at_school),
        }
    }
}

fn dest() -> impl Strategy<Value = Dest> {
    let weighted = prop::bool::weighted;
    (
        weighted(0.5),
        role(),
        weighted(0.7),
        0..DISTRICTS,
        0..SCHOOLS,
        weighted(0.85),
        any::<bool>(),
    )
        .prop_map(
            |(keep_role, role, in_actors_district, district, school, fitting, at_school)| Dest {
                keep_role,
                role,
                in_actors_district,
                district,
                school,
                fitting,
                at_school,
            },
        )
}

fn districts_of(tenant: TenantId) -> Vec<DistrictId> {
    (0..TENANTS)
        .filter(|&t| tenant_id(t) == tenant)
        .flat_map(|t| (0..DISTRICTS).map(move |d| district_id(t, d)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16384))]

    #[test]
    fn an_allowed_change_never_grants_more_than_the_actor_holds_nor_leaves_their_district(
        (actor, target) in actor_and_target(),
        dest in dest(),
        district_admins in 0..4u32,
    ) {
        let change = dest.change(&actor, &target);
        let (actor, target) = subjects(actor, target);
        let decision = can_change_place(&actor, &target, &change, district_admins);

        prop_assert!(
            !(target.role == Teacher && change.role == SchoolAdmin && decision.is_allowed()),
            "a teacher became a school admin without a promotion request"
        );
        if decision.is_allowed() {
            prop_assert_eq!(can_see(&actor, &target), Decision::Allow);
            prop_assert_eq!(can_edit(&actor, &target), Decision::Allow);
        }
        let changes_something = change.role != target.role || change.place != target.place;
        if decision.is_allowed() && changes_something {
            prop_assert!(change.role <= actor.role, "granted more than the actor holds");
            prop_assert!(!actor.is(&target), "changed their own place");
            prop_assert_eq!(actor.tenant, target.tenant);
            prop_assert!(change.place.fits(change.role));
            if target.role == DistrictAdmin && !target.disabled {
                prop_assert!(district_admins >= 1, "the last district admin of a district left it");
            }
            // The one row whose destination may lie outside the actor's district.
            let district_admin_to_another_district = actor.role == DistrictAdmin
                && target.role == DistrictAdmin
                && change.role == DistrictAdmin;
            if district_admin_to_another_district {
                prop_assert!(districts_of(actor.tenant).contains(&change.place.district()));
            } else {
                prop_assert_eq!(change.place.district(), actor.place.district());
            }
        }
    }

    #[test]
    fn the_editable_fields_are_fields_of_the_record_and_none_without_the_edit_right(
        (actor, target) in actor_and_target(),
    ) {
        let (actor, target) = subjects(actor, target);
        let fields = editable_fields(&actor, &target);
        for field in &fields {
            let on_record = Field::of_role(target.role).contains(field);
            prop_assert!(on_record, "{} is not on a {}", field, target.role);
        }
        if !can_edit(&actor, &target).is_allowed() {
            prop_assert_eq!(fields, Vec::<Field>::new());
        }
    }

    #[test]
    fn every_question_about_a_user_one_cannot_see_is_answered_no_such_user_in_any_world(
        (actor, target) in actor_and_target(),
    ) {
        let (actor, target) = subjects(actor, target);
        if can_see(&actor, &target) == HIDDEN {
            assert_all_hidden(&actor, &target);
        }
    }
}
