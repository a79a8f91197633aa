//! Interactions already received, so a replayed signed request is refused.
//!
//! Promise: for as long as a signed interaction could still pass the
//! signature's timestamp check, its id is accepted once, across every
//! instance that shares the database (the primary key decides, not memory).

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreError, time};

impl Store {
    /// Records interaction `id` as received at `now`. `false` when it was
    /// received before: a replay. Ids older than `memory` are forgotten.
    #[tracing::instrument(skip(self, now, memory))]
    pub async fn first_sighting(
        &self,
        id: u64,
        now: DateTime<Utc>,
        memory: Duration,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let fresh = sqlx::query(
            "INSERT INTO seen_interactions (interaction_id, seen_at) VALUES ($1, $2) \
             ON CONFLICT (interaction_id) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(time::encode(now))
        .execute(&mut *tx)
        .await?;
        if fresh.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM seen_interactions WHERE seen_at < $1")
            .bind(time::encode(now - memory))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
