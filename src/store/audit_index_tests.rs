//! Migration 160: the audit log's indexes by actor and by interaction hold
//! only the events that have one, and the queries on those columns still
//! read them (SQLite's plan), so a roster import's system events cost no
//! entries there and an educator's reset count stays an index lookup.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use sqlx::Row;

use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::{DiscordUserId, TenantName, UserId};
use crate::store::Store;

async fn store_with_events() -> (tempfile::TempDir, Store, crate::directory::TenantId, UserId) {
    let (dir, store) = crate::store::migrated_sqlite_for_tests().await;
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let tenant = store
        .create_tenant(&TenantName::parse("t").unwrap(), now)
        .await
        .unwrap()
        .id;
    // Three events of the system (as an import writes them), two of an educator.
    for _ in 0..3 {
        let entry = AuditEntry::new(
            Some(tenant),
            now,
            AuditActor::system("roster import"),
            Action::UserCreate,
            Origin::api("oneroster:/x"),
        );
        store.append_audit(&entry).await.unwrap();
    }
    let educator_id = UserId::new();
    let educator = AuditActor {
        user_id: Some(educator_id),
        discord_user_id: Some(DiscordUserId::new(7)),
        label: "Lopez, Ana (alopez)".into(),
    };
    for n in 0..2 {
        let origin = Origin {
            interaction_id: Some(format!("i{n}")),
            ..Origin::default()
        };
        let entry = AuditEntry::new(
            Some(tenant),
            now,
            educator.clone(),
            Action::PasswordReset,
            origin,
        );
        store.append_audit(&entry).await.unwrap();
    }
    (dir, store, tenant, educator_id)
}

/// The rows ANALYZE counted in index `name` (the first figure of its stat).
async fn entries_in(store: &Store, name: &str) -> i64 {
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    let row = sqlx::query("SELECT stat FROM sqlite_stat1 WHERE idx = $1")
        .bind(name)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let stat: String = row.try_get("stat").unwrap();
    stat.split(' ').next().unwrap().parse().unwrap()
}

async fn plan_of(store: &Store, sql: &str, binds: &[&str]) -> String {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(explain));
    for b in binds {
        query = query.bind(b.to_string());
    }
    let rows = query.fetch_all(store.pool()).await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn events_without_an_actor_or_interaction_are_not_entered_in_their_indexes() {
    let (_dir, store, _, _) = store_with_events().await;
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(all >= 5, "{all} events");
    assert_eq!(entries_in(&store, "audit_by_actor").await, 2);
    assert_eq!(entries_in(&store, "audit_by_actor_action").await, 2);
    assert_eq!(entries_in(&store, "audit_events_by_interaction").await, 2);
    // The index by time is whole: every event is found by when it happened.
    assert_eq!(entries_in(&store, "audit_by_time").await, all);
}

#[tokio::test]
async fn an_actors_reset_count_and_an_interactions_outcome_still_read_the_partial_indexes() {
    let (_dir, store, tenant, educator) = store_with_events().await;
    let t = tenant.to_string();
    let plan = plan_of(
        &store,
        super::super::alerts::COUNT_APPLIED_BY,
        &[&t, "u", "a", "x"],
    )
    .await;
    assert!(plan.contains("USING INDEX audit_by_actor_action"), "{plan}");
    let plan = plan_of(&store, super::super::bot::OUTCOMES_OF_INTERACTION, &["i0"]).await;
    assert!(
        plan.contains("USING INDEX audit_events_by_interaction"),
        "{plan}"
    );
    // And they answer as before.
    let earlier = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap();
    assert_eq!(
        store
            .count_resets_by(tenant, educator, earlier)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.interaction_outcome("i1").await.unwrap().as_deref(),
        Some("applied")
    );
}
