//! Counters in the Prometheus text format. Labels are fixed, small sets
//! (command names, outcomes), never user data.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub struct Metrics {
    /// (kind, command) -> (count, total seconds)
    interactions: Mutex<BTreeMap<(String, String), (u64, f64)>>,
    /// reason -> count
    rejected: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub fn interaction(&self, kind: &str, command: &str, took: Duration) {
        if let Ok(mut map) = self.interactions.lock() {
            let entry = map
                .entry((kind.to_owned(), command.to_owned()))
                .or_default();
            entry.0 += 1;
            entry.1 += took.as_secs_f64();
        }
    }

    pub fn rejected(&self, reason: &str) {
        if let Ok(mut map) = self.rejected.lock() {
            *map.entry(reason.to_owned()).or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP hallpass_interactions_total Interactions answered, by kind and command.\n",
        );
        out.push_str("# TYPE hallpass_interactions_total counter\n");
        let interactions = self
            .interactions
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        for ((kind, command), (count, _)) in &interactions {
            let _ = writeln!(
                out,
                "hallpass_interactions_total{{kind=\"{kind}\",command=\"{command}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP hallpass_interaction_seconds_sum Time spent answering, by kind and command.\n",
        );
        out.push_str("# TYPE hallpass_interaction_seconds_sum counter\n");
        for ((kind, command), (_, seconds)) in &interactions {
            let _ = writeln!(
                out,
                "hallpass_interaction_seconds_sum{{kind=\"{kind}\",command=\"{command}\"}} {seconds:.6}"
            );
        }
        out.push_str(
            "# HELP hallpass_requests_rejected_total Requests refused before any handler ran.\n",
        );
        out.push_str("# TYPE hallpass_requests_rejected_total counter\n");
        for (reason, count) in self.rejected.lock().map(|m| m.clone()).unwrap_or_default() {
            let _ = writeln!(
                out,
                "hallpass_requests_rejected_total{{reason=\"{reason}\"}} {count}"
            );
        }
        out
    }
}
