//! Whole tables as text, to show an import wrote nothing (every column cast
//! to text on both backends, so the comparison is byte for byte).

use hallpass::store::Store;

fn columns(table: &str) -> &'static [&'static str] {
    match table {
        "tenants" => &["id", "name", "created_at"],
        "districts" => &[
            "id",
            "tenant_id",
            "name",
            "name_key",
            "source_id",
            "implicit",
        ],
        "schools" => &[
            "id",
            "tenant_id",
            "district_id",
            "name",
            "name_key",
            "source_id",
        ],
        "users" => &[
            "id",
            "tenant_id",
            "login",
            "login_key",
            "first_name",
            "last_name",
            "first_key",
            "last_key",
            "role",
            "school_id",
            "district_id",
            "grade",
            "title",
            "must_change_password",
            "disabled",
            "source_id",
            "version",
            "created_at",
            "updated_at",
        ],
        "roster_values" => &[
            "user_id",
            "login",
            "first_name",
            "last_name",
            "role",
            "school_id",
            "district_id",
            "grade",
            "disabled",
            "updated_at",
        ],
        "chat_links" => &["tenant_id", "discord_user_id", "user_id", "linked_at"],
        other => panic!("no column list for {other}"),
    }
}

/// Every row of `table`, every column as text, in a stable order.
pub async fn snapshot(store: &Store, table: &str) -> Vec<Vec<Option<String>>> {
    let cols = columns(table);
    let select: Vec<String> = cols
        .iter()
        .map(|c| format!("CAST({c} AS TEXT) AS {c}"))
        .collect();
    let order: Vec<String> = (1..=cols.len()).map(|n| n.to_string()).collect();
    let sql = format!(
        "SELECT {} FROM {table} ORDER BY {}",
        select.join(", "),
        order.join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            use sqlx::Row;
            (0..cols.len())
                .map(|i| row.try_get::<Option<String>, _>(i).unwrap())
                .collect()
        })
        .collect()
}

pub async fn audit_count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(store.pool())
        .await
        .unwrap()
}
