//! The three-way merge of a re-import (policy.md "Roster sync"), pure: the
//! record as hallpass holds it, what the roster said last time, what it says now.
//!
//! Promises, field by field (login, first name, last name, role, place, grade,
//! enabled):
//! * the roster's value equals last time's: the roster did not change the
//!   field, and hallpass's value is kept (counted as a local change kept when
//!   it differs);
//! * the roster's value differs from last time's: the roster changed it, and
//!   it is applied; when hallpass's value also differed from last time's (and
//!   from the roster's), both sides changed, the roster wins and the field is
//!   a conflict for the report;
//! * disabling always applies: a roster that says disabled disables, whatever
//!   was done in hallpass;
//! * the merged role and place always fit each other (a district admin has a
//!   district, everyone else a school): when merging them separately would
//!   not, the roster's role and place are taken together, as a conflict;
//! * a role the roster changes keeps the hierarchy's shape ([`role_change_allowed`]);
//! * a user with nothing remembered (imported before hallpass remembered
//!   roster values) takes this bundle as last time's values, so the first
//!   import after an upgrade keeps every record as it is.

use crate::directory::{Place, Role, User};
use crate::store::RosterValues;

/// A field the roster sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Login,
    FirstName,
    LastName,
    Role,
    Place,
    Grade,
    Disabled,
}

impl Field {
    /// Stable names, as in `--json` and the audit log's fields.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Role => "role",
            Self::Place => "place",
            Self::Grade => "grade",
            Self::Disabled => "disabled",
        }
    }

    /// The audit log's fields that record a change to this one.
    pub fn audit_keys(&self) -> &'static [&'static str] {
        match self {
            Self::Place => &["school_id", "district_id"],
            Self::Login => &["login"],
            Self::FirstName => &["first_name"],
            Self::LastName => &["last_name"],
            Self::Role => &["role"],
            Self::Grade => &["grade"],
            Self::Disabled => &["disabled"],
        }
    }
}

/// A value in a conflict; places are named later, from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldValue {
    Text(String),
    Place(Place),
}

/// Both sides changed one field; the roster's value was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldConflict {
    pub field: Field,
    pub hallpass: FieldValue,
    pub roster: FieldValue,
}

/// The record after the merge, and what the merge did.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub after: User,
    /// Fields the roster changed that were applied.
    pub applied: usize,
    /// Fields changed in hallpass that the roster did not change, kept.
    pub kept: usize,
    pub conflicts: Vec<FieldConflict>,
}

/// Merges `theirs` (the roster now) into `current` against `last` (the roster
/// last time, or `theirs` itself when nothing is remembered).
pub(crate) fn merge(current: &User, last: &RosterValues, theirs: &RosterValues) -> Merged {
    let mut m = Merged {
        after: current.clone(),
        applied: 0,
        kept: 0,
        conflicts: Vec::new(),
    };
    merge_names(&mut m, current, last, theirs);
    merge_place_and_state(&mut m, current, last, theirs);
    keep_the_shape(&mut m, current, theirs);
    m
}

/// Login, first and last name.
fn merge_names(m: &mut Merged, c: &User, l: &RosterValues, t: &RosterValues) {
    let text = |s: &str| FieldValue::Text(s.to_owned());
    if three_way(
        m,
        Field::Login,
        c.login == l.login,
        c.login == t.login,
        l.login != t.login,
        || (text(c.login.as_str()), text(t.login.as_str())),
    ) {
        m.after.login = t.login.clone();
    }
    if three_way(
        m,
        Field::FirstName,
        c.first_name == l.first_name,
        c.first_name == t.first_name,
        l.first_name != t.first_name,
        || (text(c.first_name.as_str()), text(t.first_name.as_str())),
    ) {
        m.after.first_name = t.first_name.clone();
    }
    if three_way(
        m,
        Field::LastName,
        c.last_name == l.last_name,
        c.last_name == t.last_name,
        l.last_name != t.last_name,
        || (text(c.last_name.as_str()), text(t.last_name.as_str())),
    ) {
        m.after.last_name = t.last_name.clone();
    }
}

/// Role, place, grade and whether the account is disabled.
fn merge_place_and_state(m: &mut Merged, c: &User, l: &RosterValues, t: &RosterValues) {
    let text = |s: &str| FieldValue::Text(s.to_owned());
    let grade = |g: Option<crate::directory::Grade>| text(&g.map_or("none".into(), |g| g.code()));
    if three_way(
        m,
        Field::Role,
        c.role == l.role,
        c.role == t.role,
        l.role != t.role,
        || (text(c.role.as_str()), text(t.role.as_str())),
    ) {
        m.after.role = t.role;
    }
    if three_way(
        m,
        Field::Place,
        c.place == l.place,
        c.place == t.place,
        l.place != t.place,
        || (FieldValue::Place(c.place), FieldValue::Place(t.place)),
    ) {
        m.after.place = t.place;
    }
    if three_way(
        m,
        Field::Grade,
        c.grade == l.grade,
        c.grade == t.grade,
        l.grade != t.grade,
        || (grade(c.grade), grade(t.grade)),
    ) {
        m.after.grade = t.grade;
    }
    let flag = |d: bool| text(if d { "disabled" } else { "enabled" });
    // Disabling always applies; enabling is an ordinary field.
    let roster_changed = l.disabled != t.disabled || (t.disabled && !c.disabled);
    if three_way(
        m,
        Field::Disabled,
        c.disabled == l.disabled,
        c.disabled == t.disabled,
        roster_changed,
        || (flag(c.disabled), flag(t.disabled)),
    ) {
        m.after.disabled = t.disabled;
    }
}

/// One field: returns whether the roster's value is to be applied.
fn three_way(
    m: &mut Merged,
    field: Field,
    current_is_last: bool,
    current_is_theirs: bool,
    roster_changed: bool,
    values: impl FnOnce() -> (FieldValue, FieldValue),
) -> bool {
    if !roster_changed {
        if !current_is_last {
            m.kept += 1;
        }
        return false;
    }
    if current_is_theirs {
        return false;
    }
    m.applied += 1;
    if !current_is_last {
        let (hallpass, roster) = values();
        m.conflicts.push(FieldConflict {
            field,
            hallpass,
            roster,
        });
    }
    true
}

/// Role and place merged apart may not fit (a local move to district admin,
/// and a roster that changes the role between school roles): then the roster's
/// role and place go together. Only students have a grade.
fn keep_the_shape(m: &mut Merged, current: &User, theirs: &RosterValues) {
    if !m.after.place.fits(m.after.role) {
        m.conflicts
            .retain(|c| !matches!(c.field, Field::Role | Field::Place));
        m.conflicts.push(FieldConflict {
            field: Field::Role,
            hallpass: FieldValue::Text(current.role.as_str().to_owned()),
            roster: FieldValue::Text(theirs.role.as_str().to_owned()),
        });
        m.after.role = theirs.role;
        m.after.place = theirs.place;
    }
    if m.after.role != Role::Student {
        m.after.grade = None;
    }
}

/// A record's own values, as the baseline when nothing is remembered.
pub(crate) fn values_of(user: &User) -> RosterValues {
    RosterValues {
        login: user.login.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        role: user.role,
        place: user.place,
        grade: user.grade,
        disabled: user.disabled,
    }
}

/// Whether an import may change a role from `from` to `to`: the roster may
/// move a member of staff one step along teacher, school admin, district
/// admin; it never makes a student staff or staff a student, and nobody climbs
/// two steps in one import (a typo in one row must not make a student, or a
/// teacher, a district admin).
pub(crate) fn role_change_allowed(from: Role, to: Role) -> bool {
    let step = |r: Role| match r {
        Role::Student => None,
        Role::Teacher => Some(0_u8),
        Role::SchoolAdmin => Some(1),
        Role::DistrictAdmin => Some(2),
    };
    match (step(from), step(to)) {
        (None, None) => true,
        (Some(a), Some(b)) => a.abs_diff(b) <= 1,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
