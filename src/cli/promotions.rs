//! `hallpass promotions list [--state S] [--json]` and `hallpass promotions
//! retry ID`: what the operator sees of promotion requests and the one thing
//! they can do about a failed one.

use std::fmt::Write;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};

use super::PromotionsCommand;
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::directory::PromotionId;
use crate::store::{PromotionError, PromotionListing, PromotionRequest, PromotionState, Store};

pub async fn run(
    store: &Store,
    command: PromotionsCommand,
    now: DateTime<Utc>,
    zendesk_configured: bool,
) -> Result<()> {
    match command {
        PromotionsCommand::List { state, json } => list(store, state.as_deref(), json).await,
        PromotionsCommand::Retry { id } => retry(store, &id, now, zendesk_configured).await,
    }
}

async fn list(store: &Store, state: Option<&str>, json: bool) -> Result<()> {
    let state = state
        .map(|s| PromotionState::parse(s).ok_or_else(|| anyhow!("No promotion state {s:?}.")))
        .transpose()?;
    let listing = store.promotion_listing(state).await?;
    for request in &listing {
        if json {
            println!("{}", serde_json::to_string(request)?);
        } else {
            print!("{}", line(request));
        }
    }
    if listing.is_empty() && !json {
        match state {
            Some(state) => println!("No promotion requests are {state}."),
            None => println!("No promotion requests."),
        }
    }
    Ok(())
}

/// One request: a headline, then what it waits for or why it failed.
fn line(r: &PromotionListing) -> String {
    let mut out = format!(
        "#{:<5} {:<11} {} ({}) at {}, tenant {}; asked by {} ({}) at {}\n",
        r.number,
        r.state.as_str(),
        r.teacher,
        r.teacher_login,
        r.school,
        r.tenant,
        r.requester,
        r.requester_login,
        r.created_at
    );
    if let Some(ticket) = r.ticket_id {
        let _ = writeln!(out, "       Zendesk ticket #{ticket}");
    }
    if r.state == PromotionState::Queued {
        let next = r.next_attempt_at.as_deref().unwrap_or("now");
        let _ = writeln!(
            out,
            "       {} failed attempts; next attempt {next}",
            r.attempts
        );
        if let Some(error) = &r.last_error {
            let _ = writeln!(out, "       last error: {error}");
        }
    }
    if let Some(agent) = &r.decided_by {
        let _ = writeln!(out, "       decided by {agent}");
    }
    if let Some(reason) = &r.failure_reason {
        let _ = writeln!(out, "       failed: {reason}");
    }
    out
}

async fn find(store: &Store, id: &str) -> Result<PromotionRequest> {
    let id = id.trim().trim_start_matches('#');
    let found = if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        store.promotion_by_number(id.parse()?).await?
    } else {
        let uuid = PromotionId::parse(id).map_err(|_| {
            anyhow!("{id:?} is neither a request number (12) nor a request id (a UUID)")
        })?;
        store.promotion(uuid).await?
    };
    found
        .ok_or_else(|| anyhow!("No promotion request {id}. `hallpass promotions list` shows them."))
}

async fn retry(
    store: &Store,
    id: &str,
    now: DateTime<Utc>,
    zendesk_configured: bool,
) -> Result<()> {
    let request = find(store, id).await?;
    let teacher = store
        .user(request.tenant_id, request.teacher_id)
        .await?
        .map_or_else(|| request.teacher_id.to_string(), |t| t.display_name());
    let audit = AuditEntry::new(
        Some(request.tenant_id),
        now,
        AuditActor::system("cli"),
        Action::PromotionRetry,
        Origin::api("cli"),
    )
    .target(request.teacher_id, teacher);
    let queued = match store.retry_promotion(request.id, audit).await {
        Ok(queued) => queued,
        Err(PromotionError::NotFailed(r)) => bail!(
            "Promotion request #{} is {}, not failed; only a failed request can be retried.",
            r.number,
            r.state
        ),
        Err(PromotionError::HasTicket(r)) => bail!(
            "Promotion request #{} failed after support decided on Zendesk ticket #{} ({}); sending it again \
             would not change that. Ask the requester for a new /promote-request.",
            r.number,
            r.ticket_id.unwrap_or_default(),
            r.failure_reason.as_deref().unwrap_or("no reason recorded")
        ),
        Err(PromotionError::AlreadyOpen(open)) => bail!(
            "The teacher of request #{} already has another open request, #{}; there can be only one.",
            request.number,
            open.number
        ),
        Err(PromotionError::Store(e)) => return Err(e.into()),
    };
    println!(
        "Promotion request #{} is queued again; the outbox worker of `hallpass serve` delivers it within seconds.",
        queued.number
    );
    if !zendesk_configured {
        println!(
            "ZENDESK_URL is not set here: make sure the server running `hallpass serve` has it."
        );
    }
    Ok(())
}
