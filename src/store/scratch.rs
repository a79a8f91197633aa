//! A PostgreSQL database made for one test and removed with it, whatever
//! way the test ends. Public (and hidden from the docs) because the crate's
//! own tests and the integration tests, which cannot see `cfg(test)` items,
//! both make them; nothing in the product does.

use super::{Store, StoreError};

/// The server the PostgreSQL tests make their databases on:
/// `HALLPASS_TEST_POSTGRES_URL`, else the local one.
pub fn test_postgres_url() -> String {
    std::env::var("HALLPASS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database `<prefix>_<uuid>` on a PostgreSQL server, dropped (with
/// `FORCE`) when this is dropped, also while a panicking test unwinds: a
/// leftover database per failed test would pile up on the server otherwise.
#[derive(Debug)]
pub struct ScratchDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates it on the server `admin_url` (a URL of any database there) points at.
    pub async fn create(admin_url: &str, prefix: &str) -> Result<Self, StoreError> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let Some((base, _)) = admin_url.rsplit_once('/') else {
            return Err(StoreError::UnsupportedUrl);
        };
        let admin = Store::connect(admin_url).await?;
        let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await;
        admin.close().await;
        created?;
        Ok(Self {
            url: format!("{base}/{name}"),
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    /// The database's own URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Dropping needs async I/O: on a runtime of its own, so it also works
        // while the test's runtime unwinds a panic or shuts down.
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[tokio::test]
    async fn a_postgres_test_database_is_dropped_even_when_its_test_panics() {
        let made = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = made.clone();
        let test = tokio::spawn(async move {
            let db = ScratchDatabase::create(&test_postgres_url(), "hallpass_panics")
                .await
                .expect("PostgreSQL is required for this test");
            *seen.lock().unwrap() = Some(db.name.clone());
            panic!("a failing test, its database still in scope");
        })
        .await;
        assert!(test.unwrap_err().is_panic());
        let name = made.lock().unwrap().clone().unwrap();
        let admin = Store::connect(&test_postgres_url()).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(admin.pool())
            .await
            .unwrap();
        admin.close().await;
        assert_eq!(left, 0, "{name} was left on the server");
    }
}
