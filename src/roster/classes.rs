//! classes.csv, and the class step of an import (issue 11, "Classes from the roster").
//!
//! Promises:
//! * classes.csv and enrollments.csv are optional, each on its own: a bundle
//!   with neither imports as before; without classes.csv the tenant's classes
//!   stay as they are (enrollments.csv may name them); without
//!   enrollments.csv enrolments stay as they are. A file that is there but
//!   lacks a required column stops the import before anything is written;
//! * a class is keyed by `sourcedId` within the tenant and belongs to the
//!   school `schoolSourcedId` names (a school of the bundle or imported
//!   before); a known class whose title, code or school changed is updated,
//!   one that did not is not written; `status=tobedeleted` removes a class and
//!   its enrolments; a bad row is refused with its line and reason and the
//!   other rows are imported; a class the file no longer lists is counted and
//!   left as it is;
//! * classes are written before enrolments, in batches of one transaction
//!   each; the counts join the import's one `roster.import` summary (no audit
//!   entry per class or enrolment: they change no person's record);
//! * a dry run decides all of this against what is planned and writes nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::ImportError;
use super::class_report::ClassCounts;
use super::enrollments::{EnrollmentColumns, import_enrollments};
use super::orgs::{OrgMap, OrgRef};
use super::report::{ImportReport, RefusedRow};
use super::table::{CsvLimits, Record, Table};
use crate::directory::{Class, ClassId, TenantId};
use crate::store::{ClassImport, RosterUserRef, RosterWrite, Store};

/// Classes per transaction.
const BATCH: usize = 5_000;
const MAX_TITLE: usize = 128;
const MAX_CODE: usize = 64;

/// The columns of classes.csv this import reads.
struct ClassColumns {
    source_id: usize,
    status: Option<usize>,
    title: usize,
    code: Option<usize>,
    school: usize,
}

impl ClassColumns {
    fn find(table: &Table) -> Result<Self, ImportError> {
        Ok(Self {
            source_id: table.required("sourcedId")?,
            status: table.column("status"),
            title: table.required("title")?,
            code: table.column("classCode"),
            school: table.required("schoolSourcedId")?,
        })
    }
}

/// classes.csv and enrollments.csv, opened and their columns found.
pub(crate) struct ClassFiles {
    classes: Option<(Table, ClassColumns)>,
    enrollments: Option<(Table, EnrollmentColumns)>,
}

/// Opens `dir/name`, or `None` when the bundle has no such file.
fn open_optional(
    dir: &Path,
    name: &'static str,
    limits: CsvLimits,
) -> Result<Option<Table>, ImportError> {
    match Table::open_within(dir, name, limits) {
        Err(ImportError::MissingFile { .. }) => Ok(None),
        other => other.map(Some),
    }
}

impl ClassFiles {
    /// Opens the files the bundle has and checks their columns.
    pub fn open(dir: &Path, limits: CsvLimits) -> Result<Self, ImportError> {
        let classes = match open_optional(dir, "classes.csv", limits)? {
            Some(table) => {
                let cols = ClassColumns::find(&table)?;
                Some((table, cols))
            }
            None => None,
        };
        let enrollments = match open_optional(dir, "enrollments.csv", limits)? {
            Some(table) => {
                let cols = EnrollmentColumns::find(&table)?;
                Some((table, cols))
            }
            None => None,
        };
        Ok(Self {
            classes,
            enrollments,
        })
    }

    /// The users a dry run plans, by `sourcedId`, for the enrolments to find
    /// (a real import reads them back from the database): only needed then.
    pub fn planned_users(&self, dry_run: bool) -> Option<HashMap<String, RosterUserRef>> {
        (dry_run && self.enrollments.is_some()).then(HashMap::new)
    }

    /// Imports the classes, then the enrolments. `planned` is what
    /// [`ClassFiles::planned_users`] gave, filled by [`note_planned`].
    pub async fn import(
        self,
        store: &Store,
        tenant: TenantId,
        orgs: &OrgMap,
        planned: Option<HashMap<String, RosterUserRef>>,
        (dry_run, now): (bool, DateTime<Utc>),
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        if self.classes.is_none() && self.enrollments.is_none() {
            return Ok(());
        }
        let mut counts = ClassCounts {
            classes_file: self.classes.is_some(),
            enrollments_file: self.enrollments.is_some(),
            ..ClassCounts::default()
        };
        let mut db = store.class_import().await?;
        let mut book: HashMap<String, Class> = db
            .tenant_classes(tenant)
            .await?
            .into_iter()
            .map(|c| (c.sourced_id.clone(), c))
            .collect();
        if let Some((table, cols)) = self.classes {
            let mut step = ClassStep {
                tenant,
                orgs,
                book: &mut book,
                seen: HashMap::new(),
                counts: &mut counts,
            };
            step.run(&mut db, table, &cols, dry_run, now, report)
                .await?;
        }
        if let Some((table, cols)) = self.enrollments {
            let mut users = db.roster_user_refs(tenant).await?;
            users.extend(planned.unwrap_or_default());
            let known = (orgs, &book, users);
            import_enrollments(
                &mut db,
                tenant,
                known,
                table,
                &cols,
                (dry_run, now),
                &mut counts,
                report,
            )
            .await?;
        }
        report.classes = Some(counts);
        Ok(())
    }
}

/// Remembers a user a dry run plans to write (see [`ClassFiles::planned_users`]).
pub(crate) fn note_planned(
    planned: &mut Option<HashMap<String, RosterUserRef>>,
    write: &RosterWrite,
) {
    if let (Some(map), Some(source)) = (planned.as_mut(), write.after.source_id.as_ref()) {
        let user = RosterUserRef {
            id: write.after.id,
            role: write.after.role,
        };
        map.insert(source.clone(), user);
    }
}

/// A trimmed cell of at most `max` characters with no control characters.
pub(super) fn clean(raw: &str, column: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(format!("{column} is longer than {max} characters."));
    }
    if text.chars().any(char::is_control) {
        return Err(format!(
            "{column} contains a line break or another control character."
        ));
    }
    Ok(text.to_owned())
}

/// What a row of classes.csv asks for.
enum Plan {
    Write(Class, bool),
    End(ClassId),
    Unchanged,
}

struct ClassStep<'a> {
    tenant: TenantId,
    orgs: &'a OrgMap,
    /// Every class of the tenant by `sourcedId`, as this import leaves it.
    book: &'a mut HashMap<String, Class>,
    seen: HashMap<String, u64>,
    counts: &'a mut ClassCounts,
}

impl ClassStep<'_> {
    async fn run(
        &mut self,
        db: &mut ClassImport,
        mut table: Table,
        cols: &ClassColumns,
        dry_run: bool,
        now: DateTime<Utc>,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        let before: HashSet<String> = self.book.keys().cloned().collect();
        let (mut upserts, mut ended) = (Vec::new(), Vec::new());
        while let Some(record) = table.next_record()? {
            match self.plan(&record, cols) {
                Ok(Plan::Write(class, true)) => {
                    self.counts.classes_created += 1;
                    upserts.push(class);
                }
                Ok(Plan::Write(class, false)) => {
                    self.counts.classes_updated += 1;
                    upserts.push(class);
                }
                Ok(Plan::End(id)) => {
                    self.counts.classes_ended += 1;
                    ended.push(id);
                }
                Ok(Plan::Unchanged) => self.counts.classes_unchanged += 1,
                Err(reason) => {
                    let source = record
                        .text(Some(cols.source_id), "sourcedId")
                        .unwrap_or_default();
                    report.refused.push(RefusedRow::new(
                        "classes.csv",
                        record.line,
                        Some(source),
                        reason,
                    ));
                }
            }
            if upserts.len() + ended.len() >= BATCH {
                flush(db, self.tenant, &mut upserts, &mut ended, dry_run, now).await?;
            }
        }
        flush(db, self.tenant, &mut upserts, &mut ended, dry_run, now).await?;
        self.counts.classes_missing = before
            .iter()
            .filter(|s| !self.seen.contains_key(*s))
            .count();
        Ok(())
    }

    fn plan(&mut self, record: &Record, cols: &ClassColumns) -> Result<Plan, String> {
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
        self.plan_row(record, cols, source_id)
    }

    fn plan_row(
        &mut self,
        record: &Record,
        cols: &ClassColumns,
        source_id: &str,
    ) -> Result<Plan, String> {
        match record
            .text(cols.status, "status")?
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "active" => {}
            "tobedeleted" => {
                return Ok(match self.book.remove(source_id) {
                    Some(class) => Plan::End(class.id),
                    // Never imported: nothing to end.
                    None => Plan::Unchanged,
                });
            }
            other => {
                return Err(format!(
                    "status \"{other}\" is not one of active or tobedeleted."
                ));
            }
        }
        let title = clean(record.text(Some(cols.title), "title")?, "title", MAX_TITLE)?;
        if title.is_empty() {
            return Err("title is empty.".into());
        }
        let code = clean(record.text(cols.code, "classCode")?, "classCode", MAX_CODE)?;
        let school_source = record.text(Some(cols.school), "schoolSourcedId")?;
        let (school, district) = match self.orgs.get(school_source) {
            _ if school_source.is_empty() => return Err("schoolSourcedId is empty.".into()),
            Some(OrgRef::School { school, district }) => (*school, *district),
            Some(OrgRef::District(_)) => {
                return Err(format!(
                    "schoolSourcedId {school_source} is a district; a class belongs to a school."
                ));
            }
            None => {
                return Err(format!(
                    "schoolSourcedId {school_source} names no school of this tenant."
                ));
            }
        };
        let known = self.book.get(source_id);
        let class = Class {
            id: known.map_or_else(ClassId::new, |c| c.id),
            tenant_id: self.tenant,
            district_id: district,
            school_id: school,
            sourced_id: source_id.to_owned(),
            title,
            class_code: (!code.is_empty()).then_some(code),
        };
        if known == Some(&class) {
            return Ok(Plan::Unchanged);
        }
        let created = known.is_none();
        self.book.insert(source_id.to_owned(), class.clone());
        Ok(Plan::Write(class, created))
    }
}

async fn flush(
    db: &mut ClassImport,
    tenant: TenantId,
    upserts: &mut Vec<Class>,
    ended: &mut Vec<ClassId>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<(), ImportError> {
    if !dry_run && (!upserts.is_empty() || !ended.is_empty()) {
        db.write_classes(tenant, upserts, ended, now).await?;
    }
    upserts.clear();
    ended.clear();
    Ok(())
}
