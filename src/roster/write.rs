//! Writing the planned records in batches.
//!
//! Promises: records are written in file order, in transactions of
//! [`BATCH_SIZE`] rows, each with its audit entry, while the file is still being
//! read: a full batch is written by a task of its own while the rows of the
//! next are read and planned (the planning and the database's work of a batch
//! take about the same time, and on two cores they now overlap), so at most
//! two batches are held in memory, and batches still commit one after another
//! on the import's one connection, each after the one before it. When the
//! database refuses a batch (a row the in-memory checks could not foresee,
//! such as a record edited while the import ran), that batch is written again
//! in halves, and a refused half in halves again, down to single rows, so the
//! one bad row is refused with the database's reason and its neighbours are
//! still imported (a bad row costs about two dozen extra transactions rather
//! than one per row of its batch). An error that is not about a row (the
//! database went away) stops the import, and the import never ends (not even
//! on an error) while a batch of it is still being written.

use std::sync::Arc;

use tokio::task::JoinHandle;

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

/// Collects planned writes as the rows are read and hands each full batch to
/// a task that writes it, while the next one fills.
pub(crate) struct BatchWriter {
    /// Where the next batch goes; `Dry` in a dry run (writes are counted,
    /// never made).
    connection: Connection,
    template: Arc<AuditEntry>,
    batch_size: usize,
    lines: Vec<u64>,
    writes: Vec<RosterWrite>,
}

enum Connection {
    Dry,
    Idle(RosterWriter),
    /// A batch is being written; the task gives the connection back.
    Writing(JoinHandle<Written>),
    /// A batch's task failed, and the error was returned.
    Gone,
}

/// What a batch's task gives back: the connection, and what the batch did.
struct Written {
    writer: RosterWriter,
    outcome: Result<Tally, StoreError>,
}

/// What a written batch adds to the report.
#[derive(Default)]
struct Tally {
    created: usize,
    updated: usize,
    disabled: usize,
    unchanged: usize,
    refused: Vec<RefusedRow>,
}

impl Tally {
    fn count(&mut self, write: &RosterWrite) {
        if !write.changes_record() {
            // Only what the roster said was remembered.
            self.unchanged += 1;
            return;
        }
        match write.action {
            Action::UserCreate => self.created += 1,
            Action::UserDisable => self.disabled += 1,
            _ => self.updated += 1,
        }
    }

    fn add_to(self, report: &mut ImportReport) {
        report.users_created += self.created;
        report.users_updated += self.updated;
        report.users_disabled += self.disabled;
        report.users_unchanged += self.unchanged;
        report.refused.extend(self.refused);
    }
}

impl BatchWriter {
    /// Takes the import's connection from `store` (none in a dry run).
    pub async fn new(
        store: &Store,
        template: &AuditEntry,
        dry_run: bool,
        batch_size: usize,
    ) -> Result<Self, ImportError> {
        let connection = match dry_run {
            true => Connection::Dry,
            false => Connection::Idle(store.roster_writer().await?),
        };
        Ok(Self {
            connection,
            template: Arc::new(template.clone()),
            batch_size,
            lines: Vec::with_capacity(batch_size),
            writes: Vec::with_capacity(batch_size),
        })
    }

    /// Queues the write planned for the users.csv row at `line`, handing the
    /// batch to its writing task when it is full (after the batch before it
    /// is written).
    pub async fn push(
        &mut self,
        line: u64,
        write: RosterWrite,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        if matches!(self.connection, Connection::Dry) {
            let mut tally = Tally::default();
            tally.count(&write);
            tally.add_to(report);
            return Ok(());
        }
        self.lines.push(line);
        self.writes.push(write);
        if self.writes.len() >= self.batch_size {
            self.flush(report).await?;
        }
        Ok(())
    }

    /// Writes what is queued, waits for every batch to be written, and gives
    /// the connection back.
    pub async fn finish(mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        self.flush(report).await?;
        if let Some(writer) = self.idle(report).await? {
            // Only written batches count records created, updated or disabled.
            let wrote = report.users_created + report.users_updated + report.users_disabled;
            writer.finish(wrote).await;
        }
        Ok(())
    }

    /// Waits for the batch being written, if any, without writing what is
    /// queued: what an import that stopped on the file does before it ends.
    pub async fn settle(mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        self.idle(report).await.map(drop)
    }

    /// The connection once no batch is being written (`None` in a dry run),
    /// the written batch's tally added to `report`.
    async fn idle(
        &mut self,
        report: &mut ImportReport,
    ) -> Result<Option<RosterWriter>, ImportError> {
        match std::mem::replace(&mut self.connection, Connection::Gone) {
            Connection::Dry => {
                self.connection = Connection::Dry;
                Ok(None)
            }
            Connection::Idle(writer) => Ok(Some(writer)),
            Connection::Writing(task) => {
                let written = match task.await {
                    Ok(written) => written,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    // Cancelled: the runtime is shutting down under the import.
                    Err(_) => return Err(StoreError::Database(sqlx::Error::WorkerCrashed).into()),
                };
                written.outcome?.add_to(report);
                Ok(Some(written.writer))
            }
            // Only after an error was returned, which ends the import.
            Connection::Gone => Err(StoreError::Database(sqlx::Error::WorkerCrashed).into()),
        }
    }

    #[tracing::instrument(skip_all, fields(rows = self.writes.len()))]
    async fn flush(&mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        if self.writes.is_empty() {
            return Ok(());
        }
        let Some(mut writer) = self.idle(report).await? else {
            return Ok(());
        };
        let lines = std::mem::replace(&mut self.lines, Vec::with_capacity(self.batch_size));
        let writes = std::mem::replace(&mut self.writes, Vec::with_capacity(self.batch_size));
        let template = Arc::clone(&self.template);
        let task = tokio::spawn(async move {
            let outcome = write_in_halves(&mut writer, &lines, &writes, &template).await;
            // The batch's records are dropped here, off the reading task.
            drop(writes);
            Written { writer, outcome }
        });
        self.connection = Connection::Writing(task);
        Ok(())
    }
}

/// Writes one batch, a refused range again as its two halves, until a
/// refused row stands alone and is refused.
async fn write_in_halves(
    writer: &mut RosterWriter,
    lines: &[u64],
    all: &[RosterWrite],
    template: &AuditEntry,
) -> Result<Tally, StoreError> {
    let mut tally = Tally::default();
    // Ranges of the batch still to write, the next last.
    let mut pending = Vec::with_capacity(64);
    pending.push(0..all.len());
    while let Some(range) = pending.pop() {
        let writes = &all[range.clone()];
        match writer.write_batch(writes, template).await {
            Ok(()) => writes.iter().for_each(|w| tally.count(w)),
            Err(e) if !is_about_a_row(&e) => return Err(e),
            Err(e) if writes.len() == 1 => tally.refused.push(RefusedRow::new(
                "users.csv",
                lines[range.start],
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
    Ok(tally)
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
#[path = "write_tests.rs"]
mod tests;
