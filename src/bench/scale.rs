//! How big a benchmark run is. The full scale is the one the figures are
//! quoted at; the tiny one lets a test run every scenario in seconds.

use std::time::Duration;

/// The sizes every scenario reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchScale {
    /// Users in the generated directory (and in each timed import).
    pub users: usize,
    /// Concurrent autocomplete clients (tokio tasks).
    pub clients: usize,
    /// Autocomplete requests each client sends, unless `max_duration` ends it first.
    pub requests_per_client: usize,
    /// A bound on each latency scenario's wall time, so a slow backend cannot
    /// make the suite run for ever; the figures then cover what was sent.
    pub max_duration: Duration,
    /// Concurrent editors in `edit_submit_sqlite`, and submits each makes.
    pub editors: usize,
    pub submits_per_editor: usize,
    /// Concurrent resets (and raw hashes) in `reset_throughput`, and how many in all.
    pub reset_concurrency: usize,
    pub resets: usize,
    /// Promotion requests drained in `outbox_drain`.
    pub drain_requests: usize,
    /// Concurrent HTTP clients in `signin` (and students, one each), sign-ins
    /// through the listener (and raw verifications) in all, and the requests
    /// of each kind timed one at a time for the unknown-login comparison.
    pub signin_clients: usize,
    pub signins: usize,
    pub signin_samples: usize,
    /// PostgreSQL server to create the scenarios' fresh databases on.
    pub postgres_url: String,
    /// The scenarios to run (summary names); empty runs them all.
    pub only: Vec<String>,
}

/// The default server: the local one, trust auth.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl BenchScale {
    /// The scale `hallpass bench` reports: 100,000 users, 32 clients.
    pub fn full(postgres_url: &str) -> Self {
        Self {
            users: 100_000,
            clients: 32,
            requests_per_client: 1_000,
            max_duration: Duration::from_secs(30),
            editors: 8,
            submits_per_editor: 50,
            reset_concurrency: 4,
            resets: 256,
            drain_requests: 1_000,
            signin_clients: 16,
            signins: 256,
            signin_samples: 100,
            postgres_url: postgres_url.to_owned(),
            only: Vec::new(),
        }
    }

    /// A few hundred users and a handful of requests: every scenario runs, the
    /// figures mean nothing. For tests of the machinery.
    pub fn tiny(postgres_url: &str) -> Self {
        Self {
            users: 200,
            clients: 4,
            requests_per_client: 5,
            max_duration: Duration::from_secs(10),
            editors: 2,
            submits_per_editor: 3,
            reset_concurrency: 2,
            resets: 4,
            drain_requests: 10,
            signin_clients: 2,
            signins: 4,
            signin_samples: 2,
            postgres_url: postgres_url.to_owned(),
            only: Vec::new(),
        }
    }
}

impl BenchScale {
    /// Whether the scenario `name` is to run (`--only`).
    pub fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|n| n == name)
    }

    /// Whether any of `names` is to run.
    pub fn wants_any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.wants(n))
    }
}
