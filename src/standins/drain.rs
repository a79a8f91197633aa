//! A measured drain of the outbox, for `hallpass bench` (`outbox_drain`) and
//! the closing note of the promotions work: `requests` promotion requests
//! queued in a fresh SQLite database, delivered by one [`OutboxWorker`] to the
//! local Zendesk stand-in while it enforces a rate of `per_second` API
//! requests a second (429 with `Retry-After` beyond it, as Zendesk's plan
//! limits do).
//!
//! Promise: only the drain is timed (setting up the directory and queueing
//! are not); the stand-in's allowance is spent when the clock starts, so the
//! first second's burst does not flatter the figure and the best possible
//! rate is `per_second`; the worker sleeps between passes as `run` does
//! (until `Retry-After` is over), so the drain measures how well it honours
//! the limit; the report counts what the stand-in holds, so a duplicate or a
//! lost ticket shows; the database lives in a temporary directory that is
//! removed afterwards.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use crate::app::{App, Settings};
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::credentials::{HashParams, PasswordHasher};
use crate::directory::{Login, PersonName, Place, PromotionId, Role, TenantName, User};
use crate::standins::zendesk::{RateLimit, StandInOptions, ZendeskStandIn};
use crate::store::{NewPromotion, NewUser, Store};
use crate::support::notifier::LogNotifier;
use crate::support::outbox::{OutboxSettings, OutboxWorker};
use crate::support::ticket::{TicketFacts, encode, promotion_ticket};
use crate::support::zendesk::ZendeskClient;

/// What one drain did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrainReport {
    pub requests: usize,
    /// The stand-in's rate: API requests it lets through a second.
    pub allowed_per_second: u32,
    /// Tickets the stand-in holds afterwards: must equal `requests`.
    pub tickets_created: usize,
    /// Distinct `external_id`s among them: must equal `requests` too.
    pub distinct_external_ids: usize,
    /// API requests the stand-in received (creations and 429s alike).
    pub api_requests: usize,
    /// Of those, answered 429 by the rate limit.
    pub rate_limited: usize,
    /// API requests that arrived before the `Retry-After` of the 429 before
    /// them had passed: 0 for a worker that honours it.
    pub early_requests: usize,
    pub seconds: f64,
    pub tickets_per_second: f64,
}

#[derive(Debug, thiserror::Error)]
#[error("The outbox drain could not run: {0}")]
pub struct DrainError(String);

fn fail(context: &str, error: impl std::fmt::Display) -> DrainError {
    DrainError(format!("{context}: {error}"))
}

/// Queues `requests` promotion requests and drains them; see the module docs.
pub async fn drain_benchmark(requests: usize, per_second: u32) -> Result<DrainReport, DrainError> {
    let dir = std::env::temp_dir().join(format!("hallpass-drain-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| fail("creating a temporary directory", e))?;
    let result = drain_in(&dir, requests, per_second).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn drain_in(
    dir: &std::path::Path,
    requests: usize,
    per_second: u32,
) -> Result<DrainReport, DrainError> {
    let url = format!("sqlite://{}", PathBuf::from(dir).join("drain.db").display());
    let store = Store::connect(&url)
        .await
        .map_err(|e| fail("opening SQLite", e))?;
    store.migrate().await.map_err(|e| fail("migrating", e))?;
    queue(&store, requests).await?;

    let zendesk = ZendeskStandIn::start(StandInOptions {
        rate_limit: Some(RateLimit::per_second(per_second)),
        ..StandInOptions::default()
    })
    .await
    .map_err(|e| fail("starting the Zendesk stand-in", e))?;
    let client = ZendeskClient::new(zendesk.client_config(Duration::from_secs(10)))
        .map_err(|e| fail("building the Zendesk client", e))?;
    let hasher = PasswordHasher::new(HashParams::owasp()).map_err(|e| fail("hasher", e))?;
    let app = App::new(store.clone(), hasher, Settings::default());
    let worker = OutboxWorker::new(
        app,
        Arc::new(client),
        Arc::new(LogNotifier),
        OutboxSettings::default(),
    );

    zendesk.spend_allowance();
    let started = Instant::now();
    loop {
        worker.run_once().await.map_err(|e| fail("draining", e))?;
        match store.next_delivery_due().await {
            Ok(None) => break,
            Ok(Some(_)) => tokio::time::sleep(worker.idle_wait().await).await,
            Err(e) => return Err(fail("reading the outbox", e)),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    store.close().await;

    Ok(tally(&zendesk, requests, per_second, seconds))
}

/// What the stand-in saw of one drain.
fn tally(zendesk: &ZendeskStandIn, requests: usize, per_second: u32, seconds: f64) -> DrainReport {
    let tickets = zendesk.tickets();
    let mut ids: Vec<_> = tickets
        .iter()
        .filter_map(|t| t.external_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let api_requests = zendesk
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/"))
        .count();
    let answers = zendesk.rate_answers();
    let rate_limited = answers
        .iter()
        .filter(|a| a.retry_after_seconds.is_some())
        .count();
    let early_requests = answers
        .windows(2)
        .filter(|pair| match pair[0].retry_after_seconds {
            // 10 ms for the worker's clock (the App's) against the stand-in's.
            Some(seconds) => {
                pair[1].at + Duration::from_millis(10) < pair[0].at + Duration::from_secs(seconds)
            }
            None => false,
        })
        .count();
    DrainReport {
        requests,
        allowed_per_second: per_second,
        tickets_created: tickets.len(),
        distinct_external_ids: ids.len(),
        api_requests,
        rate_limited,
        early_requests,
        seconds,
        tickets_per_second: tickets.len() as f64 / seconds.max(f64::EPSILON),
    }
}

/// A tenant with one school and `requests` teachers, each asking for their
/// own promotion.
async fn queue(store: &Store, requests: usize) -> Result<(), DrainError> {
    let now = Utc::now();
    let audit = |action| {
        AuditEntry::new(
            None,
            now,
            AuditActor::system("bench"),
            action,
            Origin::api("bench"),
        )
    };
    let name = TenantName::parse("drain").map_err(|e| fail("tenant name", e))?;
    let tenant = store
        .create_tenant(&name, now)
        .await
        .map_err(|e| fail("tenant", e))?;
    let district = store
        .create_district(tenant.id, "Drain District", None)
        .await
        .map_err(|e| fail("district", e))?;
    let school = store
        .create_school(tenant.id, district.id, "Drain School", None)
        .await
        .map_err(|e| fail("school", e))?;
    let place = Place::School {
        school: school.id,
        district: district.id,
    };
    for n in 0..requests {
        let teacher = new_teacher(n, place).map_err(|e| fail("teacher", e))?;
        let teacher: User = store
            .insert_user(tenant.id, &teacher, audit(Action::UserCreate))
            .await
            .map_err(|e| fail("inserting a teacher", e))?;
        let id = PromotionId::new();
        let reason = "Benchmark: runs the timetable.";
        let new = NewPromotion {
            id,
            tenant_id: tenant.id,
            teacher_id: teacher.id,
            school_id: school.id,
            requester_id: teacher.id,
            reason: reason.to_owned(),
        };
        let render = |number| {
            encode(&promotion_ticket(&TicketFacts {
                request: id,
                number,
                tenant: &name,
                teacher: &teacher,
                school: &school.name,
                district: &district.name,
                requester: &teacher,
                reason,
            }))
        };
        store
            .create_promotion(&new, audit(Action::PromotionRequest), render)
            .await
            .map_err(|e| fail("queueing a request", e))?;
    }
    Ok(())
}

fn new_teacher(n: usize, place: Place) -> Result<NewUser, crate::directory::ParseError> {
    Ok(NewUser {
        login: Login::parse(&format!("teacher{n}@drain.example.org"))?,
        first_name: PersonName::parse("Bench")?,
        last_name: PersonName::parse(&format!("Teacher{n}"))?,
        role: Role::Teacher,
        place,
        grade: None,
        title: None,
        source_id: None,
        disabled: false,
    })
}
