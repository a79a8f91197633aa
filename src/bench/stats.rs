//! Latency summaries: nearest-rank percentiles and the mean, in milliseconds.

use std::time::Duration;

use serde_json::{Value, json};

/// Milliseconds, rounded to microseconds so the JSON stays readable.
pub fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1_000.0)
}

pub fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

/// The latencies of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn extend(&mut self, more: Vec<Duration>) {
        self.0.extend(more);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Nearest-rank percentile (`p` in 0..=100); zero when empty.
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn mean(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        self.0.iter().sum::<Duration>() / self.0.len() as u32
    }

    /// `{"p50_ms", "p95_ms", "p99_ms"}`.
    pub fn percentiles_json(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        map.insert("p50_ms".into(), json!(ms(self.percentile(50.0))));
        map.insert("p95_ms".into(), json!(ms(self.percentile(95.0))));
        map.insert("p99_ms".into(), json!(ms(self.percentile(99.0))));
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_and_an_empty_set_reads_zero() {
        let mut l = Latencies::default();
        assert_eq!(l.percentile(99.0), Duration::ZERO);
        l.extend((1..=100).map(Duration::from_millis).collect());
        assert_eq!(l.percentile(50.0), Duration::from_millis(50));
        assert_eq!(l.percentile(99.0), Duration::from_millis(99));
        assert_eq!(l.percentile(100.0), Duration::from_millis(100));
        assert_eq!(l.mean(), Duration::from_micros(50_500));
    }
}
