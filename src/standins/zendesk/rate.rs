//! The account-wide request rate the stand-in enforces, as Zendesk's plan
//! limits do: a token bucket holding at most one period's allowance
//! (`requests` per `per`: 700 a minute on Enterprise, or N a second),
//! refilled continuously. A request finding the bucket empty is answered 429
//! with `Retry-After` in whole seconds (Zendesk sends no fractions), rounded
//! up, so a client that waits that long finds room. Refused requests use no
//! allowance.
//!
//! Hand-written rather than taken from a crate (governor, tower's rate
//! limiter): the stand-in must say *when* there will be room, in Zendesk's
//! words, and keep a log of its answers for tests; both are a few lines over
//! the arithmetic.

use std::time::{Duration, Instant};

/// A rate limit for the stand-in: at most `requests` API requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
}

impl RateLimit {
    /// `n` requests a second.
    pub fn per_second(n: u32) -> Self {
        Self {
            requests: n,
            per: Duration::from_secs(1),
        }
    }

    /// `n` requests a minute, as Zendesk's plans state their limits.
    pub fn per_minute(n: u32) -> Self {
        Self {
            requests: n,
            per: Duration::from_secs(60),
        }
    }
}

/// What the limit answered to one API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateAnswer {
    /// When the request was judged, by the stand-in's clock.
    pub at: Instant,
    /// `None` when it was let through; otherwise the `Retry-After` seconds of its 429.
    pub retry_after_seconds: Option<u64>,
}

pub(super) struct Bucket {
    limit: RateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl Bucket {
    /// A full bucket: a fresh account has its whole allowance.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.requests),
            refilled_at: now,
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.limit.requests)
    }

    /// Requests' worth regained per second.
    fn refill_rate(&self) -> f64 {
        self.capacity() / self.limit.per.as_secs_f64().max(f64::EPSILON)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_rate()).min(self.capacity());
        self.refilled_at = now;
    }

    /// Takes one request's worth; `Some(seconds)` to wait when there is none.
    pub fn take(&mut self, now: Instant) -> Option<u64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return None;
        }
        if self.limit.requests == 0 {
            // No allowance at all: come back after a period.
            return Some(self.limit.per.as_secs().max(1));
        }
        let wait = (1.0 - self.tokens) / self.refill_rate();
        // At most one period: the bucket regains a request's worth within it.
        Some(wait.ceil().max(1.0) as u64)
    }

    /// Spends what is left of the allowance, as other clients of the same
    /// account would.
    pub fn empty(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_its_rate_through_then_says_when_to_come_back() {
        let start = Instant::now();
        let mut bucket = Bucket::new(RateLimit::per_second(3), start);
        assert_eq!(bucket.take(start), None);
        assert_eq!(bucket.take(start), None);
        assert_eq!(bucket.take(start), None);
        assert_eq!(bucket.take(start), Some(1));
        // A third of a second later one request's worth is back.
        let later = start + Duration::from_millis(334);
        assert_eq!(bucket.take(later), None);
        assert_eq!(bucket.take(later), Some(1));
        // Waiting longer than a second never holds more than a second's allowance.
        let much_later = later + Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(bucket.take(much_later), None);
        }
        assert_eq!(bucket.take(much_later), Some(1));
    }

    #[test]
    fn below_one_request_a_second_the_wait_is_the_whole_seconds_until_there_is_room() {
        let start = Instant::now();
        let mut bucket = Bucket::new(RateLimit::per_second(1), start);
        bucket.empty(start);
        assert_eq!(bucket.take(start), Some(1));
        assert_eq!(bucket.take(start + Duration::from_millis(999)), Some(1));
        assert_eq!(bucket.take(start + Duration::from_secs(1)), None);
    }

    #[test]
    fn a_per_minute_limit_says_the_seconds_until_the_next_request_fits() {
        let start = Instant::now();
        let mut bucket = Bucket::new(RateLimit::per_minute(3), start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), None);
        }
        assert_eq!(bucket.take(start), Some(20));
        assert_eq!(bucket.take(start + Duration::from_secs(15)), Some(5));
        assert_eq!(bucket.take(start + Duration::from_secs(20)), None);
    }
}
