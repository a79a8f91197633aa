#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn settings() -> OutboxSettings {
    OutboxSettings {
        base_backoff: Duration::from_secs(10),
        max_backoff: Duration::from_secs(300),
        ..OutboxSettings::default()
    }
}

#[test]
fn backoff_doubles_from_the_base_and_stops_at_the_maximum() {
    let s = settings();
    let full: Vec<u64> = (1..=7).map(|n| backoff(&s, n, 1.0).as_secs()).collect();
    assert_eq!(full, [10, 20, 40, 80, 160, 300, 300]);
    assert_eq!(backoff(&s, 1000, 1.0), Duration::from_secs(300));
}

#[test]
fn jitter_moves_a_wait_within_its_upper_half_only() {
    let s = settings();
    assert_eq!(backoff(&s, 3, 0.0), Duration::from_secs(20));
    assert_eq!(backoff(&s, 3, 0.5), Duration::from_secs(30));
    assert_eq!(backoff(&s, 3, 7.0), Duration::from_secs(40));
}

#[test]
fn a_time_too_far_ahead_saturates_instead_of_overflowing() {
    let now = Utc::now();
    assert_eq!(later(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    assert_eq!(
        later(now, Duration::from_secs(5)),
        now + TimeDelta::seconds(5)
    );
}

#[test]
fn horizons_read_in_the_largest_whole_unit() {
    assert_eq!(words(Duration::from_secs(86_400)), "24 h");
    assert_eq!(words(Duration::from_secs(5_400)), "90 min");
    assert_eq!(words(Duration::from_secs(45)), "45 s");
}
