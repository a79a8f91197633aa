//! One tenant's directory held in memory for autocomplete: every person with
//! the fields a choice shows and the keys a prefix search reads, and for every
//! school and district three lists of its people sorted by last name, first
//! name and login key. A search is three binary searches and a short walk,
//! whatever the size of the district.
//!
//! The search answers what `Store::search_users_with_school` answers in SQL:
//! the three prefix ranges of the scope, each walked in key order keeping the
//! roles asked for, each capped at `limit`, merged and put in name order.

use std::collections::HashMap;

use super::entry::{Entry, HEAD, MOST_PEOPLE, head_of};
use super::people::{People, Person, Text};
use crate::directory::{DistrictId, Grade, Place, Role, SchoolId, UserId};

/// A person as a choice needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: UserId,
    pub role: Role,
    pub place: Place,
    pub disabled: bool,
    pub grade: Option<Grade>,
    pub first_name: String,
    pub last_name: String,
    pub login: String,
    pub first_key: String,
    pub last_key: String,
    pub login_key: String,
}

impl PersonRow {
    /// The row of a user read whole (the SQL search's answer).
    pub fn of(user: &crate::directory::User) -> Self {
        use crate::store::hierarchy::search_key;
        Self {
            id: user.id,
            role: user.role,
            place: user.place,
            disabled: user.disabled,
            grade: user.grade,
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            login: user.login.as_str().to_owned(),
            first_key: search_key(user.first_name.as_str()),
            last_key: search_key(user.last_name.as_str()),
            login_key: user.login.key(),
        }
    }

    /// "Lopez, Ana".
    pub fn display_name(&self) -> String {
        format!("{}, {}", self.last_name, self.first_name)
    }
}

/// The branch keys, in the order of the lists of a [`Lists`].
const KEYS: [Text; 3] = [Text::LastKey, Text::FirstKey, Text::LoginKey];

/// Where a search looks: a school's people or a district's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    School(SchoolId),
    District(DistrictId),
}

fn areas(place: &Place) -> impl Iterator<Item = Area> + use<> {
    let school = place.school().map(Area::School);
    school
        .into_iter()
        .chain(std::iter::once(Area::District(place.district())))
}

/// One area's people, sorted by each key (ties by slot).
#[derive(Debug, Default, Clone)]
struct Lists([Vec<Entry>; 3]);

/// A tenant's people, indexed.
#[derive(Debug, Default)]
pub struct TenantIndex {
    people: People,
    areas: HashMap<Area, Lists>,
    schools: HashMap<SchoolId, String>,
}

/// More changes than this at once and the lists are sorted again whole,
/// rather than each change moving entries of a long list.
const REBUILD_ABOVE: usize = 64;

impl TenantIndex {
    /// The index of `rows` with the schools' names.
    #[cfg(test)]
    pub fn build(rows: Vec<PersonRow>, schools: HashMap<SchoolId, String>) -> Self {
        let mut index = Self::with_schools(schools);
        for row in rows {
            index.put_row(row);
        }
        index.finish();
        index
    }

    /// An index being loaded: [`TenantIndex::put_row`] each person, then
    /// [`TenantIndex::finish`] (rows streamed in, never all held as rows).
    pub fn with_schools(schools: HashMap<SchoolId, String>) -> Self {
        Self {
            schools,
            ..Self::default()
        }
    }

    pub fn put_row(&mut self, row: PersonRow) {
        self.put(row);
    }

    /// Sorts the lists of an index loaded by [`TenantIndex::put_row`].
    pub fn finish(&mut self) {
        self.sort_all();
        self.people.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn school_name(&self, school: SchoolId) -> Option<&str> {
        self.schools.get(&school).map(String::as_str)
    }

    pub fn set_school_name(&mut self, school: SchoolId, name: String) {
        self.schools.insert(school, name);
    }

    /// Stores `row` (new, or replacing the person's earlier state) without
    /// touching the sorted lists; returns the slot.
    fn put(&mut self, row: PersonRow) -> u32 {
        self.people.put(row)
    }

    /// Every area's lists, from the people as they are now.
    fn sort_all(&mut self) {
        let mut all: HashMap<Area, Lists> = HashMap::new();
        for (slot, person) in self.people.iter().enumerate().take(MOST_PEOPLE) {
            for area in areas(&self.people.place(person)) {
                let lists = all.entry(area).or_default();
                for (list, key) in lists.0.iter_mut().zip(KEYS) {
                    list.push(Entry::new(slot as u32, person.role, person.text(key)));
                }
            }
        }
        let people = &self.people;
        for lists in all.values_mut() {
            for (list, key) in lists.0.iter_mut().zip(KEYS) {
                list.sort_unstable_by(|a, b| {
                    a.head
                        .cmp(&b.head)
                        .then_with(|| sort_key(people, *a, key).cmp(&sort_key(people, *b, key)))
                });
                list.shrink_to_fit();
            }
        }
        self.areas = all;
    }

    /// Applies changed people: each replaces its earlier state (or is added).
    pub fn apply(&mut self, rows: Vec<PersonRow>) {
        if rows.len() > REBUILD_ABOVE {
            for row in rows {
                self.put(row);
            }
            self.sort_all();
            return;
        }
        for row in rows {
            if let Some(slot) = self.people.slot_of(row.id) {
                let before = self.people.get(slot).clone();
                self.unlist(slot, &before);
            }
            let slot = self.put(row);
            self.list(slot);
        }
    }

    fn unlist(&mut self, slot: u32, before: &Person) {
        for area in areas(&self.people.place(before)) {
            let Some(lists) = self.areas.get_mut(&area) else {
                continue;
            };
            for (list, key) in lists.0.iter_mut().zip(KEYS) {
                let wanted = (before.text(key), slot);
                let people = &self.people;
                let at = list.partition_point(|e| sort_key(people, *e, key) < wanted);
                if list.get(at).map(|e| e.slot()) == Some(slot) {
                    list.remove(at);
                }
            }
        }
    }

    fn list(&mut self, slot: u32) {
        if slot as usize >= MOST_PEOPLE.min(self.people.len()) {
            return;
        }
        let place = self.people.place(self.people.get(slot));
        for area in areas(&place) {
            let lists = self.areas.entry(area).or_default();
            for (list, key) in lists.0.iter_mut().zip(KEYS) {
                let people = &self.people;
                let person = people.get(slot);
                let entry = Entry::new(slot, person.role, person.text(key));
                let wanted = sort_key(people, entry, key);
                let at = list.partition_point(|e| sort_key(people, *e, key) < wanted);
                list.insert(at, entry);
            }
        }
    }

    /// People of `roles` in `area` whose last name, first name or login key
    /// starts with `prefix` (a search key), in name order, at most `limit`.
    pub fn search(&self, area: Area, roles: &[Role], prefix: &str, limit: usize) -> Vec<PersonRow> {
        let Some(lists) = self.areas.get(&area) else {
            return Vec::new();
        };
        let head = head_of(prefix);
        // A prefix no longer than the head (and without the padding's zero
        // byte) is matched by the heads alone.
        let by_head = prefix.len() <= HEAD && !prefix.as_bytes().contains(&0);
        let mut found: Vec<u32> = Vec::new();
        for (list, key) in lists.0.iter().zip(KEYS) {
            let start = list.partition_point(|e| match e.head.cmp(&head) {
                std::cmp::Ordering::Equal => self.person(e.slot()).text(key) < prefix,
                order => order.is_lt(),
            });
            let branch = list[start..]
                .iter()
                .take_while(|e| match by_head {
                    true => e.head[..prefix.len()] == head[..prefix.len()],
                    false => self.person(e.slot()).text(key).starts_with(prefix),
                })
                .filter(|e| roles.contains(&e.role()))
                .take(limit)
                .map(|e| e.slot());
            found.extend(branch);
        }
        found.sort_unstable();
        found.dedup();
        // Each candidate's person is read once, in a loop whose loads do not
        // wait on each other (a sort's comparisons would fetch them one
        // after another, each a cache miss).
        let mut keyed: Vec<_> = found
            .iter()
            .map(|s| {
                let p = self.person(*s);
                // The head reads the texts now; it orders as the last name does.
                let order = p.name_order();
                ((head_of(order.0), order), p.id, *s)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        keyed.truncate(limit);
        keyed
            .into_iter()
            .map(|(_, _, s)| self.people.row(s))
            .collect()
    }

    /// The person of a slot; slots come from the lists, which hold only slots
    /// of `people`.
    fn person(&self, slot: u32) -> &Person {
        self.people.get(slot)
    }
}

fn sort_key(people: &People, entry: Entry, key: Text) -> (&str, u32) {
    let slot = entry.slot();
    (people.get(slot).text(key), slot)
}
