//! One import, start to end. Promises: a missing file or a missing required
//! column stops the import before anything is written; orgs are imported before
//! users, and classes and enrolments (when the bundle has them) after users;
//! users are planned in memory against the tenant's records, then
//! written in batches; and the import leaves one `roster.import` summary event
//! in the audit log, also when it stops on a database error. A dry run plans
//! everything the same way, reports it, and writes nothing at all: no tenant,
//! org, user, remembered value or audit entry.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::ImportError;
use super::classes::{ClassFiles, note_planned};
use super::conflicts::attribute;
use super::orgs::{OrgColumns, import_orgs};
use super::report::{ImportReport, RefusedRow};
use super::table::{CsvLimits, Table};
use super::users::{Plan, Planner, UserColumns};
use super::write::{BATCH_SIZE, BatchWriter};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{TenantId, TenantName};
use crate::store::{RosterUserRef, Store};

/// How the import behaves around its work.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Draw progress bars on the terminal (the command line does; tests do not).
    pub show_progress: bool,
    /// Plan and report, write nothing (`--dry-run`).
    pub dry_run: bool,
    /// The longest row and the most rows a file may have.
    pub limits: CsvLimits,
}

/// Imports the OneRoster 1.1 CSV bundle in `dir` (`orgs.csv`, `users.csv`, and
/// `classes.csv`, `enrollments.csv` when there) into
/// the tenant named `tenant`, which is created if it does not exist yet.
///
/// Rows that cannot be imported are refused one by one and listed in the
/// report; an [`ImportError`] means the bundle as a whole could not be read or
/// the database failed.
pub async fn import_oneroster(
    store: &Store,
    tenant: &TenantName,
    dir: &Path,
    options: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    import_oneroster_in_batches(store, tenant, dir, options, now, BATCH_SIZE).await
}

/// [`import_oneroster`] writing users in transactions of `batch_size` rows
/// rather than the usual 25,000: the same import, so tests can cross many
/// batches with a small bundle.
#[tracing::instrument(skip(store, options, now), fields(dir = %dir.display()))]
pub async fn import_oneroster_in_batches(
    store: &Store,
    tenant: &TenantName,
    dir: &Path,
    options: &ImportOptions,
    now: DateTime<Utc>,
    batch_size: usize,
) -> Result<ImportReport, ImportError> {
    let orgs_table = Table::open_within(dir, "orgs.csv", options.limits)?;
    let org_cols = OrgColumns::find(&orgs_table)?;
    let users_table = Table::open_within(dir, "users.csv", options.limits)?;
    let user_cols = UserColumns::find(&users_table)?;
    let class_files = ClassFiles::open(dir, options.limits)?;

    let tenant = match (options.dry_run, store.tenant_by_name(tenant).await?) {
        (_, Some(known)) => known.id,
        // A dry run into a tenant that does not exist yet: plan against an empty one.
        (true, None) => TenantId::new(),
        (false, None) => store.ensure_tenant(tenant, now).await?.id,
    };
    let origin = Origin::api(format!("oneroster:{}", dir.display()));
    let template = AuditEntry::new(
        Some(tenant),
        now,
        AuditActor::system("roster import"),
        Action::RosterImport,
        origin,
    );
    let mut report = ImportReport::default();
    let result = run(
        store,
        tenant,
        orgs_table,
        &org_cols,
        users_table,
        &user_cols,
        class_files,
        &template,
        (options, batch_size.max(1)),
        &mut report,
    )
    .await;
    report.sort();
    report.dry_run = options.dry_run;
    if options.dry_run {
        return result.map(|()| {
            log(&report);
            report
        });
    }
    let summary = match &result {
        Ok(()) => template.change(serde_json::json!({}), report.summary_json()),
        Err(e) => template
            .change(serde_json::json!({}), report.summary_json())
            .failed(e.to_string()),
    };
    match (result, store.append_audit(&summary).await) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(e.into()),
        (Ok(()), Ok(())) => {
            log(&report);
            Ok(report)
        }
    }
}

fn log(report: &ImportReport) {
    tracing::info!(
        dry_run = report.dry_run,
        users_created = report.users_created,
        users_updated = report.users_updated,
        users_disabled = report.users_disabled,
        roster_changes_applied = report.roster_changes_applied,
        local_changes_kept = report.local_changes_kept,
        conflicts = report.conflicts.len(),
        refused = report.refused.len(),
        "roster imported"
    );
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the list
async fn run(
    store: &Store,
    tenant: TenantId,
    orgs_table: Table,
    org_cols: &OrgColumns,
    mut users_table: Table,
    user_cols: &UserColumns,
    class_files: ClassFiles,
    template: &AuditEntry,
    (options, batch_size): (&ImportOptions, usize),
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let orgs = import_orgs(store, tenant, orgs_table, org_cols, options.dry_run, report).await?;
    let existing = store.tenant_users(tenant).await?;
    let remembered = store.roster_values(tenant).await?;
    let mut planner = Planner::new(tenant, &orgs, existing, remembered, template.at);

    // One bar over users.csv's bytes: rows are planned and written as they are read.
    let progress = bar(options, users_table.len());
    let mut batches = BatchWriter::new(store, template, options.dry_run, batch_size).await?;
    let mut planned = class_files.planned_users(options.dry_run);
    let read = plan_users(
        &mut users_table,
        user_cols,
        &mut planner,
        &mut batches,
        &mut planned,
        &progress,
        report,
    )
    .await;
    match read {
        Ok(()) => batches.finish(report).await?,
        // Stopped on the file: the batch being written is still waited for,
        // so the report counts it and nothing is written after the import ends.
        Err(e) => {
            if let Err(written) = batches.settle(report).await {
                tracing::warn!(error = %written, "the batch being written when the import stopped failed too");
            }
            return Err(e);
        }
    }
    progress.finish_and_clear();
    report.roster_changes_applied = planner.sync.applied;
    report.local_changes_kept = planner.sync.kept;
    report.users_baselined = planner.sync.baselined;
    report.missing = planner.missing();
    let pending = std::mem::take(&mut planner.sync.conflicts);
    report.conflicts = attribute(store, tenant, &template.actor.label, pending).await?;
    drop(planner);
    let when = (options.dry_run, template.at);
    class_files
        .import(store, tenant, &orgs, planned, when, report)
        .await
}

/// Reads users.csv to its end, planning each row against the tenant and
/// queueing the writes.
async fn plan_users(
    users_table: &mut Table,
    user_cols: &UserColumns,
    planner: &mut Planner<'_>,
    batches: &mut BatchWriter,
    planned: &mut Option<HashMap<String, RosterUserRef>>,
    progress: &ProgressBar,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let file = users_table.name();
    let mut rows = 0_u64;
    while let Some(record) = users_table.next_record()? {
        rows += 1;
        match planner.plan(&record, user_cols) {
            Ok(Plan::Write(write)) => {
                note_planned(planned, &write);
                batches.push(record.line, write, report).await?
            }
            Ok(Plan::Unchanged) => report.users_unchanged += 1,
            Err(reason) => {
                let source_id = Planner::source_id(&record, user_cols);
                let refused = RefusedRow::new(file, record.line, Some(source_id), reason);
                report.refused.push(refused);
            }
        }
        if rows.is_multiple_of(1024) {
            progress.set_position(users_table.position());
        }
    }
    Ok(())
}

fn bar(options: &ImportOptions, len: u64) -> ProgressBar {
    if !options.show_progress {
        return ProgressBar::hidden();
    }
    let template = "{msg} [{bar:30}] {bytes}/{total_bytes} ({elapsed}, {eta} left)";
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len)
        .with_style(style.progress_chars("=> "))
        .with_message("importing users.csv")
}
