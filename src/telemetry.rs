//! Logging. Lines go to standard error so command output on standard output
//! stays clean for pipes and `--json`; colour codes only when standard error
//! is a terminal, so a file or a pipe gets plain text. With
//! `HALLPASS_LOG_FORMAT=json`, one JSON object per line instead (for a log
//! collector): `timestamp`, `level`, `fields` (with `message`), and the spans.

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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json_requested() {
        builder.json().with_current_span(true).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

/// `HALLPASS_LOG_FORMAT=json` (any case); anything else, or unset: text.
fn json_requested() -> bool {
    std::env::var("HALLPASS_LOG_FORMAT").is_ok_and(|v| v.trim().eq_ignore_ascii_case("json"))
}
