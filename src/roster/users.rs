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
//! * a known user's record is merged field by field with what the roster
//!   said last time ([`super::sync`]): local changes the roster did not
//!   overrule are kept, and both-sides changes are collected for the report;
//! * `status=tobedeleted` only disables (it needs nothing but the `sourcedId`,
//!   so a departed user is disabled even when the rest of their row is stale);
//!   `enabledUser=false` disables too; disabling always applies;
//! * a role change the hierarchy's shape does not allow refuses the row.
//!
//! OneRoster 1.1 users.csv has no title column: titles set in hallpass are kept.

mod values;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::ImportError;
use super::orgs::OrgMap;
use super::report::MissingUser;
use super::sync::{self, FieldConflict};
use super::table::{Record, Table};
use crate::audit::Action;
use crate::directory::{Login, TenantId, User, UserId};
use crate::store::{RosterValues, RosterWrite};

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

/// A both-sides change, before the audit log is asked who made the local one.
#[derive(Debug, Clone)]
pub(crate) struct PendingConflict {
    pub user: UserId,
    pub source_id: String,
    pub login: String,
    pub conflict: FieldConflict,
}

/// What the merge did over the whole bundle.
#[derive(Debug, Default)]
pub(crate) struct SyncTally {
    pub applied: usize,
    pub kept: usize,
    /// Known users with nothing remembered: this bundle became the baseline.
    pub baselined: usize,
    pub conflicts: Vec<PendingConflict>,
}

/// Decides, row by row, what the import writes.
pub(crate) struct Planner<'a> {
    tenant: TenantId,
    orgs: &'a OrgMap,
    now: DateTime<Utc>,
    by_source: HashMap<String, (User, Option<RosterValues>)>,
    logins: HashMap<String, Holder>,
    seen: HashMap<String, u64>,
    /// Every `sourcedId` the bundle lists, refused rows included.
    listed: HashSet<String>,
    pub sync: SyncTally,
}

impl<'a> Planner<'a> {
    /// `existing` is every user of the tenant, as the store holds them now;
    /// `remembered` what the roster last said about them.
    pub fn new(
        tenant: TenantId,
        orgs: &'a OrgMap,
        existing: Vec<User>,
        mut remembered: HashMap<UserId, RosterValues>,
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
                let last = remembered.remove(&user.id);
                by_source.insert(source, (user, last));
            }
        }
        Self {
            tenant,
            orgs,
            now,
            by_source,
            logins,
            seen: HashMap::new(),
            listed: HashSet::new(),
            sync: SyncTally::default(),
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
        self.listed.insert(source_id.to_owned());
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
        let status = record.text(cols.status, "status")?.to_ascii_lowercase();
        match status.as_str() {
            "" | "active" => {}
            "tobedeleted" => return Ok(self.tobedeleted(source_id)),
            other => {
                return Err(format!(
                    "status \"{other}\" is not one of active or tobedeleted."
                ));
            }
        }
        let theirs = values::roster_values(record, cols, self.orgs)?;
        let plan = match self.by_source.get(source_id) {
            Some((current, last)) => {
                let (current, last) = (current.clone(), last.clone());
                self.merge_existing(current, last, theirs, source_id)?
            }
            None => {
                self.check_login(&theirs.login, None)?;
                let user = User {
                    id: UserId::new(),
                    tenant_id: self.tenant,
                    login: theirs.login.clone(),
                    first_name: theirs.first_name.clone(),
                    last_name: theirs.last_name.clone(),
                    role: theirs.role,
                    place: theirs.place,
                    grade: theirs.grade,
                    title: None,
                    must_change_password: false,
                    disabled: theirs.disabled,
                    discord_user_id: None,
                    source_id: Some(source_id.to_owned()),
                    version: 1,
                    updated_at: self.now,
                };
                self.write(None, user, Some(theirs))
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

    /// `status=tobedeleted`: disables a known user (nothing else of the row is
    /// read, so a departed user is disabled even when the rest of the row is stale).
    fn tobedeleted(&mut self, source_id: &str) -> Plan {
        let Some((user, last)) = self.by_source.get(source_id) else {
            // Never imported: nothing to delete.
            return Plan::Unchanged;
        };
        let said = RosterValues {
            disabled: true,
            ..last.clone().unwrap_or_else(|| sync::values_of(user))
        };
        let remember = (last.as_ref() != Some(&said)).then_some(said);
        if user.disabled {
            return match remember {
                None => Plan::Unchanged,
                Some(_) => Self::remember_only(user.clone(), remember),
            };
        }
        let after = User {
            disabled: true,
            ..user.clone()
        };
        self.sync.applied += 1;
        self.write(Some(user.clone()), after, remember)
    }

    /// A row for a known user: the three-way merge of [`sync`].
    fn merge_existing(
        &mut self,
        current: User,
        last: Option<RosterValues>,
        theirs: RosterValues,
        source_id: &str,
    ) -> Result<Plan, String> {
        let baseline = last.clone().unwrap_or_else(|| theirs.clone());
        let merged = sync::merge(&current, &baseline, &theirs);
        let to = merged.after.role;
        if theirs.role != baseline.role
            && to != current.role
            && !sync::role_change_allowed(current.role, to)
        {
            return Err(format!(
                "role: the roster changes {} from {} to {}, and an import does not: a student never becomes \
                 staff or staff a student, and nobody moves up two steps at once. If it is right, change it in hallpass.",
                current.login,
                current.role.label(),
                to.label()
            ));
        }
        self.check_login(&merged.after.login, Some(current.id))?;
        if last.is_none() {
            self.sync.baselined += 1;
        }
        self.sync.applied += merged.applied;
        self.sync.kept += merged.kept;
        for conflict in merged.conflicts {
            self.sync.conflicts.push(PendingConflict {
                user: current.id,
                source_id: source_id.to_owned(),
                login: current.login.to_string(),
                conflict,
            });
        }
        let remember = (last.as_ref() != Some(&theirs)).then_some(theirs);
        let after = merged.after;
        if after == current {
            return Ok(match remember {
                None => Plan::Unchanged,
                Some(_) => Self::remember_only(current, remember),
            });
        }
        let released = current.login.key();
        if released != after.login.key()
            && self
                .logins
                .get(&released)
                .is_some_and(|h| h.user == current.id)
        {
            // Rows are written in file order, so a later row may take this login.
            self.logins.remove(&released);
        }
        Ok(self.write(Some(current), after, remember))
    }

    /// Refuses a login held by another user of the tenant or claimed by an earlier row.
    fn check_login(&self, login: &Login, this: Option<UserId>) -> Result<(), String> {
        let Some(holder) = self
            .logins
            .get(&login.key())
            .filter(|h| Some(h.user) != this)
        else {
            return Ok(());
        };
        Err(match (&holder.source_id, holder.line) {
            (Some(other), Some(line)) => {
                format!("login {login} is already claimed by sourcedId {other} on line {line}.")
            }
            (Some(other), None) => {
                format!("login {login} is already used by sourcedId {other} in this tenant.")
            }
            (None, _) => format!(
                "login {login} is already used by another user of this tenant (not from a roster)."
            ),
        })
    }

    /// Only what the roster said changes; the record stays as it is.
    fn remember_only(user: User, remember: Option<RosterValues>) -> Plan {
        Plan::Write(RosterWrite {
            before: Some(user.clone()),
            after: user,
            action: Action::UserEdit,
            remember,
        })
    }

    fn write(&self, before: Option<User>, mut after: User, remember: Option<RosterValues>) -> Plan {
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
            remember,
        })
    }

    /// Imported users of the tenant, still enabled, that the bundle does not list.
    pub fn missing(&self) -> Vec<MissingUser> {
        let mut missing: Vec<MissingUser> = self
            .by_source
            .iter()
            .filter(|(source, (user, _))| !user.disabled && !self.listed.contains(*source))
            .map(|(source, (user, _))| MissingUser {
                source_id: source.clone(),
                user_id: user.id.to_string(),
                login: user.login.to_string(),
            })
            .collect();
        missing.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        missing
    }
}

#[cfg(test)]
mod tests;
