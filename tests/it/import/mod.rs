//! The OneRoster import, run on SQLite and on PostgreSQL alike: the sample
//! bundle, a messy bundle, re-imports, disabling, updates, a row the database
//! refuses, and a generated bundle of a couple of thousand users.

use crate::helpers::{TestDb, cli_audit, on_both_backends, t0};
use hallpass::audit::{AuditEvent, AuditQuery};
use hallpass::directory::{Grade, Login, PersonName, Place, Role, TenantName, User};
use hallpass::roster::{
    ImportError, ImportOptions, ImportReport, import_oneroster, write_sample_bundle,
};
use hallpass::store::{Backend, NewUser, Store};
use std::path::{Path, PathBuf};

mod bad_rows;
mod basics;
mod reimport;

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/oneroster")
        .join(name)
}

pub(crate) fn tenant() -> TenantName {
    TenantName::parse("lincoln").unwrap()
}

pub(crate) async fn import(db: &TestDb, dir: &Path) -> ImportReport {
    import_oneroster(&db.store, &tenant(), dir, &ImportOptions::default(), t0())
        .await
        .unwrap()
}

pub(crate) async fn user(store: &Store, login: &str) -> User {
    let tenant = store.tenant_by_name(&tenant()).await.unwrap().unwrap();
    store
        .user_by_login(tenant.id, &Login::parse(login).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{login} missing"))
}

pub(crate) async fn audit(store: &Store) -> Vec<AuditEvent> {
    store.audit_events(&AuditQuery::default()).await.unwrap()
}

/// Every user as (login, version, updated_at, disabled), in login order.
async fn all_users(store: &Store) -> Vec<(String, i64, String, i64)> {
    sqlx::query_as::<_, (String, i64, String, i64)>(
        "SELECT login, version, updated_at, disabled FROM users ORDER BY login_key",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// A copy of the sample bundle with its users.csv passed through `edit`.
pub(crate) fn edited_sample(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixture("sample");
    std::fs::copy(sample.join("orgs.csv"), dir.path().join("orgs.csv")).unwrap();
    let users = std::fs::read_to_string(sample.join("users.csv")).unwrap();
    std::fs::write(dir.path().join("users.csv"), edit(&users)).unwrap();
    dir
}

/// The messy bundle (CRLF, a quoted line break, a blank line) with each of
/// its files' line ends rewritten to `end`.
fn messy_with_line_ends(end: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["orgs.csv", "users.csv"] {
        let text = std::fs::read_to_string(fixture("messy").join(file)).unwrap();
        assert!(text.contains("\r\n"), "the fixture is CRLF");
        let text = text.replace("\r\n", "\n").replace('\n', end);
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    dir
}
