//! The in-memory index against a plain model of the SQL search: every branch
//! is the area's people of the roles asked for whose key starts with the
//! prefix, in key order (ties in the order the people were first seen),
//! capped; the branches merged, put in name order and capped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::index::{Area, PersonRow, TenantIndex};
use crate::directory::{DistrictId, Place, Role, SchoolId, UserId};

const FIRST: &[&str] = &["Ana", "Andre", "Bo", "Bea", "Carl", "Cy", "Dee", "Ana"];
const LAST: &[&str] = &[
    "Lopez", "Lee", "Long", "Smith", "Smyth", "Abe", "Adams", "Lee",
];
const ROLES: [Role; 3] = [Role::Student, Role::Teacher, Role::SchoolAdmin];

struct World {
    district: DistrictId,
    schools: Vec<SchoolId>,
    rng: StdRng,
    serial: usize,
}

impl World {
    fn new(seed: u64) -> Self {
        Self {
            district: DistrictId::new(),
            schools: (0..3).map(|_| SchoolId::new()).collect(),
            rng: StdRng::seed_from_u64(seed),
            serial: 0,
        }
    }

    fn person(&mut self, id: UserId) -> PersonRow {
        self.serial += 1;
        let first = FIRST[self.rng.gen_range(0..FIRST.len())];
        let last = LAST[self.rng.gen_range(0..LAST.len())];
        let (role, place) = if self.rng.gen_range(0..20) == 0 {
            (
                Role::DistrictAdmin,
                Place::District {
                    district: self.district,
                },
            )
        } else {
            let school = self.schools[self.rng.gen_range(0..self.schools.len())];
            let role = ROLES[self.rng.gen_range(0..ROLES.len())];
            (
                role,
                Place::School {
                    school,
                    district: self.district,
                },
            )
        };
        let login = format!("{}{}{}", &first[..1], last, self.serial);
        PersonRow {
            id,
            role,
            place,
            disabled: false,
            grade: None,
            first_key: first.to_lowercase(),
            last_key: last.to_lowercase(),
            login_key: login.to_lowercase(),
            first_name: first.into(),
            last_name: last.into(),
            login,
        }
    }
}

fn in_area(p: &PersonRow, area: Area) -> bool {
    match area {
        Area::School(s) => p.place.school() == Some(s),
        Area::District(d) => p.place.district() == d,
    }
}

/// The model: `people` in the order first seen, as they are now.
fn model(
    people: &[PersonRow],
    area: Area,
    roles: &[Role],
    prefix: &str,
    limit: usize,
) -> Vec<UserId> {
    let keys: [fn(&PersonRow) -> &str; 3] = [|p| &p.last_key, |p| &p.first_key, |p| &p.login_key];
    let mut found: Vec<usize> = Vec::new();
    for key in keys {
        let mut branch: Vec<usize> = (0..people.len())
            .filter(|&i| in_area(&people[i], area) && roles.contains(&people[i].role))
            .filter(|&i| key(&people[i]).starts_with(prefix))
            .collect();
        branch.sort_by(|&a, &b| key(&people[a]).cmp(key(&people[b])).then(a.cmp(&b)));
        found.extend(branch.into_iter().take(limit));
    }
    found.sort_unstable();
    found.dedup();
    let order = |p: &PersonRow| {
        (
            p.last_key.clone(),
            p.first_key.clone(),
            p.login_key.clone(),
            p.id,
        )
    };
    found.sort_by_key(|&i| order(&people[i]));
    found
        .into_iter()
        .take(limit)
        .map(|i| people[i].id)
        .collect()
}

fn searched(
    index: &TenantIndex,
    area: Area,
    roles: &[Role],
    prefix: &str,
    limit: usize,
) -> Vec<UserId> {
    index
        .search(area, roles, prefix, limit)
        .into_iter()
        .map(|p| p.id)
        .collect()
}

fn every_search_agrees(world: &World, index: &TenantIndex, people: &[PersonRow]) {
    let mut areas: Vec<Area> = world.schools.iter().map(|s| Area::School(*s)).collect();
    areas.push(Area::District(world.district));
    let role_sets: [&[Role]; 3] = [
        &[Role::Student],
        &[Role::Student, Role::Teacher],
        &Role::ALL,
    ];
    for area in areas {
        for roles in role_sets {
            for prefix in ["", "a", "an", "l", "le", "sm", "smy", "x", "b", "alee"] {
                for limit in [1, 3, 26] {
                    assert_eq!(
                        searched(index, area, roles, prefix, limit),
                        model(people, area, roles, prefix, limit),
                        "{area:?} {roles:?} {prefix:?} {limit}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_search_of_the_index_answers_what_the_three_prefix_ranges_answer() {
    let mut world = World::new(7);
    let people: Vec<PersonRow> = (0..600).map(|_| world.person(UserId::new())).collect();
    let index = TenantIndex::build(people.clone(), HashMap::new());
    assert_eq!(index.len(), 600);
    every_search_agrees(&world, &index, &people);
}

#[test]
fn changes_applied_one_by_one_or_in_bulk_leave_the_index_as_if_built_afresh() {
    for batch in [1, 10, 200] {
        let mut world = World::new(11 + batch as u64);
        let mut people: Vec<PersonRow> = (0..400).map(|_| world.person(UserId::new())).collect();
        let mut index = TenantIndex::build(people.clone(), HashMap::new());
        for _round in 0..3 {
            let mut changed = Vec::new();
            for _ in 0..batch {
                if world.rng.gen_range(0..4) == 0 {
                    // Someone new.
                    let row = world.person(UserId::new());
                    people.push(row.clone());
                    changed.push(row);
                } else {
                    // Renamed, moved, or given another role: a new state of the same id.
                    let at = world.rng.gen_range(0..people.len());
                    let row = world.person(people[at].id);
                    people[at] = row.clone();
                    changed.push(row);
                }
            }
            index.apply(changed);
            every_search_agrees(&world, &index, &people);
        }
    }
}

#[test]
fn a_school_name_set_later_replaces_the_one_loaded() {
    let school = SchoolId::new();
    let mut index = TenantIndex::build(Vec::new(), HashMap::from([(school, "Old".to_owned())]));
    assert_eq!(index.school_name(school), Some("Old"));
    index.set_school_name(school, "New".into());
    assert_eq!(index.school_name(school), Some("New"));
}
