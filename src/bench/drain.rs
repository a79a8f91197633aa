//! `outbox_drain`: [`crate::standins::drain_benchmark`]: `drain_requests`
//! promotion requests queued in a fresh SQLite database and delivered by one
//! outbox worker to the local Zendesk stand-in, which enforces
//! [`ALLOWED_PER_SECOND`] API requests a second (429 with `Retry-After`
//! beyond it, as Zendesk's plan limits do). Only the drain is timed, and it
//! starts with the second's allowance spent, so the best possible rate is
//! the configured one.
//!
//! `allowed_per_s` is that configured rate, `achieved_per_s` the tickets
//! created per second of the drain, and `ratio` = achieved / allowed (the
//! target is at least 0.9). `tickets_created` must equal the requests:
//! a duplicate or a lost ticket fails the scenario.

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::standins::drain_benchmark;

use super::stats::round3;

/// The stand-in's rate: 3,000 requests a minute, the order of Zendesk's
/// larger plans (Enterprise is 700 a minute, the High Volume add-on 2,500).
pub const ALLOWED_PER_SECOND: u32 = 50;

pub async fn scenario(requests: usize) -> Result<Value> {
    let report = drain_benchmark(requests, ALLOWED_PER_SECOND).await?;
    if report.tickets_created != requests || report.distinct_external_ids != requests {
        return Err(anyhow!(
            "{} tickets ({} distinct) for {requests} requests",
            report.tickets_created,
            report.distinct_external_ids
        ));
    }
    let allowed = f64::from(report.allowed_per_second);
    Ok(json!({
        "tickets_created": report.tickets_created,
        "allowed_per_s": round3(allowed),
        "achieved_per_s": round3(report.tickets_per_second),
        "ratio": round3(report.tickets_per_second / allowed.max(f64::EPSILON)),
        "api_requests": report.api_requests,
        "rate_limited": report.rate_limited,
        "seconds": round3(report.seconds),
    }))
}
