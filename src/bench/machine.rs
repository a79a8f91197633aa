//! `machine` (cores and the argon2 parameters the figures were taken with)
//! and `peak_rss_mib` (the process's peak resident set, `VmHWM` in
//! `/proc/self/status`; absent on systems without procfs).

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::credentials::HashParams;

pub fn machine() -> Value {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    json!({"cores": cores, "argon2": HashParams::owasp().description()})
}

/// Peak resident memory so far, in MiB.
pub fn peak_rss_mib() -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("/proc/self/status has no VmHWM line"))?;
    Ok((kib / 1024.0 * 10.0).round() / 10.0)
}
