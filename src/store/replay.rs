//! Interactions already received, so a replayed signed request is refused.
//!
//! Promises:
//!
//! * an interaction that can act (a command, a button, a modal submit) is
//!   accepted once, across every instance that shares the database, for as
//!   long as its signature's timestamp could still pass the check: the
//!   primary key of `seen_interactions` decides, not memory
//!   ([`Store::first_sighting`]);
//! * an autocomplete is accepted once by this instance, within the same time,
//!   while this instance has seen fewer than [`REMEMBERED_HERE`] others since
//!   ([`Store::first_sighting_here`]).
//!
//! Why autocomplete is not written down: it changes nothing and its answer
//! is decided by the signed body alone, so a replay can only fetch again the
//! choices the original request was shown, to whoever can already read that
//! traffic; there is no action to repeat and no quota it spends twice (the
//! per-account limit counts it in memory either way). Writing its id would
//! put a write transaction, and SQLite's single writer, in front of every
//! keystroke of every educator. This instance's memory still refuses the
//! obvious replay (the same request sent back to the same listener).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreError, time};

/// Autocomplete ids held by one instance: about 1.5 MiB. Beyond it the oldest
/// are forgotten early (a read-only request, see the module doc).
pub const REMEMBERED_HERE: usize = 65_536;

/// How often this instance deletes the forgotten ids from the database: a
/// range of the `seen_at` index, once a minute rather than on every insert.
const PRUNE_EVERY_SECONDS: i64 = 60;

/// This instance's share of the replay memory: recent autocomplete ids, and
/// when the durable table was last pruned.
#[derive(Debug, Default)]
pub(crate) struct ReplayMemory {
    recent: Mutex<Recent>,
    /// Unix seconds of the last prune; 0 before the first.
    pruned_at: AtomicI64,
}

#[derive(Debug, Default)]
struct Recent {
    ids: HashSet<u64>,
    /// The ids in the order received, with the time each was.
    order: VecDeque<(DateTime<Utc>, u64)>,
}

impl Recent {
    /// `false` when `id` is held. Forgets ids older than `memory` first, and
    /// the oldest when `capacity` are held.
    fn admit(&mut self, id: u64, now: DateTime<Utc>, memory: Duration, capacity: usize) -> bool {
        while let Some(&(at, old)) = self.order.front() {
            if at >= now - memory {
                break;
            }
            self.order.pop_front();
            self.ids.remove(&old);
        }
        if self.ids.contains(&id) {
            return false;
        }
        if self.order.len() >= capacity
            && let Some((_, oldest)) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.ids.insert(id);
        self.order.push_back((now, id));
        true
    }
}

impl Store {
    /// Records interaction `id` as received at `now`. `false` when it was
    /// received before: a replay. Ids older than `memory` are forgotten.
    ///
    /// One autocommit INSERT (the primary key refuses a replay); the ids
    /// older than `memory` are deleted at most once a minute per instance.
    #[tracing::instrument(skip(self, now, memory))]
    pub async fn first_sighting(
        &self,
        id: u64,
        now: DateTime<Utc>,
        memory: Duration,
    ) -> Result<bool, StoreError> {
        let fresh = sqlx::query(
            "INSERT INTO seen_interactions (interaction_id, seen_at) VALUES ($1, $2) \
             ON CONFLICT (interaction_id) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(time::encode(now))
        .execute(&self.writer)
        .await?;
        if fresh.rows_affected() == 0 {
            return Ok(false);
        }
        let last = self.replays.pruned_at.load(Ordering::Relaxed);
        let due = now.timestamp() - last >= PRUNE_EVERY_SECONDS || now.timestamp() < last;
        if due
            && self
                .replays
                .pruned_at
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            sqlx::query("DELETE FROM seen_interactions WHERE seen_at < $1")
                .bind(time::encode(now - memory))
                .execute(&self.writer)
                .await?;
            // Not on this interaction's time: after a large import the log
            // has up to a district's worth of entries to drop.
            let store = self.clone();
            tokio::spawn(async move {
                if let Err(e) = store.prune_directory_log().await {
                    tracing::warn!(error = %e, "could not prune the directory's change log");
                }
            });
        }
        Ok(true)
    }

    /// Records autocomplete `id` as received by this instance at `now`;
    /// `false` when this instance received it before. See the module doc
    /// for why an autocomplete needs no more.
    pub fn first_sighting_here(&self, id: u64, now: DateTime<Utc>, memory: Duration) -> bool {
        match self.replays.recent.lock() {
            Ok(mut recent) => recent.admit(id, now, memory, REMEMBERED_HERE),
            // A panic while the lock was held left the set as it was between
            // two operations; it is still a set of ids seen.
            Err(poisoned) => poisoned
                .into_inner()
                .admit(id, now, memory, REMEMBERED_HERE),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn an_id_is_admitted_once_until_it_is_older_than_the_memory() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let memory = Duration::minutes(11);
        let mut recent = Recent::default();
        assert!(recent.admit(1, t0, memory, 10));
        assert!(!recent.admit(1, t0 + Duration::minutes(10), memory, 10));
        assert!(recent.admit(2, t0 + Duration::minutes(12), memory, 10));
        assert!(recent.admit(1, t0 + Duration::minutes(12), memory, 10));
    }

    #[test]
    fn beyond_its_capacity_the_oldest_id_is_forgotten_first() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let memory = Duration::minutes(11);
        let mut recent = Recent::default();
        for id in 0..3 {
            assert!(recent.admit(id, t0, memory, 3));
        }
        assert!(recent.admit(3, t0, memory, 3));
        assert_eq!(recent.ids.len(), 3);
        assert!(!recent.admit(3, t0, memory, 3));
        assert!(recent.admit(0, t0, memory, 3), "0 was the oldest");
    }
}
