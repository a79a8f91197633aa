//! The SQLite compiled into hallpass is built as `.cargo/config.toml` says,
//! and each connection is set up as `prepare_connection` says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::migrated_sqlite_for_tests;

#[tokio::test]
async fn sqlite_is_built_without_counting_its_memory_under_a_global_mutex() {
    let (_dir, store) = migrated_sqlite_for_tests().await;
    let options: Vec<String> =
        sqlx::query_scalar("SELECT compile_options FROM pragma_compile_options")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(
        options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
        "LIBSQLITE3_FLAGS from .cargo/config.toml did not reach the build: {options:?}"
    );
}

#[tokio::test]
async fn every_connection_keeps_the_default_two_mebibyte_page_cache() {
    let (_dir, store) = migrated_sqlite_for_tests().await;
    for _ in 0..3 {
        let mut conn = store.pool().acquire().await.unwrap();
        let size: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(size, -2048, "KiB, negative as SQLite reports a size in KiB");
    }
}
