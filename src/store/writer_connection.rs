//! The connection an import writes through ([`super::Store::roster_writer`]).

use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection};

/// A connection opened for the import, or (for an in-memory SQLite
/// database, one per connection) one of the pool's, closed when dropped.
pub(super) enum WriterConnection {
    Own(sqlx::AnyConnection),
    Pooled(PoolConnection<Any>),
}

impl std::ops::Deref for WriterConnection {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Own(conn) => conn,
            Self::Pooled(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for WriterConnection {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Self::Own(conn) => conn,
            Self::Pooled(conn) => conn,
        }
    }
}

impl WriterConnection {
    /// Ends the connection: one of its own is closed with the server's
    /// goodbye; the pool's is closed as it is dropped (`close_on_drop`).
    pub(super) async fn close(self) {
        if let Self::Own(conn) = self
            && let Err(e) = conn.close().await
        {
            tracing::debug!(error = %e, "closing the import's connection");
        }
    }
}
