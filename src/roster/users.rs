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
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::directory::{DistrictId, SchoolId};

    const HEADER: &str = "sourcedId,status,enabledUser,orgSourcedIds,role,username,givenName,familyName,email,grades";

    struct Fixture {
        orgs: OrgMap,
        district: DistrictId,
        school: SchoolId,
    }

    fn fixture() -> Fixture {
        let district = DistrictId::new();
        let school = SchoolId::new();
        let mut orgs = OrgMap::new();
        orgs.insert("d".into(), OrgRef::District(district));
        orgs.insert("s".into(), OrgRef::School { school, district });
        Fixture {
            orgs,
            district,
            school,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap()
    }

    /// Plans every row of `rows` (CSV lines after the header) against `existing`.
    fn plan(f: &Fixture, existing: Vec<User>, rows: &[&str]) -> Vec<Result<Plan, String>> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("users.csv"),
            format!("{HEADER}\n{}\n", rows.join("\n")),
        )
        .unwrap();
        let mut table = Table::open(dir.path(), "users.csv").unwrap();
        let cols = UserColumns::find(&table).unwrap();
        let mut planner = Planner::new(TenantId::new(), &f.orgs, existing, now());
        let mut plans = Vec::new();
        while let Some(record) = table.next_record().unwrap() {
            plans.push(planner.plan(&record, &cols));
        }
        plans
    }

    fn written(plan: &Result<Plan, String>) -> &RosterWrite {
        match plan {
            Ok(Plan::Write(w)) => w,
            Ok(Plan::Unchanged) => panic!("expected a write, got unchanged"),
            Err(reason) => panic!("expected a write, got refused: {reason}"),
        }
    }

    fn refused(plan: &Result<Plan, String>) -> &str {
        match plan {
            Err(reason) => reason,
            Ok(_) => panic!("expected a refusal"),
        }
    }

    #[test]
    fn an_administrator_at_a_district_is_a_district_admin_and_at_a_school_a_school_admin() {
        let f = fixture();
        let plans = plan(
            &f,
            vec![],
            &[
                "a,,,d,administrator,dana,Dana,Day,,",
                "b,,,s,Administrator,sam,Sam,Sun,,",
            ],
        );
        let (dana, sam) = (written(&plans[0]), written(&plans[1]));
        assert_eq!(
            (dana.after.role, dana.after.place),
            (
                Role::DistrictAdmin,
                Place::District {
                    district: f.district
                }
            )
        );
        assert_eq!(sam.after.role, Role::SchoolAdmin);
        assert_eq!(sam.after.place.school(), Some(f.school));
        assert_eq!(dana.action, Action::UserCreate);
    }

    #[test]
    fn a_student_takes_the_first_known_school_of_their_orgs() {
        let f = fixture();
        let plans = plan(
            &f,
            vec![],
            &["a,,,\"gone, d, s\",student,ana,Ana,Lopez,,\"7, 8\""],
        );
        let ana = written(&plans[0]);
        assert_eq!(ana.after.place.school(), Some(f.school));
        assert_eq!(
            ana.after.grade,
            Some(Grade::Numbered(7)),
            "the first of several grades, zero-padded"
        );
        assert_eq!(ana.after.source_id.as_deref(), Some("a"));
    }

    #[test]
    fn a_student_or_teacher_at_a_district_only_is_refused_naming_the_org() {
        let f = fixture();
        let plans = plan(
            &f,
            vec![],
            &[
                "a,,,d,student,ana,Ana,Lopez,,",
                "b,,,d,teacher,ben,Ben,Ng,,",
            ],
        );
        assert!(
            refused(&plans[0]).contains("a student belongs to a school, but org d is a district")
        );
        assert!(refused(&plans[1]).contains("a teacher belongs to a school"));
    }

    #[test]
    fn the_email_is_the_login_when_the_username_is_empty() {
        let f = fixture();
        let plans = plan(
            &f,
            vec![],
            &[
                "a,,,s,teacher,,Ana,Lopez,ana@school.example,",
                "b,,,s,teacher,,Ben,Ng,,",
            ],
        );
        assert_eq!(
            written(&plans[0]).after.login.as_str(),
            "ana@school.example"
        );
        assert!(refused(&plans[1]).contains("username and email are both empty"));
    }

    #[test]
    fn a_login_is_claimed_by_the_first_row_that_is_imported_and_not_by_a_refused_one() {
        let f = fixture();
        let plans = plan(
            &f,
            vec![],
            &[
                "a,,,s,student,ana,Ana,Lopez,,14",
                "b,,,s,student,ANA,Ana,Lopez,,07",
                "c,,,s,student,Ana,Ana,Lopez,,07",
            ],
        );
        assert!(refused(&plans[0]).starts_with("grades:"));
        written(&plans[1]);
        assert_eq!(
            refused(&plans[2]),
            "login Ana is already claimed by sourcedId b on line 3."
        );
    }

    #[test]
    fn a_row_that_matches_its_record_is_unchanged_and_a_change_bumps_the_version() {
        let f = fixture();
        let created = written(&plan(&f, vec![], &["a,,,s,student,ana,Ana,Lopez,,07"])[0])
            .after
            .clone();
        let plans = plan(
            &f,
            vec![created.clone()],
            &["a,active,true,s,student,ana,Ana,Lopez,,07"],
        );
        assert!(matches!(plans[0], Ok(Plan::Unchanged)));
        let plans = plan(
            &f,
            vec![created.clone()],
            &["a,,,s,student,ana,Ana,López,,07"],
        );
        let edit = written(&plans[0]);
        assert_eq!(
            (edit.action, edit.after.version, edit.after.id),
            (Action::UserEdit, created.version + 1, created.id)
        );
    }

    #[test]
    fn tobedeleted_needs_only_the_sourced_id_and_disables_a_known_user() {
        let f = fixture();
        let created = written(&plan(&f, vec![], &["a,,,s,student,ana,Ana,Lopez,,07"])[0])
            .after
            .clone();
        let plans = plan(
            &f,
            vec![created.clone()],
            &["a,tobedeleted,,,,,,,,", "unknown,tobedeleted,,,,,,,,"],
        );
        let disable = written(&plans[0]);
        assert_eq!(
            (disable.action, disable.after.disabled),
            (Action::UserDisable, true)
        );
        assert_eq!(
            disable.after.last_name, created.last_name,
            "nothing else changes"
        );
        assert!(
            matches!(plans[1], Ok(Plan::Unchanged)),
            "an unknown user is not created only to be deleted"
        );
    }

    #[test]
    fn unknown_roles_statuses_and_enabled_values_are_refused_with_the_value() {
        let f = fixture();
        let plans = plan(
            &f,
            vec![],
            &[
                "a,,,s,aide,a,A,B,,",
                "b,archived,,s,student,b,A,B,,",
                "c,,maybe,s,student,c,A,B,,",
                "d,,,s,,d,A,B,,",
            ],
        );
        assert!(refused(&plans[0]).contains("role \"aide\" is not imported"));
        assert!(refused(&plans[1]).contains("status \"archived\""));
        assert!(refused(&plans[2]).contains("enabledUser \"maybe\""));
        assert_eq!(refused(&plans[3]), "role is empty.");
    }
}
