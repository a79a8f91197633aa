//! Times are stored as RFC 3339 UTC text with microseconds, which sorts and
//! compares correctly as text on both backends.

use chrono::{DateTime, SecondsFormat, Utc};

use super::StoreError;

pub(crate) fn encode(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn decode(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encoded_times_sort_as_text_in_time_order() {
        let a = DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::microseconds(1);
        let c = a + chrono::Duration::days(400);
        assert!(encode(a) < encode(b) && encode(b) < encode(c));
        assert_eq!(decode(&encode(b)).unwrap(), b);
    }
}
