//! SQLite's write-ahead log reaches the database file without the writer
//! checkpointing (it does not: `wal_autocheckpoint = 0`), by the background
//! checkpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};

use super::Store;
use crate::directory::TenantName;

#[tokio::test]
async fn a_commit_reaches_the_database_file_within_a_checkpoint_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    tokio::time::sleep(super::CHECKPOINT_EVERY * 2).await;
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    // Written through the writer connection, in the log at first.
    store
        .create_tenant(&TenantName::parse("checkpointed").unwrap(), now)
        .await
        .unwrap();
    tokio::time::sleep(super::CHECKPOINT_EVERY * 3).await;
    // The database file alone, without its -wal: only what was checkpointed.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let alone = Store::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM tenants")
        .fetch_all(alone.pool())
        .await
        .unwrap();
    assert_eq!(names, vec!["checkpointed".to_owned()]);
    alone.close().await;
    store.close().await;
}
