//! Writing the planned records in batches.
//!
//! Promises: records are written in file order, in transactions of
//! [`BATCH_SIZE`] rows, each with its audit entry, while the file is still being
//! read (only one batch is held in memory); when the database refuses a
//! batch (a row the in-memory checks could not foresee, such as a record edited
//! while the import ran), that batch is written again in halves, and a refused
//! half in halves again, down to single rows, so the one bad row is refused
//! with the database's reason and its neighbours are still imported (a bad row
//! costs about two dozen extra transactions rather than one per row of its
//! batch). An error that is not about a row (the database went away) stops
//! the import.

use super::ImportError;
use super::report::{ImportReport, RefusedRow};
use crate::audit::{Action, AuditEntry};
use crate::store::{RosterWrite, RosterWriter, Store, StoreError};

/// Rows per transaction. Every commit writes out each index page the batch
/// changed, and the keys of `users` (logins, names, sourcedIds) are spread
/// over all of them, so a batch touches nearly every leaf of every index: fewer,
/// larger batches write each page fewer times. Measured on the real schema
/// (100,000 users): SQLite's own INSERT … SELECT takes 8.7 s in batches of
/// 5,000 and 5.0 s in batches of 25,000 (5.1 s in one), PostgreSQL 11.5 s and
/// 8.3 s. A batch of planned records is some 20 MB.
pub(crate) const BATCH_SIZE: usize = 25_000;

/// Collects planned writes as the rows are read and writes each batch as soon
/// as it is full, so no more than one batch is held in memory.
pub(crate) struct BatchWriter<'a> {
    /// `None` in a dry run: writes are counted, never made.
    writer: Option<RosterWriter>,
    template: &'a AuditEntry,
    batch_size: usize,
    lines: Vec<u64>,
    writes: Vec<RosterWrite>,
}

impl<'a> BatchWriter<'a> {
    /// Takes the import's connection from `store` (none in a dry run).
    pub async fn new(
        store: &Store,
        template: &'a AuditEntry,
        dry_run: bool,
        batch_size: usize,
    ) -> Result<Self, ImportError> {
        if dry_run {
            return Ok(Self {
                writer: None,
                template,
                batch_size,
                lines: Vec::new(),
                writes: Vec::new(),
            });
        }
        Self::with_batch_size(store, template, batch_size).await
    }

    async fn with_batch_size(
        store: &Store,
        template: &'a AuditEntry,
        batch_size: usize,
    ) -> Result<Self, ImportError> {
        Ok(Self {
            writer: Some(store.roster_writer().await?),
            template,
            batch_size,
            lines: Vec::with_capacity(batch_size),
            writes: Vec::with_capacity(batch_size),
        })
    }

    /// Queues the write planned for the users.csv row at `line`, writing the
    /// batch when it is full.
    pub async fn push(
        &mut self,
        line: u64,
        write: RosterWrite,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        if self.writer.is_none() {
            count(&write, report);
            return Ok(());
        }
        self.lines.push(line);
        self.writes.push(write);
        if self.writes.len() >= self.batch_size {
            self.flush(report).await?;
        }
        Ok(())
    }

    /// Writes what is queued and gives the connection back.
    pub async fn finish(mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        self.flush(report).await?;
        if let Some(writer) = self.writer {
            writer.finish().await;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(rows = self.writes.len()))]
    async fn flush(&mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        if self.writes.is_empty() {
            return Ok(());
        }
        // Ranges of the batch still to write, the next first: a refused range
        // is written again as its two halves, until a refused row stands alone.
        let mut pending = Vec::with_capacity(64);
        pending.push(0..self.writes.len());
        while let Some(range) = pending.pop() {
            let writes = &self.writes[range.clone()];
            match writer.write_batch(writes, self.template).await {
                Ok(()) => writes.iter().for_each(|w| count(w, report)),
                Err(e) if !is_about_a_row(&e) => return Err(e.into()),
                Err(e) if writes.len() == 1 => report.refused.push(RefusedRow::new(
                    "users.csv",
                    self.lines[range.start],
                    writes[0].after.source_id.as_deref(),
                    refusal(&e),
                )),
                Err(e) => {
                    tracing::warn!(error = %e, rows = writes.len(), "a batch was refused; writing it in halves");
                    let middle = range.start + writes.len() / 2;
                    pending.push(middle..range.end);
                    pending.push(range.start..middle);
                }
            }
        }
        self.lines.clear();
        self.writes.clear();
        Ok(())
    }
}

fn count(write: &RosterWrite, report: &mut ImportReport) {
    if !write.changes_record() {
        // Only what the roster said was remembered.
        report.users_unchanged += 1;
        return;
    }
    match write.action {
        Action::UserCreate => report.users_created += 1,
        Action::UserDisable => report.users_disabled += 1,
        _ => report.users_updated += 1,
    }
}

/// Whether the database refused this data (a constraint, a trigger, a record
/// changed meanwhile) rather than failing as a whole (connection, pool, I/O).
fn is_about_a_row(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Conflict
            | StoreError::NotFound
            | StoreError::LoginTaken(_)
            | StoreError::Database(sqlx::Error::Database(_))
    )
}

fn refusal(error: &StoreError) -> String {
    match error {
        StoreError::Conflict => {
            "the record changed in hallpass while the import ran; import the bundle again to apply this row.".into()
        }
        StoreError::NotFound => "the row's school or district is no longer in this tenant.".into(),
        other => format!("the database refused the row: {other}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::audit::{AuditActor, Origin};
    use crate::directory::{Login, PersonName, Place, Role, TenantName, User, UserId};
    use crate::store::NewUser;

    /// A district with one school, its audit template, and a user holding
    /// `user5` behind the planner's back (so only the database can refuse it).
    async fn a_school_with_user5_taken() -> (
        tempfile::TempDir,
        Store,
        AuditEntry,
        Place,
        crate::directory::TenantId,
        chrono::DateTime<Utc>,
    ) {
        let (dir, store) = crate::store::migrated_sqlite_for_tests().await;
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
        let tenant = store
            .create_tenant(&TenantName::parse("t").unwrap(), now)
            .await
            .unwrap()
            .id;
        let district = store
            .create_district(tenant, "D", Some("d"))
            .await
            .unwrap()
            .id;
        let school = store
            .create_school(tenant, district, "S", Some("s"))
            .await
            .unwrap()
            .id;
        let place = Place::School { school, district };
        let template = AuditEntry::new(
            Some(tenant),
            now,
            AuditActor::system("test"),
            Action::RosterImport,
            Origin::api("test"),
        );
        let taken = NewUser {
            login: Login::parse("user5").unwrap(),
            first_name: PersonName::parse("Already").unwrap(),
            last_name: PersonName::parse("Here").unwrap(),
            role: Role::Student,
            place,
            grade: None,
            title: None,
            source_id: None,
            disabled: false,
        };
        store
            .insert_user(tenant, &taken, template.clone())
            .await
            .unwrap();
        (dir, store, template, place, tenant, now)
    }

    fn student(
        n: u64,
        tenant: crate::directory::TenantId,
        place: Place,
        now: chrono::DateTime<Utc>,
    ) -> RosterWrite {
        RosterWrite {
            before: None,
            after: User {
                id: UserId::new(),
                tenant_id: tenant,
                login: Login::parse(&format!("user{n}")).unwrap(),
                first_name: PersonName::parse("User").unwrap(),
                last_name: PersonName::parse(&format!("Number {n}")).unwrap(),
                role: Role::Student,
                place,
                grade: None,
                title: None,
                must_change_password: false,
                disabled: false,
                discord_user_id: None,
                source_id: Some(format!("u{n}")),
                version: 1,
                updated_at: now,
            },
            action: Action::UserCreate,
            remember: None,
        }
    }

    #[tokio::test]
    async fn every_batch_is_written_and_a_row_the_database_refuses_costs_only_itself() {
        let (_dir, store, template, place, tenant, now) = a_school_with_user5_taken().await;
        let mut report = ImportReport::default();
        let mut batches = BatchWriter::with_batch_size(&store, &template, 3)
            .await
            .unwrap();
        for n in 0..10 {
            let write = student(n, tenant, place, now);
            batches.push(n + 2, write, &mut report).await.unwrap();
        }
        batches.finish(&mut report).await.unwrap();
        assert_eq!(report.users_created, 9);
        assert_eq!(report.refused.len(), 1);
        assert_eq!(
            (
                report.refused[0].line,
                report.refused[0].source_id.as_deref()
            ),
            (7, Some("u5"))
        );
        assert!(
            report.refused[0].reason.contains("user5"),
            "{}",
            report.refused[0].reason
        );
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(users, 10, "nine imported beside the one that was there");
    }
}
