//! What the tests of this crate set up stores with: a migrated SQLite file,
//! a PostgreSQL database of their own, generic plans, and the macro that runs
//! a test on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::Store;
use super::scratch::{ScratchDatabase, test_postgres_url};

/// A migrated SQLite store in a temporary file, for the tests of this crate
/// (keep the directory as long as the store).
pub(crate) async fn migrated_sqlite_for_tests() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (dir, store)
}

/// A fresh PostgreSQL database on the test server ([`test_postgres_url`])
/// for one test of this crate, removed when dropped (a [`ScratchDatabase`]).
pub(crate) struct PostgresForTests {
    _db: ScratchDatabase,
}

impl PostgresForTests {
    /// A fresh database with the migrations applied, and the store on it;
    /// end with [`PostgresForTests::drop_with`].
    pub(crate) async fn migrated(prefix: &str) -> (Self, Store) {
        let db = ScratchDatabase::create(&test_postgres_url(), prefix)
            .await
            .expect("PostgreSQL is required for this test");
        let store = Store::connect(db.url()).await.unwrap();
        store.migrate().await.unwrap();
        (Self { _db: db }, store)
    }

    /// Closes `store` and removes the database.
    pub(crate) async fn drop_with(self, store: Store) {
        store.close().await;
        drop(self);
    }
}

/// PostgreSQL's generic plan of `sql`, whose parameters `$1, $2, …` have the
/// types `types`: the plan a prepared statement may keep after its fifth
/// execution, made without its values (`PREPARE`, then `EXPLAIN EXECUTE`
/// under `force_generic_plan`). `EXPLAIN` of the statement with values bound
/// plans it for those values, whatever `plan_cache_mode` says.
pub(crate) async fn postgres_generic_plan(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    types: &[&str],
) -> String {
    let nulls = vec!["NULL"; types.len()].join(", ");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE hallpass_generic ({}) AS {sql}",
        types.join(", ")
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "EXPLAIN EXECUTE hallpass_generic ({nulls})"
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql("DEALLOCATE hallpass_generic; RESET plan_cache_mode")
        .execute(&mut *conn)
        .await
        .unwrap();
    let lines: Vec<String> = rows
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, 0))
        .collect();
    lines.join("\n")
}

/// Each named `async fn(&Store)` of the calling module as two tests,
/// `sqlite::<name>` and `postgres::<name>`, each on a freshly migrated
/// database of its backend (a temporary SQLite file; a PostgreSQL database
/// made for it and dropped after), as the integration tests'
/// `on_both_backends!` does for theirs.
macro_rules! store_tests_on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
              async fn $name() {
                  let (_dir, store) = $crate::store::migrated_sqlite_for_tests().await;
                  super::$name(&store).await;
                  store.close().await;
              })*
        }
        mod postgres {
            $(#[tokio::test]
              async fn $name() {
                  let (db, store) =
                      $crate::store::PostgresForTests::migrated("hallpass_lib").await;
                  super::$name(&store).await;
                  db.drop_with(store).await;
              })*
        }
    };
}
pub(crate) use store_tests_on_both_backends;
