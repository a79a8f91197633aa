//! The outbox worker: turns queued promotion requests into Zendesk tickets.
//!
//! The promises it keeps, with the store's claims (`store/outbox.rs`):
//!
//! * **One ticket per request.** Every creation carries `Idempotency-Key` =
//!   the request id and the body stored when the request was made. After an
//!   uncertain failure (timeout, 5xx, a worker that vanished mid-call) the
//!   ticket is first looked up by `external_id` and adopted if it exists, so
//!   not even a retry after Zendesk's two-hour idempotency window duplicates it.
//! * **Each entry is delivered by one worker**, however many instances run.
//! * **Zendesk's limits are honoured.** A 429 stops the pass until
//!   `Retry-After` (Zendesk's limits are per account, so the next request would
//!   be refused too); it is not a failure and never leads to giving up. 5xx,
//!   timeouts and refused connections back off exponentially with jitter; a
//!   request Zendesk refuses (4xx) fails at once with Zendesk's message; past
//!   the configured horizon a request fails with what an operator can do.
//! * Time is the [`App`]'s clock and jitter its randomness, so tests pin both.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use crate::app::App;
use crate::audit::{Action, AuditActor, AuditEntry, Origin};
use crate::store::{ClaimedDelivery, RetryPlan, StoreError};
use crate::support::notifier::{News, Notifier, tell};
use crate::support::ticket;
use crate::support::zendesk::{NewTicket, TicketRef, ZendeskClient, ZendeskError};

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// A request that still has no ticket this long after it was queued fails.
    pub give_up_after: Duration,
    /// The wait after the first failure; it doubles with each further one.
    pub base_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// How long a claim holds its entries. Each is attempted within the first
    /// half, so half must exceed what one delivery can take (a lookup and a
    /// creation, each bounded by the client's timeout, a token fetch besides).
    pub lease: Duration,
    /// Entries claimed at a time.
    pub batch: usize,
    /// How often `run` looks for new requests when nothing is due sooner.
    pub poll_interval: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            give_up_after: Duration::from_secs(24 * 60 * 60),
            base_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30 * 60),
            lease: Duration::from_secs(2 * 60),
            batch: 20,
            poll_interval: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("The support outbox could not be read or updated: {0}")]
    Store(#[from] StoreError),
}

/// The wait before attempt `failures + 1`: `base · 2^(failures-1)`, at most
/// `max`, of which the upper half is scaled by `jitter` (0 to 1), so workers
/// that failed together do not retry together, and none retries sooner than
/// half the step.
pub fn backoff(settings: &OutboxSettings, failures: u32, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    let step = settings
        .base_backoff
        .saturating_mul(1u32 << doublings)
        .min(settings.max_backoff);
    step / 2 + (step / 2).mul_f64(jitter.clamp(0.0, 1.0))
}

/// `at` plus `wait`, saturating far in the future.
fn later(at: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(wait)
        .ok()
        .and_then(|wait| at.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What became of one claimed entry.
enum Step {
    Delivered,
    /// Retried later, failed, or settled by someone else.
    Settled,
    /// Zendesk asked us to wait until then.
    Pause(DateTime<Utc>),
}

/// Delivers the outbox. `serve` runs one per instance with [`OutboxWorker::run`].
pub struct OutboxWorker {
    app: App,
    client: Arc<ZendeskClient>,
    notifier: Arc<dyn Notifier>,
    settings: OutboxSettings,
    paused_until: Mutex<Option<DateTime<Utc>>>,
}

impl OutboxWorker {
    pub fn new(
        app: App,
        client: Arc<ZendeskClient>,
        notifier: Arc<dyn Notifier>,
        settings: OutboxSettings,
    ) -> Self {
        Self {
            app,
            client,
            notifier,
            settings,
            paused_until: Mutex::new(None),
        }
    }

    /// Delivers until `shutdown` turns true (or its sender is dropped),
    /// sleeping between passes until the next entry is due.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!("Support outbox worker started");
        while !*shutdown.borrow() {
            let wait = match self.pass(Some(&shutdown)).await {
                Ok(_) => self.idle_wait().await,
                Err(e) => {
                    tracing::error!(error = %e, "Support outbox pass failed");
                    self.settings.poll_interval
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => if changed.is_err() { break },
            }
        }
        tracing::info!("Support outbox worker stopped");
    }

    /// One pass: delivers every entry due now, until none is left or Zendesk
    /// asks us to wait. Answers how many tickets were opened (or adopted).
    pub async fn run_once(&self) -> Result<usize, OutboxError> {
        self.pass(None).await
    }

    /// [`Self::run_once`]; once `shutdown` turns true, the entry in hand is
    /// finished, the rest of the claim is handed back (due at once, for the
    /// next instance or start) and nothing more is claimed.
    async fn pass(&self, shutdown: Option<&watch::Receiver<bool>>) -> Result<usize, OutboxError> {
        let stopping = || shutdown.is_some_and(|s| *s.borrow());
        let mut opened = 0;
        loop {
            if stopping() {
                return Ok(opened);
            }
            let now = self.app.now();
            if self.paused_until().is_some_and(|until| until > now) {
                return Ok(opened);
            }
            let lease = TimeDelta::from_std(self.settings.lease).unwrap_or(TimeDelta::MAX);
            let claimed = self
                .app
                .store
                .claim_deliveries(now, lease, self.settings.batch.max(1))
                .await?;
            if claimed.is_empty() {
                return Ok(opened);
            }
            // Every entry after the first is attempted in the first half of
            // its lease, so a slow Zendesk cannot make a late entry outlive
            // its claim while another instance takes it over.
            let fresh_until = later(now, self.settings.lease / 2);
            for (index, claim) in claimed.iter().enumerate() {
                if (index > 0 && self.app.now() >= fresh_until) || stopping() {
                    self.app
                        .store
                        .release_claim(&claim.lease_token, self.app.now())
                        .await?;
                    break;
                }
                match self.deliver(claim).await? {
                    Step::Delivered => opened += 1,
                    Step::Settled => {}
                    Step::Pause(until) => {
                        *self
                            .paused_until
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = Some(until);
                        // The rest of this claim was not attempted: hand it back.
                        self.app
                            .store
                            .release_claim(&claim.lease_token, until)
                            .await?;
                        return Ok(opened);
                    }
                }
            }
        }
    }

    fn paused_until(&self) -> Option<DateTime<Utc>> {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How long `run` sleeps after a pass: until the pause that a 429's
    /// `Retry-After` asked for ends or the next entry is due (at once when it
    /// is already due), at least 10 ms and at most the poll interval.
    pub async fn idle_wait(&self) -> Duration {
        let now = self.app.now();
        let next = match self.paused_until().filter(|until| *until > now) {
            Some(until) => Some(until),
            None => self.app.store.next_delivery_due().await.ok().flatten(),
        };
        let until_next = next
            .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(self.settings.poll_interval);
        until_next.clamp(Duration::from_millis(10), self.settings.poll_interval)
    }

    #[tracing::instrument(skip_all, fields(request = claim.number, attempts = claim.attempts, uncertain = claim.uncertain))]
    async fn deliver(&self, claim: &ClaimedDelivery) -> Result<Step, OutboxError> {
        let ticket = match ticket::decode(&claim.ticket_json) {
            Ok(ticket) => ticket,
            Err(e) => {
                let error = format!("the stored ticket cannot be read: {e}");
                let reason = format!(
                    "{error}. The database was edited by hand; make a new request with /promote-request."
                );
                return self.give_up(claim, &error, &reason).await;
            }
        };
        match self.send(&ticket, claim).await {
            Ok((found, adopted)) => self.opened(claim, found, adopted).await,
            Err(error) => self.failed(claim, &error).await,
        }
    }

    /// Finds the ticket an uncertain earlier attempt may have made, or creates it.
    async fn send(
        &self,
        ticket: &NewTicket,
        claim: &ClaimedDelivery,
    ) -> Result<(TicketRef, bool), ZendeskError> {
        if claim.uncertain
            && let Some(found) = self.client.find_by_external_id(&ticket.external_id).await?
        {
            return Ok((found, true));
        }
        let key = claim.request_id.to_string();
        Ok((self.client.create_ticket(ticket, &key).await?, false))
    }

    async fn opened(
        &self,
        claim: &ClaimedDelivery,
        found: TicketRef,
        adopted: bool,
    ) -> Result<Step, OutboxError> {
        let now = self.app.now();
        match self
            .app
            .store
            .record_ticket_opened(claim, found.id, now)
            .await?
        {
            Some(request) => {
                tracing::info!(ticket_id = found.id, adopted, "Promotion ticket open");
                tell(
                    &self.app,
                    self.notifier.as_ref(),
                    &request,
                    News::TicketOpened,
                )
                .await;
                Ok(Step::Delivered)
            }
            None => {
                tracing::info!(
                    ticket_id = found.id,
                    "Another worker or support's decision settled this request first"
                );
                Ok(Step::Settled)
            }
        }
    }

    async fn failed(
        &self,
        claim: &ClaimedDelivery,
        error: &ZendeskError,
    ) -> Result<Step, OutboxError> {
        let now = self.app.now();
        let n = claim.number;
        let retry = format!("then run `hallpass promotions retry {n}`");
        if let ZendeskError::RateLimited { retry_after } = error {
            let until = later(now, retry_after.unwrap_or(self.settings.base_backoff));
            let plan = RetryPlan {
                next_attempt_at: until,
                counts_as_failure: false,
                uncertain: false,
                error: error.to_string(),
            };
            self.app.store.record_delivery_retry(claim, &plan).await?;
            return Ok(Step::Pause(until));
        }
        if let ZendeskError::Rejected { .. } = error {
            let reason = format!(
                "{error}. No ticket was created. Correct what Zendesk names (often the requester's email address), {retry}."
            );
            return self.give_up(claim, &error.to_string(), &reason).await;
        }
        if now >= later(claim.enqueued_at, self.settings.give_up_after) {
            let hint = match error {
                ZendeskError::Auth(_) => {
                    "Check ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET (or ZENDESK_EMAIL and \
                     ZENDESK_API_TOKEN) and that the OAuth client may use the scopes \"tickets:write read\""
                }
                ZendeskError::Setup(_) => "Fix the Zendesk settings named above",
                _ => "Check that ZENDESK_URL is right and that Zendesk is up",
            };
            let reason = format!(
                "No ticket after {} of trying (last error: {error}). {hint}, {retry}.",
                words(self.settings.give_up_after)
            );
            return self.give_up(claim, &error.to_string(), &reason).await;
        }
        let failures = claim.attempts.saturating_add(1);
        let wait = backoff(&self.settings, failures, self.app.random.fraction());
        let plan = RetryPlan {
            next_attempt_at: later(now, wait),
            counts_as_failure: true,
            uncertain: error.is_uncertain(),
            error: error.to_string(),
        };
        tracing::warn!(error = %error, failures, retry_in = ?wait, "Promotion ticket not created; will retry");
        self.app.store.record_delivery_retry(claim, &plan).await?;
        Ok(Step::Settled)
    }

    async fn give_up(
        &self,
        claim: &ClaimedDelivery,
        error: &str,
        reason: &str,
    ) -> Result<Step, OutboxError> {
        let audit = AuditEntry::new(
            Some(claim.tenant_id),
            self.app.now(),
            AuditActor::system("support outbox"),
            Action::PromotionFail,
            Origin::api("support outbox"),
        )
        .failed(reason);
        let given_up = self
            .app
            .store
            .record_delivery_given_up(claim, error, reason, audit)
            .await?;
        if let Some(request) = given_up {
            tracing::error!(reason, "Gave up delivering a promotion request");
            tell(
                &self.app,
                self.notifier.as_ref(),
                &request,
                News::Undeliverable,
            )
            .await;
        }
        Ok(Step::Settled)
    }
}

/// "24 h", "90 min", "45 s": a horizon in words.
fn words(span: Duration) -> String {
    let seconds = span.as_secs();
    if seconds >= 3600 && seconds.is_multiple_of(3600) {
        format!("{} h", seconds / 3600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

#[cfg(test)]
mod tests;
