//! The batch writer against a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    let mut batches = BatchWriter::new(&store, &template, false, 3).await.unwrap();
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

#[tokio::test]
async fn an_import_that_stops_on_its_file_waits_for_the_batch_being_written_and_writes_no_more() {
    let (_dir, store, template, place, tenant, now) = a_school_with_user5_taken().await;
    let mut report = ImportReport::default();
    let mut batches = BatchWriter::new(&store, &template, false, 3).await.unwrap();
    // Rows 10..13 fill a batch, which goes to its task; 13 and 14 stay queued.
    for n in 10..15 {
        let write = student(n, tenant, place, now);
        batches.push(n + 2, write, &mut report).await.unwrap();
    }
    batches.settle(&mut report).await.unwrap();
    assert_eq!(report.users_created, 3, "the batch in flight is counted");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        users, 4,
        "user5 and the written batch; the queued rows are not written"
    );
}
