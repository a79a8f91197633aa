//! users.csv: from one row to the record it asks for, decided in memory.
//!
//! Promises:
//! * a row is keyed by `sourcedId` within the tenant: a known one updates its
//!   record, an unknown one creates a record, and a row that asks for what the
//!   record already holds is `Unchanged` (nothing is written);
//! * every value is parsed into the directory's types, and a row with any bad
//!   value is refused whole, with a reason naming the column;
//! * a login is never taken twice: one held by another user of the tenant, or
//!   claimed by an earlier row of the bundle, refuses the row (logins are
//!   compared case-insensitively, as the directory does);
//! * `orgSourcedIds` may list several orgs: a student or teacher takes the
//!   first that is a known school, an administrator the first known org of any
//!   kind (a district makes a district admin, a school a school admin);
//! * `status=tobedeleted` only disables (it needs nothing but the `sourcedId`,
//!   so a departed user is disabled even when the rest of their row is stale);
//!   `enabledUser=false` keeps the record in step and disabled; an active row
//!   enables the user again.
//!
//! OneRoster 1.1 users.csv has no title column: titles set in hallpass are kept.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::ImportError;
use super::orgs::{OrgMap, OrgRef};
use super::table::{Record, Table};
use crate::audit::Action;
use crate::directory::{Grade, Login, PersonName, Place, Role, TenantId, User, UserId};
use crate::store::RosterWrite;

/// The columns of users.csv this import reads.
pub(crate) struct UserColumns {
    source_id: usize,
    status: Option<usize>,
    enabled: Option<usize>,
    orgs: usize,
    role: usize,
    username: Option<usize>,
    given: usize,
    family: usize,
    email: Option<usize>,
    grades: Option<usize>,
}

impl UserColumns {
    pub fn find(table: &Table) -> Result<Self, ImportError> {
        let username = table.column("username");
        let email = table.column("email");
        if username.is_none() && email.is_none() {
            table.required("username")?;
        }
        Ok(Self {
            source_id: table.required("sourcedId")?,
            status: table.column("status"),
            enabled: table.column("enabledUser"),
            orgs: table.required("orgSourcedIds")?,
            role: table.required("role")?,
            username,
            given: table.required("givenName")?,
            family: table.required("familyName")?,
            email,
            grades: table.column("grades"),
        })
    }
}

/// What a row asks for.
// Returned once per row and moved straight into a Vec: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Plan {
    Write(RosterWrite),
    Unchanged,
}

/// Who holds a login: a record of the tenant, or a row of this bundle.
struct Holder {
    user: UserId,
    source_id: Option<String>,
    line: Option<u64>,
}

/// Decides, row by row, what the import writes.
pub(crate) struct Planner<'a> {
    tenant: TenantId,
    orgs: &'a OrgMap,
    now: DateTime<Utc>,
    by_source: HashMap<String, User>,
    logins: HashMap<String, Holder>,
    seen: HashMap<String, u64>,
}

impl<'a> Planner<'a> {
    /// `existing` is every user of the tenant, as the store holds them now.
    pub fn new(
        tenant: TenantId,
        orgs: &'a OrgMap,
        existing: Vec<User>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut logins = HashMap::with_capacity(existing.len());
        let mut by_source = HashMap::with_capacity(existing.len());
        for user in existing {
            logins.insert(
                user.login.key(),
                Holder {
                    user: user.id,
                    source_id: user.source_id.clone(),
                    line: None,
                },
            );
            if let Some(source) = user.source_id.clone() {
                by_source.insert(source, user);
            }
        }
        Self {
            tenant,
            orgs,
            now,
            by_source,
            logins,
            seen: HashMap::new(),
        }
    }

    /// The row's `sourcedId` as written, for the report (even when the row is refused).
    pub fn source_id<'r>(record: &'r Record, cols: &UserColumns) -> &'r str {
        record
            .text(Some(cols.source_id), "sourcedId")
            .unwrap_or_default()
    }

    /// What `record` asks for, or the reason it is refused. A refused row
    /// leaves the planner as it was, so it claims nothing.
    pub fn plan(&mut self, record: &Record, cols: &UserColumns) -> Result<Plan, String> {
        let source_id = record.text(Some(cols.source_id), "sourcedId")?;
        if source_id.is_empty() {
            return Err("sourcedId is empty.".into());
        }
        if let Some(first) = self.seen.get(source_id) {
            return Err(format!(
                "sourcedId {source_id} is listed again (first on line {first})."
            ));
        }
        let plan = self.plan_row(record, cols, source_id)?;
        self.seen.insert(source_id.to_owned(), record.line);
        Ok(plan)
    }

    fn plan_row(
        &mut self,
        record: &Record,
        cols: &UserColumns,
        source_id: &str,
    ) -> Result<Plan, String> {
        let existing = self.by_source.get(source_id);
        let status = record.text(cols.status, "status")?.to_ascii_lowercase();
        match status.as_str() {
            "" | "active" => {}
            "tobedeleted" => {
                return Ok(match existing {
                    Some(user) if !user.disabled => {
                        let after = User {
                            disabled: true,
                            ..user.clone()
                        };
                        self.write(Some(user.clone()), after)
                    }
                    // Already disabled, or never imported: nothing to delete.
                    _ => Plan::Unchanged,
                });
            }
            other => {
                return Err(format!(
                    "status \"{other}\" is not one of active or tobedeleted."
                ));
            }
        }
        let disabled = match record
            .text(cols.enabled, "enabledUser")?
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "true" => false,
            "false" => true,
            other => return Err(format!("enabledUser \"{other}\" is not true or false.")),
        };
        let role_text = record.text(Some(cols.role), "role")?.to_ascii_lowercase();
        let (role, place) =
            self.place(&role_text, record.text(Some(cols.orgs), "orgSourcedIds")?)?;
        let first_name = PersonName::parse(record.text(Some(cols.given), "givenName")?)
            .map_err(|e| format!("givenName: {e}"))?;
        let last_name = PersonName::parse(record.text(Some(cols.family), "familyName")?)
            .map_err(|e| format!("familyName: {e}"))?;
        let login = login(
            record.text(cols.username, "username")?,
            record.text(cols.email, "email")?,
        )?;
        let grade = match role {
            // Teachers' grades are the grades they teach: not part of their record.
            Role::Student => grade(record.text(cols.grades, "grades")?)?,
            _ => None,
        };
        let this = existing.map(|u| u.id);
        if let Some(holder) = self
            .logins
            .get(&login.key())
            .filter(|h| Some(h.user) != this)
        {
            return Err(match (&holder.source_id, holder.line) {
                (Some(other), Some(line)) => {
                    format!("login {login} is already claimed by sourcedId {other} on line {line}.")
                }
                (Some(other), None) => {
                    format!("login {login} is already used by sourcedId {other} in this tenant.")
                }
                (None, _) => format!(
                    "login {login} is already used by another user of this tenant (not from a roster)."
                ),
            });
        }

        let plan = match existing {
            Some(before) => {
                let after = User {
                    login,
                    first_name,
                    last_name,
                    role,
                    place,
                    grade,
                    disabled,
                    ..before.clone()
                };
                if after == *before {
                    return Ok(Plan::Unchanged);
                }
                let released = before.login.key();
                if released != after.login.key()
                    && self
                        .logins
                        .get(&released)
                        .is_some_and(|h| h.user == before.id)
                {
                    // Rows are written in file order, so a later row may take this login.
                    self.logins.remove(&released);
                }
                self.write(Some(before.clone()), after)
            }
            None => {
                let user = User {
                    id: UserId::new(),
                    tenant_id: self.tenant,
                    login,
                    first_name,
                    last_name,
                    role,
                    place,
                    grade,
                    title: None,
                    must_change_password: false,
                    disabled,
                    discord_user_id: None,
                    source_id: Some(source_id.to_owned()),
                    version: 1,
                    updated_at: self.now,
                };
                self.write(None, user)
            }
        };
        if let Plan::Write(w) = &plan {
            let holder = Holder {
                user: w.after.id,
                source_id: Some(source_id.to_owned()),
                line: Some(record.line),
            };
            self.logins.insert(w.after.login.key(), holder);
        }
        Ok(plan)
    }

    fn write(&self, before: Option<User>, mut after: User) -> Plan {
        let action = match &before {
            None => Action::UserCreate,
            Some(b) if !b.disabled && after.disabled => Action::UserDisable,
            Some(b) if b.disabled && !after.disabled => Action::UserEnable,
            Some(b) if b.role != after.role || b.place != after.place => Action::UserMove,
            Some(_) => Action::UserEdit,
        };
        if let Some(b) = &before {
            after.version = b.version + 1;
            after.updated_at = self.now;
        }
        Plan::Write(RosterWrite {
            before,
            after,
            action,
        })
    }

    /// The role and place a row asks for, from `role` and `orgSourcedIds`.
    fn place(&self, role: &str, orgs: &str) -> Result<(Role, Place), String> {
        let wanted: Vec<&str> = orgs
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if wanted.is_empty() {
            return Err("orgSourcedIds is empty.".into());
        }
        let known: Vec<(&str, OrgRef)> = wanted
            .iter()
            .filter_map(|id| self.orgs.get(*id).map(|o| (*id, *o)))
            .collect();
        let Some((first_id, first)) = known.first().copied() else {
            return Err(format!(
                "org {} is not in orgs.csv or this tenant.",
                wanted.join(", ")
            ));
        };
        match role {
            "administrator" => Ok(match first {
                OrgRef::District(_) => (Role::DistrictAdmin, first.place()),
                OrgRef::School { .. } => (Role::SchoolAdmin, first.place()),
            }),
            "student" | "teacher" => {
                let role = if role == "student" {
                    Role::Student
                } else {
                    Role::Teacher
                };
                let school = known
                    .iter()
                    .find(|(_, o)| matches!(o, OrgRef::School { .. }));
                match school {
                    Some((_, org)) => Ok((role, org.place())),
                    None => Err(format!(
                        "a {role} belongs to a school, but org {first_id} is a district."
                    )),
                }
            }
            "" => Err("role is empty.".into()),
            other => Err(format!(
                "role \"{other}\" is not imported: hallpass imports student, teacher and administrator."
            )),
        }
    }
}

/// `username`, or `email` when the username is empty.
fn login(username: &str, email: &str) -> Result<Login, String> {
    match (username, email) {
        ("", "") => Err("username and email are both empty: one of them is the login.".into()),
        ("", email) => Login::parse(email).map_err(|e| format!("email: {e}")),
        (username, _) => Login::parse(username).map_err(|e| format!("username: {e}")),
    }
}

/// The first of the row's `grades`; none when the cell is empty.
fn grade(grades: &str) -> Result<Option<Grade>, String> {
    match grades.split(',').map(str::trim).find(|g| !g.is_empty()) {
        None => Ok(None),
        Some(g) => Grade::parse(g)
            .map(Some)
            .map_err(|e| format!("grades: {e}")),
    }
}

#[cfg(test)]
mod tests;
