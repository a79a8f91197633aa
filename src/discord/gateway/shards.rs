//! The gateway client's shards: which have a session, for the state
//! `/healthz` reports (connected once every one has).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use super::GatewayState;

/// Which of the `total` shards have a session now, and which ever had one.
pub(super) struct Shards {
    total: u32,
    seen: Mutex<(HashSet<u32>, HashSet<u32>)>,
}

impl Shards {
    pub(super) fn new(total: u32) -> Self {
        Self {
            total,
            seen: Mutex::default(),
        }
    }

    /// Shard `shard` has a session; whether it had one before.
    pub(super) fn up(&self, shard: u32) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.0.insert(shard);
        !seen.1.insert(shard)
    }

    pub(super) fn down(&self, shard: u32) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.0.remove(&shard);
    }

    /// `Connected` once every shard is up, else `Connecting`.
    pub(super) fn state(&self) -> GatewayState {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.0.len() as u32 >= self.total {
            GatewayState::Connected
        } else {
            GatewayState::Connecting
        }
    }

    /// "2/4": shard 2 of 4, as the logs name it.
    pub(super) fn name(&self, shard: u32) -> String {
        format!("{shard}/{}", self.total)
    }
}
