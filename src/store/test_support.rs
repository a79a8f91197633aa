//! What the tests of this crate set up stores with: a migrated SQLite file,
//! a PostgreSQL database of their own, generic plans, and the macro that runs
//! a test on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Store;

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

/// A fresh, empty PostgreSQL database on the test server
/// (`HALLPASS_TEST_POSTGRES_URL`, else the local one), for the tests of this
/// crate; removed when dropped, also when the test panics (a leftover
/// database per failed test would pile up on the server otherwise).
pub(crate) struct PostgresForTests {
    pub url: String,
    name: String,
    admin_url: String,
}

impl PostgresForTests {
    pub(crate) async fn create(prefix: &str) -> Self {
        let admin_url = std::env::var("HALLPASS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = Store::connect(&admin_url)
            .await
            .expect("PostgreSQL is required for this test");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .unwrap();
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .unwrap();
        Self {
            url: format!("{base}/{name}"),
            name,
            admin_url,
        }
    }

    /// A fresh database with the migrations applied, and the store on it;
    /// end with [`PostgresForTests::drop_with`].
    pub(crate) async fn migrated(prefix: &str) -> (Self, Store) {
        let db = Self::create(prefix).await;
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        (db, store)
    }

    /// Closes `store` and removes the database.
    pub(crate) async fn drop_with(self, store: Store) {
        store.close().await;
        drop(self);
    }
}

impl Drop for PostgresForTests {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Dropping needs async I/O: on a runtime of its own, so it also works
        // while the test's runtime unwinds a panic.
        let dropping = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = Store::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(admin.pool())
                        .await
                    {
                        eprintln!("could not drop the test database {name}: {e}");
                    }
                    admin.close().await;
                }
            });
        });
        let _ = dropping.join();
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

#[tokio::test]
async fn a_postgres_test_database_is_dropped_even_when_its_test_panics() {
    let made = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = made.clone();
    let test = tokio::spawn(async move {
        let db = PostgresForTests::create("hallpass_panics").await;
        *seen.lock().unwrap() = Some((db.name.clone(), db.admin_url.clone()));
        panic!("a failing test, its database still in scope");
    })
    .await;
    assert!(test.unwrap_err().is_panic());
    let (name, admin_url) = made.lock().unwrap().clone().unwrap();
    let admin = Store::connect(&admin_url).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(admin.pool())
        .await
        .unwrap();
    admin.close().await;
    assert_eq!(left, 0, "{name} was left on the server");
}
