//! enrollments.csv: who is in which class, as student or teacher.
//!
//! Promises:
//! * an enrolment is keyed by `sourcedId` within the tenant; it names a class
//!   (of classes.csv or imported before), a user (of users.csv or imported
//!   before) and a role; a person is in a class once;
//! * only the roles `student` and `teacher` are kept. `administrator`,
//!   `aide`, `guardian`, `parent`, `proctor` and `relative` are valid
//!   OneRoster, so their rows are counted as skipped, not refused (a known
//!   enrolment that now has such a role is ended); any other role is refused;
//! * the user's role in hallpass must fit: a student enrolment needs a
//!   student, a teacher enrolment a teacher (or a school admin who teaches);
//!   a student enrolled as teacher, or a teacher as student, is refused;
//! * `schoolSourcedId`, when given, must be the class's school;
//! * `status=tobedeleted` ends (deletes) the enrolment; an enrolment the file
//!   no longer lists is counted and left as it is; a student whose record
//!   moves to another school stays enrolled until the roster says otherwise;
//! * rows are written in batches, one transaction each; a dry run writes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::ImportError;
use super::class_report::ClassCounts;
use super::orgs::{OrgMap, OrgRef};
use super::report::{ImportReport, RefusedRow};
use super::table::{Record, Table};
use crate::directory::{Class, ClassId, ClassRole, Role, TenantId, UserId};
use crate::store::{ClassImport, EnrollmentRow, RosterUserRef};

/// Enrolment writes per transaction.
const BATCH: usize = 5_000;

/// The OneRoster roles hallpass reads past without keeping.
const SKIPPED_ROLES: &[&str] = &[
    "administrator",
    "aide",
    "guardian",
    "parent",
    "proctor",
    "relative",
];

/// The columns of enrollments.csv this import reads.
pub(crate) struct EnrollmentColumns {
    source_id: usize,
    status: Option<usize>,
    class: usize,
    school: Option<usize>,
    user: usize,
    role: usize,
}

impl EnrollmentColumns {
    pub fn find(table: &Table) -> Result<Self, ImportError> {
        Ok(Self {
            source_id: table.required("sourcedId")?,
            status: table.column("status"),
            class: table.required("classSourcedId")?,
            school: table.column("schoolSourcedId"),
            user: table.required("userSourcedId")?,
            role: table.required("role")?,
        })
    }
}

/// What a row asks for.
enum Plan {
    Write(EnrollmentRow, bool),
    End(String),
    Unchanged,
    Skipped,
}

struct Planner<'a> {
    orgs: &'a OrgMap,
    classes: &'a HashMap<String, Class>,
    users: HashMap<String, RosterUserRef>,
    by_source: HashMap<String, EnrollmentRow>,
    /// Who holds each (class, user) pair now: the enrolment's `sourcedId`.
    pairs: HashMap<(ClassId, UserId), String>,
    seen: HashMap<String, u64>,
}

/// Imports enrollments.csv against `known`: the tenant's orgs, its classes as
/// the class step left them, and its users by `sourcedId`.
#[allow(clippy::too_many_arguments)] // one call site; the groups are already tuples
pub(crate) async fn import_enrollments(
    db: &mut ClassImport,
    tenant: TenantId,
    known: (
        &OrgMap,
        &HashMap<String, Class>,
        HashMap<String, RosterUserRef>,
    ),
    mut table: Table,
    cols: &EnrollmentColumns,
    (dry_run, now): (bool, DateTime<Utc>),
    counts: &mut ClassCounts,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let (orgs, classes, users) = known;
    let existing = db.tenant_enrollments(tenant).await?;
    let pairs = existing
        .iter()
        .map(|e| ((e.class_id, e.user_id), e.source_id.clone()))
        .collect();
    let by_source = existing
        .into_iter()
        .map(|e| (e.source_id.clone(), e))
        .collect();
    let mut planner = Planner {
        orgs,
        classes,
        users,
        by_source,
        pairs,
        seen: HashMap::new(),
    };
    let (mut upserts, mut ended) = (Vec::new(), Vec::new());
    while let Some(record) = table.next_record()? {
        match planner.plan(&record, cols) {
            Ok(Plan::Write(row, true)) => {
                counts.enrollments_created += 1;
                upserts.push(row);
            }
            Ok(Plan::Write(row, false)) => {
                counts.enrollments_updated += 1;
                upserts.push(row);
            }
            Ok(Plan::End(source)) => {
                counts.enrollments_ended += 1;
                ended.push(source);
            }
            Ok(Plan::Unchanged) => counts.enrollments_unchanged += 1,
            Ok(Plan::Skipped) => counts.enrollments_skipped += 1,
            Err(reason) => {
                let source = record
                    .text(Some(cols.source_id), "sourcedId")
                    .unwrap_or_default();
                let refused = RefusedRow::new("enrollments.csv", record.line, Some(source), reason);
                report.refused.push(refused);
            }
        }
        if upserts.len() + ended.len() >= BATCH {
            flush(db, tenant, &mut upserts, &mut ended, dry_run, now).await?;
        }
    }
    flush(db, tenant, &mut upserts, &mut ended, dry_run, now).await?;
    counts.enrollments_missing = planner
        .by_source
        .keys()
        .filter(|s| !planner.seen.contains_key(*s))
        .count();
    Ok(())
}

async fn flush(
    db: &mut ClassImport,
    tenant: TenantId,
    upserts: &mut Vec<EnrollmentRow>,
    ended: &mut Vec<String>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<(), ImportError> {
    if !dry_run && (!upserts.is_empty() || !ended.is_empty()) {
        db.write_enrollments(tenant, upserts, ended, now).await?;
    }
    upserts.clear();
    ended.clear();
    Ok(())
}

impl Planner<'_> {
    fn plan(&mut self, record: &Record, cols: &EnrollmentColumns) -> Result<Plan, String> {
        let source_id = record.text(Some(cols.source_id), "sourcedId")?;
        if source_id.is_empty() {
            return Err("sourcedId is empty.".into());
        }
        if let Some(first) = self.seen.get(source_id) {
            return Err(format!(
                "sourcedId {source_id} is listed again (first on line {first})."
            ));
        }
        // A refused row still claims its sourcedId: it is listed, not missing.
        self.seen.insert(source_id.to_owned(), record.line);
        match record
            .text(cols.status, "status")?
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "active" => {}
            "tobedeleted" => return Ok(self.end(source_id)),
            other => {
                return Err(format!(
                    "status \"{other}\" is not one of active or tobedeleted."
                ));
            }
        }
        let role = match record
            .text(Some(cols.role), "role")?
            .to_ascii_lowercase()
            .as_str()
        {
            "student" => ClassRole::Student,
            "teacher" => ClassRole::Teacher,
            "" => return Err("role is empty.".into()),
            other if SKIPPED_ROLES.contains(&other) => {
                return Ok(match self.end(source_id) {
                    Plan::End(s) => Plan::End(s),
                    _ => Plan::Skipped,
                });
            }
            other => {
                return Err(format!(
                    "role \"{other}\" is not a OneRoster enrolment role (student, teacher, administrator, \
                     aide, guardian, parent, proctor, relative)."
                ));
            }
        };
        let class = self.class(record, cols)?;
        let user = self.user(record, cols, role)?;
        let row = EnrollmentRow {
            source_id: source_id.to_owned(),
            class_id: class,
            user_id: user,
            role,
        };
        let known = self.by_source.get(source_id);
        if known == Some(&row) {
            return Ok(Plan::Unchanged);
        }
        if let Some(holder) = self.pairs.get(&(class, user)).filter(|h| *h != source_id) {
            return Err(format!(
                "userSourcedId {} is already enrolled in classSourcedId {} by sourcedId {holder}.",
                record.text(Some(cols.user), "userSourcedId")?,
                record.text(Some(cols.class), "classSourcedId")?,
            ));
        }
        let created = known.is_none();
        if let Some(old) = known {
            self.pairs.remove(&(old.class_id, old.user_id));
        }
        self.pairs.insert((class, user), source_id.to_owned());
        self.by_source.insert(source_id.to_owned(), row.clone());
        Ok(Plan::Write(row, created))
    }

    /// Ends a known enrolment; an unknown one has nothing to end.
    fn end(&mut self, source_id: &str) -> Plan {
        match self.by_source.remove(source_id) {
            Some(old) => {
                self.pairs.remove(&(old.class_id, old.user_id));
                Plan::End(source_id.to_owned())
            }
            None => Plan::Unchanged,
        }
    }

    /// The row's class, checked against its `schoolSourcedId` when it has one.
    fn class(&self, record: &Record, cols: &EnrollmentColumns) -> Result<ClassId, String> {
        let source = record.text(Some(cols.class), "classSourcedId")?;
        if source.is_empty() {
            return Err("classSourcedId is empty.".into());
        }
        let Some(class) = self.classes.get(source) else {
            return Err(format!(
                "classSourcedId {source} names no class of this tenant (in classes.csv or imported before)."
            ));
        };
        let school = record.text(cols.school, "schoolSourcedId")?;
        match self.orgs.get(school) {
            _ if school.is_empty() => {}
            Some(OrgRef::School { school: id, .. }) if *id == class.school_id => {}
            Some(_) => {
                return Err(format!(
                    "schoolSourcedId {school} is not the school of class {source} ({}).",
                    class.label()
                ));
            }
            None => {
                return Err(format!(
                    "schoolSourcedId {school} names no school of this tenant."
                ));
            }
        }
        Ok(class.id)
    }

    /// The row's user, whose role in hallpass must fit the enrolment's.
    fn user(
        &self,
        record: &Record,
        cols: &EnrollmentColumns,
        role: ClassRole,
    ) -> Result<UserId, String> {
        let source = record.text(Some(cols.user), "userSourcedId")?;
        if source.is_empty() {
            return Err("userSourcedId is empty.".into());
        }
        let Some(user) = self.users.get(source) else {
            return Err(format!(
                "userSourcedId {source} names no user of this tenant (in users.csv or imported before)."
            ));
        };
        let fits = match role {
            ClassRole::Student => user.role == Role::Student,
            ClassRole::Teacher => matches!(user.role, Role::Teacher | Role::SchoolAdmin),
        };
        if !fits {
            return Err(format!(
                "role: userSourcedId {source} is a {} in hallpass and can't be enrolled as {}.",
                user.role.label(),
                role.as_str()
            ));
        }
        Ok(user.id)
    }
}
