//! The import's bulk write path (batches written as multi-row statements on
//! SQLite and one `json_to_recordset` statement per table on PostgreSQL),
//! across many batches: every user, audit entry and remembered value lands as
//! its row said and in file order, a re-import changes nothing, and a row the
//! database refuses in the middle of a batch costs only itself.

use std::collections::HashMap;
use std::path::Path;

use crate::helpers::{TestDb, on_both_backends, t0};
use hallpass::directory::TenantName;
use hallpass::roster::{
    ImportOptions, ImportReport, import_oneroster_in_batches, write_sample_bundle,
};
use hallpass::store::Backend;

on_both_backends!(
    a_bundle_over_many_batches_lands_whole_in_file_order_and_a_reimport_changes_nothing,
    a_login_taken_behind_the_importers_back_is_refused_alone_and_its_batch_lands,
);

/// Users in the generated bundle, and rows per batch: seven batches, the last short.
const USERS: usize = 1_300;
const BATCH: usize = 200;

fn tenant() -> TenantName {
    TenantName::parse("maplewood").unwrap()
}

async fn import(db: &TestDb, dir: &Path) -> ImportReport {
    import_oneroster_in_batches(
        &db.store,
        &tenant(),
        dir,
        &ImportOptions::default(),
        t0(),
        BATCH,
    )
    .await
    .unwrap()
}

/// users.csv as (line, sourcedId, username, givenName, familyName), in file order.
fn rows_of(dir: &Path) -> Vec<(u64, String, String, String, String)> {
    let mut reader = csv::Reader::from_path(dir.join("users.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, login, given, family) = (
        col("sourcedId"),
        col("username"),
        col("givenName"),
        col("familyName"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let line = r.position().unwrap().line();
            let get = |i: usize| r.get(i).unwrap().to_owned();
            (line, get(id), get(login), get(given), get(family))
        })
        .collect()
}

type Fields = (String, String, String, String);

/// Each user by source_id: (id, login, first_name, last_name).
async fn users(db: &TestDb) -> HashMap<String, Fields> {
    sqlx::query_as::<_, (String, String, String, String, String)>(
        "SELECT source_id, id, login, first_name, last_name FROM users WHERE source_id IS NOT NULL",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(s, id, l, f, n)| (s, (id, l, f, n)))
    .collect()
}

/// What the roster was remembered to say, by user id: (login, first_name, last_name).
async fn remembered(db: &TestDb) -> HashMap<String, (String, String, String)> {
    sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT user_id, login, first_name, last_name FROM roster_values",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(u, l, f, n)| (u, (l, f, n)))
    .collect()
}

/// The audit log as (action, target_user_id, after_json), in `seq` order.
async fn audit(db: &TestDb) -> Vec<(String, Option<String>, Option<String>)> {
    sqlx::query_as::<_, (String, Option<String>, Option<String>)>(
        "SELECT action, target_user_id, after_json FROM audit_events ORDER BY seq",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap()
}

async fn a_bundle_over_many_batches_lands_whole_in_file_order_and_a_reimport_changes_nothing(
    db: TestDb,
) {
    let dir = tempfile::tempdir().unwrap();
    write_sample_bundle(dir.path(), USERS, 7).unwrap();
    let rows = rows_of(dir.path());
    assert_eq!(rows.len(), USERS);

    let report = import(&db, dir.path()).await;
    assert_eq!(report.users_created, USERS, "{report}");
    assert!(report.refused.is_empty(), "{report}");
    let users = users(&db).await;
    let said = remembered(&db).await;
    assert_eq!((users.len(), said.len()), (USERS, USERS));
    for (line, source, login, given, family) in &rows {
        let (id, l, f, n) = &users[source];
        assert_eq!((l, f, n), (login, given, family), "line {line}");
        assert_eq!(
            said[id],
            (login.clone(), given.clone(), family.clone()),
            "line {line}"
        );
    }
    let log = audit(&db).await;
    let creates: Vec<&(String, Option<String>, Option<String>)> =
        log.iter().filter(|(a, _, _)| a == "user.create").collect();
    // One entry per record, in the order of the file (so in `seq` order, batch after batch).
    let in_file_order: Vec<&str> = rows.iter().map(|r| users[&r.1].0.as_str()).collect();
    let audited: Vec<&str> = creates
        .iter()
        .filter_map(|(_, t, _)| t.as_deref())
        .collect();
    assert_eq!(audited, in_file_order);
    for ((_, _, after), (line, _, login, _, _)) in creates.iter().zip(&rows) {
        let after: serde_json::Value = serde_json::from_str(after.as_deref().unwrap()).unwrap();
        assert_eq!(
            after["login"],
            serde_json::json!(login),
            "line {line}: {after}"
        );
    }
    assert_eq!(
        log.last().unwrap().0,
        "roster.import",
        "the summary comes last"
    );

    let versions = "SELECT COUNT(*) FROM users WHERE version = 1";
    let again = import(&db, dir.path()).await;
    assert_eq!(
        (
            again.users_unchanged,
            again.users_created,
            again.users_updated
        ),
        (USERS, 0, 0),
        "{again}"
    );
    let after_again = audit(&db).await;
    assert_eq!(
        after_again.len(),
        log.len() + 1,
        "only the summary is added"
    );
    assert_eq!(after_again.last().unwrap().0, "roster.import");
    let still_v1: i64 = sqlx::query_scalar(versions)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(still_v1 as usize, USERS, "no record was rewritten");
    assert_eq!(remembered(&db).await, said, "nothing remembered changed");
}

async fn a_login_taken_behind_the_importers_back_is_refused_alone_and_its_batch_lands(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    write_sample_bundle(dir.path(), USERS, 11).unwrap();
    let rows = rows_of(dir.path());
    // In the middle of the fourth batch: its neighbours on both sides share its transaction.
    let (line, victim, login, _, _) = rows[3 * BATCH + 77].clone();
    // Someone else takes the login the moment the import writes that row (a
    // trigger stands in for another session): only the database can see it.
    let squat = "INSERT INTO users (id, tenant_id, login, login_key, first_name, last_name, first_key, last_key, role, \
         school_id, district_id, must_change_password, disabled, version, created_at, updated_at) \
         SELECT 'squatter', NEW.tenant_id, NEW.login, NEW.login_key, 'Else', 'Someone', 'else', 'someone', NEW.role, \
         NEW.school_id, NEW.district_id, 0, 0, 1, NEW.created_at, NEW.updated_at";
    let statements: Vec<String> = match db.store.backend() {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER squat BEFORE INSERT ON users WHEN NEW.source_id = '{victim}' BEGIN {squat}; END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION squat() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.source_id = '{victim}' THEN {squat}; END IF; RETURN NEW; END $$"
            ),
            "CREATE TRIGGER squat BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION squat()"
                .into(),
        ],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(db.store.pool())
            .await
            .unwrap();
    }

    let report = import(&db, dir.path()).await;
    let refused: Vec<_> = report
        .refused
        .iter()
        .filter(|r| r.file == "users.csv")
        .collect();
    assert_eq!(refused.len(), 1, "{report}");
    let refused = refused[0];
    assert_eq!(
        (
            refused.file.as_str(),
            refused.line,
            refused.source_id.as_deref()
        ),
        ("users.csv", line, Some(victim.as_str()))
    );
    assert!(
        refused.reason.contains(&login),
        "the database's reason: {}",
        refused.reason
    );
    assert_eq!(report.users_created, USERS - 1, "{report}");
    let users = users(&db).await;
    assert_eq!(users.len(), USERS - 1);
    assert!(!users.contains_key(&victim));
    for (_, source, login, _, _) in rows.iter().filter(|r| r.1 != victim) {
        assert_eq!(&users[source].1, login);
    }
    let squatters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = 'squatter'")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        squatters, 0,
        "the refused statement took the trigger's row with it"
    );
    assert_eq!(remembered(&db).await.len(), USERS - 1);
    let creates = audit(&db)
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "user.create")
        .count();
    assert_eq!(creates, USERS - 1, "no audit entry for the refused row");
}
