//! The audit log: who did what, to whom, where, when, and how it ended.
//!
//! Promise: every change and every refused attempt becomes one [`AuditEntry`];
//! entries carry field values before and after but never a secret (a password
//! change is recorded as `"password": "changed"`); and the log is append-only,
//! enforced by the database (see `migrations/*/…_audit.sql`).

mod entry;

pub use entry::{Action, AuditActor, AuditEntry, AuditEvent, AuditQuery, Origin, Outcome};
