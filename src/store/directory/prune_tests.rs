//! SQLite's change log is pruned to its newest entries (`sync::LOG_KEPT`),
//! a chunk per transaction, off the time of the interaction that finds the
//! prune due.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::sync::LOG_KEPT;
use crate::store::{Store, migrated_sqlite_for_tests};

/// Appends `n` entries to the change log, as an import of `n` users does.
async fn log_changes(store: &Store, n: i64) {
    sqlx::query(
        "INSERT INTO directory_changes (tenant_id, user_id) \
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $1) \
         SELECT 'a-tenant', 'user-' || x FROM c",
    )
    .bind(n)
    .execute(store.pool())
    .await
    .unwrap();
}

/// The log's oldest entry, how many it holds, and how far it says it was pruned.
async fn log(store: &Store) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT MIN(seq) FROM directory_changes), (SELECT COUNT(*) FROM directory_changes), \
         (SELECT pruned_through FROM directory_log WHERE id = 1)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn pruning_keeps_the_newest_entries_of_the_change_log_and_notes_how_far_it_went() {
    let (_dir, store) = migrated_sqlite_for_tests().await;
    let excess = 25_001;
    log_changes(&store, LOG_KEPT + excess).await;
    store.prune_directory_log().await.unwrap();
    assert_eq!(log(&store).await, (excess + 1, LOG_KEPT, excess));
    // Nothing more to drop: a second prune changes nothing.
    store.prune_directory_log().await.unwrap();
    assert_eq!(log(&store).await, (excess + 1, LOG_KEPT, excess));
}

#[tokio::test]
async fn an_interaction_that_finds_the_prune_due_does_not_wait_for_it() {
    let (_dir, store) = migrated_sqlite_for_tests().await;
    // The log after the first import of a district of half a million.
    let excess = 300_000;
    log_changes(&store, LOG_KEPT + excess).await;
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
    let first = store
        .first_sighting(1, now, chrono::Duration::minutes(10))
        .await
        .unwrap();
    assert!(first);
    // Answered with most of the log still to drop (the prune had deleted
    // all of it before first_sighting returned, in one transaction).
    let (oldest, _, _) = log(&store).await;
    assert!(
        oldest < excess / 3,
        "pruned while answering: oldest {oldest}"
    );
    let pruned = async {
        while log(&store).await != (excess + 1, LOG_KEPT, excess) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), pruned)
        .await
        .expect("the log is pruned in the background");
}
