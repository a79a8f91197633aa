//! Logging. Lines go to standard error so command output on standard output
//! stays clean for pipes and `--json`; colour codes only when standard error
//! is a terminal, so a file or a pipe gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`, with
/// sqlx's per-statement chatter kept to warnings, and serenity's too: its
/// HTTP spans record request bodies, which can hold secrets).
pub fn init() {
    init_with_default("info,sqlx=warn,serenity=warn");
}

/// Installs the global subscriber with `default` as the filter when `RUST_LOG`
/// is unset (the demo and the console keep to warnings: their output is the point).
pub fn init_with_default(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
