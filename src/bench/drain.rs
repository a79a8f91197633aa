//! `outbox_drain`: [`crate::support::drain_benchmark`]: `drain_requests`
//! promotion requests queued in a fresh SQLite database and delivered by one
//! outbox worker to the local Zendesk stand-in, which answers 429
//! (`Retry-After: 0`) to one API request in five. Only the drain is timed.
//!
//! The stand-in has no per-second limit, so "allowed" is what it let through:
//! `allowed_per_s` = API requests not answered 429 per second of the drain,
//! `achieved_per_s` = tickets created per second, and `ratio` =
//! tickets_created / api_requests, the share of the worker's requests that
//! made a ticket (0.8 is the best possible with one in five refused; lower
//! means wasted or duplicated work).

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::support::drain_benchmark;

use super::stats::round3;

pub async fn scenario(requests: usize) -> Result<Value> {
    let report = drain_benchmark(requests).await?;
    if report.tickets_created != requests || report.distinct_external_ids != requests {
        return Err(anyhow!(
            "{} tickets ({} distinct) for {requests} requests",
            report.tickets_created,
            report.distinct_external_ids
        ));
    }
    let seconds = report.seconds.max(f64::EPSILON);
    let allowed = report.api_requests.saturating_sub(report.rate_limited);
    Ok(json!({
        "tickets_created": report.tickets_created,
        "allowed_per_s": round3(allowed as f64 / seconds),
        "achieved_per_s": round3(report.tickets_per_second),
        "ratio": round3(report.tickets_created as f64 / report.api_requests.max(1) as f64),
        "api_requests": report.api_requests,
        "rate_limited": report.rate_limited,
        "seconds": round3(report.seconds),
    }))
}
