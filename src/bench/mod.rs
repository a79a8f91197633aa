//! `hallpass bench`: the benchmark suite behind the performance figures.
//!
//! Every scenario drives the code the product runs (`hallpass serve` itself
//! in a child process for the autocomplete load, the real listener in
//! process where the benchmark's raised rate limits are needed, the
//! OneRoster import, the outbox worker) on a
//! generated directory, and sets its figure beside a floor: the cheapest honest
//! thing the same machine and database can do, so a ratio says how much the
//! product adds. What each scenario measures and what its floor is are written
//! in the docs of its file:
//!
//! * `import`: `import_sqlite` / `import_postgres`;
//! * `autocomplete`: `autocomplete_sqlite` / `autocomplete_postgres` and
//!   `autocomplete_under_resets`;
//! * `edit`: `edit_submit_sqlite`;
//! * `reset`: `reset_throughput`;
//! * `signin`: `signin` (sign-ins per second through the listener, and an
//!   unknown login's time beside a wrong password's);
//! * `drain`: `outbox_drain`;
//! * `machine`: `machine`, `peak_rss_mib` (the serving child's, from
//!   `server`) and `bench_peak_rss_mib` (this process's).
//!
//! `suite` runs them in order and assembles the one JSON object of
//! `interfaces.md`; a scenario that cannot run carries `"error": "why"`
//! instead of figures, never a made-up number.

mod autocomplete;
mod drain;
mod edit;
mod import;
mod listener;
mod machine;
mod reset;
mod scale;
mod server;
mod signin;
mod stats;
mod suite;
mod world;

pub use scale::{BenchScale, DEFAULT_POSTGRES_URL};
pub use suite::{check_scenarios, run_suite};
