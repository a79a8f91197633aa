//! The index's people, stored compactly: at a million people this is most of
//! the serving process's memory, so each person is one small fixed record and
//! one allocation of text.
//!
//! - The place is an ordinal into the tenant's distinct places (a school, or
//!   a district for its admins), not the two ids it names: a district has a
//!   few hundred places and a million people.
//! - The six texts sit in one allocation, their ends as `u16` (a person's
//!   texts are at most a few kilobytes: names of 64 characters, logins of
//!   254).
//! - Finding a person's slot by id is a table of slots alone, hashed by the
//!   id the slot's person holds, rather than a map that stores each id a
//!   second time (20 bytes a person and its growth, against 4).
//!
//! Measured (1,000,000 users, `hallpass bench`): see the README's
//! Performance section.

use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};

use super::index::PersonRow;
use crate::directory::{Grade, Place, Role, UserId};

/// A person's six texts, in the order [`Person::texts`] holds them.
#[derive(Clone, Copy)]
pub(super) enum Text {
    FirstName = 0,
    LastName = 1,
    Login = 2,
    FirstKey = 3,
    LastKey = 4,
    LoginKey = 5,
}

/// [`PersonRow`] as the index holds it.
#[derive(Debug, Clone)]
pub(super) struct Person {
    pub id: UserId,
    /// first name, last name, login, first key, last key, login key.
    texts: Box<str>,
    ends: [u16; 6],
    /// Into [`People::places`].
    place: u32,
    pub role: Role,
    disabled: bool,
    grade: Option<Grade>,
}

impl Person {
    pub fn text(&self, which: Text) -> &str {
        let i = which as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.texts.get(start..self.ends[i] as usize).unwrap_or("")
    }

    /// The final order of a search: by last name, first name, login.
    pub fn name_order(&self) -> (&str, &str, &str) {
        (
            self.text(Text::LastKey),
            self.text(Text::FirstKey),
            self.text(Text::LoginKey),
        )
    }
}

/// The people of a tenant, each at a slot that never changes.
#[derive(Debug, Default)]
pub(super) struct People {
    people: Vec<Person>,
    /// Slots, hashed by their person's id.
    slots: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// The distinct places, and their ordinals by place.
    places: Vec<Place>,
    ordinals: std::collections::HashMap<Place, u32>,
}

impl People {
    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// The person of a slot; slots come from [`People::put`] and the lists,
    /// which hold only slots of `people`.
    pub fn get(&self, slot: u32) -> &Person {
        &self.people[slot as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Person> {
        self.people.iter()
    }

    pub fn slot_of(&self, id: UserId) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.slots
            .find(hash, |&s| self.people[s as usize].id == id)
            .copied()
    }

    pub fn place(&self, person: &Person) -> Place {
        self.places[person.place as usize]
    }

    /// Stores `row` (new, or replacing the person's earlier state); returns
    /// the slot.
    pub fn put(&mut self, row: PersonRow) -> u32 {
        let person = self.person(row);
        // One hash and one probe of the table, whether the person is new or not.
        let hash = self.hasher.hash_one(person.id);
        let Self {
            people,
            slots,
            hasher,
            ..
        } = self;
        let found = slots.entry(
            hash,
            |&s| people[s as usize].id == person.id,
            |&s| hasher.hash_one(people[s as usize].id),
        );
        match found {
            Entry::Occupied(at) => {
                let slot = *at.get();
                people[slot as usize] = person;
                slot
            }
            Entry::Vacant(at) => {
                let slot = u32::try_from(people.len()).unwrap_or(u32::MAX);
                people.push(person);
                at.insert(slot);
                slot
            }
        }
    }

    pub fn row(&self, slot: u32) -> PersonRow {
        let person = self.get(slot);
        PersonRow {
            id: person.id,
            role: person.role,
            place: self.place(person),
            disabled: person.disabled,
            grade: person.grade,
            first_name: person.text(Text::FirstName).to_owned(),
            last_name: person.text(Text::LastName).to_owned(),
            login: person.text(Text::Login).to_owned(),
            first_key: person.text(Text::FirstKey).to_owned(),
            last_key: person.text(Text::LastKey).to_owned(),
            login_key: person.text(Text::LoginKey).to_owned(),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        self.people.shrink_to_fit();
        let (people, hasher) = (&self.people, &self.hasher);
        self.slots
            .shrink_to_fit(|&s| hasher.hash_one(people[s as usize].id));
    }

    fn person(&mut self, row: PersonRow) -> Person {
        let parts = [
            &row.first_name,
            &row.last_name,
            &row.login,
            &row.first_key,
            &row.last_key,
            &row.login_key,
        ];
        let mut texts = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0u16; 6];
        for (end, part) in ends.iter_mut().zip(parts) {
            // Each text is short (the names' and logins' own limits); one
            // longer than the ends can hold is cut at a character boundary.
            let room = usize::from(u16::MAX) - texts.len();
            let mut take = part.len().min(room);
            while !part.is_char_boundary(take) {
                take -= 1;
            }
            texts.push_str(&part[..take]);
            *end = u16::try_from(texts.len()).unwrap_or(u16::MAX);
        }
        let next = u32::try_from(self.places.len()).unwrap_or(u32::MAX);
        let place = *self.ordinals.entry(row.place).or_insert(next);
        if place == next {
            self.places.push(row.place);
        }
        Person {
            id: row.id,
            texts: texts.into_boxed_str(),
            ends,
            place,
            role: row.role,
            disabled: row.disabled,
            grade: row.grade,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::directory::{DistrictId, SchoolId};

    fn row(place: Place, first: &str) -> PersonRow {
        PersonRow {
            id: UserId::new(),
            role: Role::Student,
            place,
            disabled: true,
            grade: Grade::parse("5").ok(),
            first_name: first.into(),
            last_name: "Lopez".into(),
            login: "ana.lopez".into(),
            first_key: first.to_lowercase(),
            last_key: "lopez".into(),
            login_key: "ana.lopez".into(),
        }
    }

    #[test]
    fn a_person_is_read_back_as_stored_and_found_by_id() {
        let district = DistrictId::new();
        let places = [
            Place::School {
                school: SchoolId::new(),
                district,
            },
            Place::District { district },
        ];
        let mut people = People::default();
        let rows: Vec<PersonRow> = (0..1000)
            .map(|n| row(places[n % 2], &format!("Zoë{n}")))
            .collect();
        for (n, r) in rows.iter().enumerate() {
            assert_eq!(people.put(r.clone()), n as u32);
        }
        people.shrink_to_fit();
        for (n, r) in rows.iter().enumerate() {
            assert_eq!(people.slot_of(r.id), Some(n as u32));
            assert_eq!(&people.row(n as u32), r);
        }
        assert_eq!(people.slot_of(UserId::new()), None);
        // Two places for a thousand people.
        assert_eq!(people.places.len(), 2);
        // A second put of an id replaces it in its slot.
        let mut moved = rows[3].clone();
        moved.first_name = "Bea".into();
        moved.place = places[1];
        assert_eq!(people.put(moved.clone()), 3);
        assert_eq!(people.row(3), moved);
        assert_eq!(people.len(), 1000);
    }

    #[test]
    fn a_text_longer_than_the_ends_hold_is_cut_at_a_character() {
        let mut people = People::default();
        let mut long = row(
            Place::District {
                district: DistrictId::new(),
            },
            "Ana",
        );
        long.login = "é".repeat(40_000);
        let slot = people.put(long);
        let person = people.get(slot);
        assert_eq!(person.text(Text::FirstName), "Ana");
        let login = person.text(Text::Login);
        assert!(login.len() <= usize::from(u16::MAX) && login.chars().all(|c| c == 'é'));
    }

    /// The record per person stays small: a million of them are most of the
    /// serving process's memory (it was 96 bytes with the place's two ids
    /// and `u32` ends).
    #[test]
    fn a_person_record_is_at_most_56_bytes() {
        assert!(
            std::mem::size_of::<Person>() <= 56,
            "{}",
            std::mem::size_of::<Person>()
        );
    }
}
