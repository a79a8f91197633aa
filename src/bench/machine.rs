//! `machine` (cores and the argon2 parameters the figures were taken with)
//! and peak resident sets (`VmHWM` in `/proc/PID/status`; absent on systems
//! without procfs): the serving process's (`peak_rss_mib`, see
//! [`super::server`]) and the benchmark process's own.

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::credentials::HashParams;

pub fn machine() -> Value {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    json!({"cores": cores, "argon2": HashParams::owasp().description()})
}

/// This process's peak resident memory so far, in MiB.
pub fn peak_rss_mib() -> Result<f64> {
    peak_rss_mib_of("/proc/self/status")
}

/// The peak resident memory of the process whose status file is `status`.
pub fn peak_rss_mib_of(status: &str) -> Result<f64> {
    let status = std::fs::read_to_string(status)?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("the process status has no VmHWM line"))?;
    Ok((kib / 1024.0 * 10.0).round() / 10.0)
}
