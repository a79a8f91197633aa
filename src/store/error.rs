use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("DATABASE_URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("Failed to connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("Failed to apply database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Optimistic concurrency: the record changed after the caller read it.
    #[error(
        "This record was changed by someone else since you opened it. Open it again to see the current values."
    )]
    Conflict,
    /// A move would leave a district without an enabled district admin.
    #[error(
        "That is the last district admin of the district. Make someone else a district admin there first."
    )]
    LastDistrictAdmin,
    #[error("No such record.")]
    NotFound,
    #[error("The login \"{0}\" is already used by someone else in this tenant.")]
    LoginTaken(String),
    #[error(
        "That Discord account is already linked to someone else, or this user already has a Discord account linked."
    )]
    AlreadyLinked,
    #[error("A tenant named \"{0}\" already exists.")]
    TenantExists(String),
    /// A stored value no longer parses: someone wrote to the database by hand.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
    }

    /// A unique violation whose constraint mentions `column` (SQLite names the
    /// columns in its message, PostgreSQL in the constraint name).
    pub(crate) fn is_unique_violation_on(err: &sqlx::Error, column: &str) -> bool {
        match err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                db.message().contains(column) || db.constraint().is_some_and(|c| c.contains(column))
            }
            _ => false,
        }
    }
}
