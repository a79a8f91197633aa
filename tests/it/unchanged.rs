//! Proof that a refusal changed nothing: the database before and after, read
//! back rather than inferred from a reply's wording.
//!
//! A [`Snapshot`] holds every user record (both tenants), every stored
//! password, the number of rows in every table and the whole audit log. After
//! a refused request, [`Snapshot::assert_only_refusals`] re-reads all of it and
//! holds that nothing differs except refused audit entries with the reasons
//! given.

use hallpass::audit::{AuditEvent, AuditQuery};
use hallpass::directory::{User, UserId};
use hallpass::store::{Backend, StoredPassword};
use sqlx::Row;

use crate::bot::Bot;

#[derive(Debug)]
pub struct Snapshot {
    users: Vec<User>,
    passwords: Vec<Option<StoredPassword>>,
    rows: Vec<(String, i64)>,
    audit: Vec<AuditEvent>,
}

impl Snapshot {
    pub async fn of(bot: &Bot) -> Self {
        let store = &bot.db.store;
        let ids: Vec<String> = sqlx::query("SELECT id FROM users ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("id").unwrap())
            .collect();
        let mut users = Vec::new();
        let mut passwords = Vec::new();
        for id in ids {
            let id = UserId::parse(&id).unwrap();
            let mut found = None;
            for tenant in [bot.world.tenant.id, bot.world.other.id] {
                if let Some(user) = store.user(tenant, id).await.unwrap() {
                    passwords.push(store.password_hash(tenant, id).await.unwrap());
                    found = Some(user);
                }
            }
            users.push(found.expect("every user belongs to one of the two tenants"));
        }
        Self {
            users,
            passwords,
            rows: row_counts(bot).await,
            audit: store.audit_events(&AuditQuery::default()).await.unwrap(),
        }
    }

    /// Nothing changed but the audit log, which gained exactly one refused
    /// entry per reason in `reasons`, in that order.
    pub async fn assert_only_refusals(&self, bot: &Bot, reasons: &[&str]) {
        self.assert_only_refusals_and_rows(bot, reasons, &[]).await;
    }

    /// As [`Snapshot::assert_only_refusals`], except that each table in
    /// `grown` gained exactly that many rows: a wrong `/link` code, refused,
    /// still counts against the account's hourly budget (`quota_usage`).
    pub async fn assert_only_refusals_and_rows(
        &self,
        bot: &Bot,
        reasons: &[&str],
        grown: &[(&str, i64)],
    ) {
        let now = Self::of(bot).await;
        assert_eq!(now.users, self.users, "a refusal changed a record");
        assert!(
            now.passwords == self.passwords,
            "a refusal changed a stored password"
        );
        let mut rows = now.rows.clone();
        let mut expected_rows = self.rows.clone();
        for counts in [&mut rows, &mut expected_rows] {
            counts.retain(|(table, _)| table != "audit_events");
        }
        for (table, more) in grown {
            let row = expected_rows
                .iter_mut()
                .find(|(name, _)| name == table)
                .expect("a table the snapshot counts");
            row.1 += more;
        }
        assert_eq!(rows, expected_rows, "a refusal wrote a row");
        assert_eq!(
            &now.audit[..self.audit.len()],
            &self.audit[..],
            "the audit log is append-only"
        );
        let added: Vec<(&str, Option<&str>)> = now.audit[self.audit.len()..]
            .iter()
            .map(|e| (e.outcome.as_str(), e.reason.as_deref()))
            .collect();
        let expected: Vec<(&str, Option<&str>)> =
            reasons.iter().map(|r| ("refused", Some(*r))).collect();
        assert_eq!(added, expected, "the refusals audited");
    }

    /// Nothing changed at all, the audit log included.
    pub async fn assert_unchanged(&self, bot: &Bot) {
        self.assert_only_refusals(bot, &[]).await;
    }
}

async fn row_counts(bot: &Bot) -> Vec<(String, i64)> {
    let store = &bot.db.store;
    let list = match store.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '_sqlx%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name"
        }
    };
    let tables: Vec<String> = sqlx::query(list)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("name").unwrap())
        .collect();
    let mut counts = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        counts.push((table, n));
    }
    counts
}

/// Every value of every column of `table`, as text, row by row: to show that
/// a secret appears nowhere in it, whatever columns the table has.
pub async fn every_value_in(store: &hallpass::store::Store, table: &str) -> Vec<String> {
    let columns_sql = match store.backend() {
        Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
        Backend::Postgres => format!(
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns WHERE table_name = '{table}'"
        ),
    };
    let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(columns_sql))
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("name").unwrap())
        .collect();
    assert!(!columns.is_empty(), "{table} has columns");
    let mut values = Vec::new();
    for column in columns {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT CAST({column} AS TEXT) AS v FROM {table}"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap();
        for row in rows {
            if let Some(v) = row.try_get::<Option<String>, _>("v").unwrap() {
                values.push(v);
            }
        }
    }
    values
}
