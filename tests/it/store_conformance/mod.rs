//! The store's contract, run on SQLite and on PostgreSQL alike: each test is one
//! async function taking a fresh database, and `conformance!` runs it on both.

use crate::helpers::{TestDb, World, cli_audit, on_both_backends, t0};
use chrono::Duration;
use hallpass::audit::{Action, AuditActor, AuditEntry, AuditQuery, Origin, Outcome};
use hallpass::directory::{DiscordGuildId, DiscordUserId, Login, PersonName, Place, Role, Title};
use hallpass::store::{SearchScope, StoreError, UserChanges};

mod audit;
mod records;
mod schema;
mod writes;
