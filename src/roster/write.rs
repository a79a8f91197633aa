//! Writing the planned records in batches.
//!
//! Promises: records are written in file order, in transactions of
//! [`BATCH_SIZE`] rows, each with its audit entry; when the database refuses a
//! batch (a row the in-memory checks could not foresee, such as a record edited
//! while the import ran), that batch is written again row by row, so the one bad
//! row is refused with the database's reason and its neighbours are still
//! imported. An error that is not about a row (the database went away) stops
//! the import.

use indicatif::ProgressBar;

use super::report::{ImportReport, RefusedRow};
use super::ImportError;
use crate::audit::{Action, AuditEntry};
use crate::store::{RosterWrite, Store, StoreError};

/// Rows per transaction: large enough that commits (and on SQLite the
/// checkpoints they trigger) do not dominate, small enough that a row-by-row
/// retry after a refused batch stays quick.
pub(crate) const BATCH_SIZE: usize = 5_000;

/// A planned write and the users.csv line it came from.
pub(crate) struct Pending {
    pub line: u64,
    pub write: RosterWrite,
}

/// Writes `pending` and counts what was written into `report`.
#[tracing::instrument(skip_all, fields(rows = pending.len()))]
pub(crate) async fn write_all(
    store: &Store,
    pending: Vec<Pending>,
    template: &AuditEntry,
    progress: &ProgressBar,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let mut writer = store.roster_writer().await?;
    let mut lines = Vec::with_capacity(BATCH_SIZE);
    let mut writes = Vec::with_capacity(BATCH_SIZE);
    let mut rows = pending.into_iter().peekable();
    while rows.peek().is_some() {
        lines.clear();
        writes.clear();
        for Pending { line, write } in rows.by_ref().take(BATCH_SIZE) {
            lines.push(line);
            writes.push(write);
        }
        match writer.write_batch(&writes, template).await {
            Ok(()) => writes.iter().for_each(|w| count(w, report)),
            Err(e) if !is_about_a_row(&e) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "a batch was refused; writing it row by row");
                for (line, write) in lines.iter().zip(&writes) {
                    match writer.write_batch(std::slice::from_ref(write), template).await {
                        Ok(()) => count(write, report),
                        Err(e) if !is_about_a_row(&e) => return Err(e.into()),
                        Err(e) => report.refused.push(RefusedRow::new(
                            "users.csv",
                            *line,
                            write.after.source_id.as_deref(),
                            refusal(&e),
                        )),
                    }
                }
            }
        }
        progress.inc(writes.len() as u64);
    }
    writer.finish().await;
    Ok(())
}

fn count(write: &RosterWrite, report: &mut ImportReport) {
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
