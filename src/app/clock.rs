//! Time is a parameter: logic asks a `Clock`, tests hold a `ManualClock`.
//!
//! One clock gives both kinds of time: wall time for what people read and
//! what expires at a date (temporary passwords, links, audit entries), and
//! monotonic time for durations (how long a Zendesk token has lived), which a
//! wall clock that jumps (NTP, a misconfigured container) must not stretch.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    /// Wall time.
    fn now(&self) -> DateTime<Utc>;
    /// Monotonic time, for measuring durations.
    fn monotonic(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (tests, the demo's script); both
/// its wall and its monotonic time move together.
pub struct ManualClock(Mutex<(DateTime<Utc>, Instant)>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new((start, Instant::now())))
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.0.lock() {
            now.0 += by;
            now.1 += by.to_std().unwrap_or_default();
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|now| now.0)
            .unwrap_or_else(|poisoned| poisoned.into_inner().0)
    }

    fn monotonic(&self) -> Instant {
        self.0
            .lock()
            .map(|now| now.1)
            .unwrap_or_else(|poisoned| poisoned.into_inner().1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_manual_clock_moves_its_wall_and_monotonic_time_only_when_advanced_and_together() {
        let start = DateTime::parse_from_rfc3339("2026-09-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ManualClock::new(start);
        let (wall, mono) = (clock.now(), clock.monotonic());
        assert_eq!((clock.now(), clock.monotonic()), (wall, mono));
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now() - wall, Duration::seconds(90));
        assert_eq!(clock.monotonic() - mono, std::time::Duration::from_secs(90));
    }
}
