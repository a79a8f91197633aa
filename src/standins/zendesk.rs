//! A local stand-in for Zendesk: a real HTTP server on 127.0.0.1 that speaks
//! the part of Zendesk's API hallpass uses, with Zendesk's JSON shapes, so the
//! tests and `hallpass demo` run the real client against something that
//! behaves like Zendesk. It is not a mock: it keeps tickets, checks
//! credentials, honours `Idempotency-Key` the way Zendesk does, and answers
//! errors with Zendesk's status codes and bodies.
//!
//! Routes: `POST /oauth/tokens` (client-credentials grant, JSON or form),
//! `POST /api/v2/tickets`, `GET /api/v2/tickets[?external_id=]`,
//! `GET|PUT /api/v2/tickets/{id}` (each also with the `.json` suffix).
//!
//! What it adds to Zendesk: it records every request for inspection, and it
//! can be told to misbehave (rate limits, 500s, stalls, refused tokens) so
//! the client's failure handling can be tested against real HTTP. With
//! [`StandInOptions::rate_limit`] it enforces a request rate the way
//! Zendesk's plan limits do: 429 with `Retry-After` seconds beyond it.
//!
//! Its promise: state changes only through HTTP requests or the methods
//! below, and every switch affects only the requests it names.

mod auth;
mod rate;
mod routes;
mod state;
mod tickets;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::task::JoinHandle;
use url::Url;

pub use rate::{RateAnswer, RateLimit};
pub use state::{
    CreationFault, RecordedRequest, StandInOptions, StoredComment, StoredTicket, TokenIssue,
};

use crate::support::webhook::{Decision, TriggerPayload};
use crate::support::zendesk::{ZendeskAuth, ZendeskConfig};
use state::Shared;

/// A running stand-in. The server stops when this is dropped.
pub struct ZendeskStandIn {
    url: Url,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl ZendeskStandIn {
    /// Starts a stand-in on 127.0.0.1 at a port the system picks.
    pub async fn start(options: StandInOptions) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address: SocketAddr = listener.local_addr()?;
        let url = Url::parse(&format!("http://{address}"))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let shared = Arc::new(Shared::new(options, url.clone()));
        let app = routes::router(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "The Zendesk stand-in stopped");
            }
        });
        tracing::info!(%url, "Zendesk stand-in listening");
        Ok(Self {
            url,
            shared,
            server,
        })
    }

    /// The base URL to give the client (`ZENDESK_URL`).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// The OAuth credentials this stand-in accepts.
    pub fn oauth_auth(&self) -> ZendeskAuth {
        let options = &self.shared.options;
        ZendeskAuth::OAuthClientCredentials {
            client_id: options.oauth_client_id.clone(),
            client_secret: SecretString::from(options.oauth_client_secret.clone()),
        }
    }

    /// The legacy API-token credentials this stand-in accepts.
    pub fn api_token_auth(&self) -> ZendeskAuth {
        let options = &self.shared.options;
        ZendeskAuth::ApiToken {
            email: options.api_email.clone(),
            token: SecretString::from(options.api_token.clone()),
        }
    }

    /// A client configuration pointing here, signing in with OAuth.
    pub fn client_config(&self, timeout: Duration) -> ZendeskConfig {
        ZendeskConfig {
            base_url: self.url(),
            auth: self.oauth_auth(),
            timeout,
        }
    }

    /// The tickets, in creation order.
    pub fn tickets(&self) -> Vec<StoredTicket> {
        self.shared.with(|s| s.tickets.values().cloned().collect())
    }

    /// One ticket.
    pub fn ticket(&self, id: u64) -> Option<StoredTicket> {
        self.shared.with(|s| s.tickets.get(&id).cloned())
    }

    /// Every request received, oldest first, whatever was answered.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.with(|s| s.requests.clone())
    }

    /// Waits until `found` finds what it looks for in the stand-in (its
    /// tickets, its requests), woken each time a request arrives or is
    /// answered, for at most `within` (`None` after that).
    pub async fn wait_for<T>(
        &self,
        within: Duration,
        mut found: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        let mut changed = self.shared.subscribe();
        let wait = async {
            loop {
                let answer = found(self);
                if answer.is_some() {
                    return answer;
                }
                if changed.changed().await.is_err() {
                    return None;
                }
            }
        };
        tokio::time::timeout(within, wait).await.ok().flatten()
    }

    /// The requests to `path` (without query), oldest first.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<RecordedRequest> {
        self.shared.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.method == method && r.path == path)
                .cloned()
                .collect()
        })
    }

    /// Every access token issued, oldest first.
    pub fn token_issues(&self) -> Vec<TokenIssue> {
        self.shared
            .with(|s| s.tokens.iter().map(|t| t.issue.clone()).collect())
    }

    /// Answers the next `times` ticket creations with `fault`, after the
    /// faults already queued.
    pub fn inject(&self, fault: CreationFault, times: usize) {
        self.shared
            .with(|s| s.creation_faults.extend(std::iter::repeat_n(fault, times)));
    }

    /// The next `times` ticket creations get 429 with `Retry-After:
    /// retry_after_seconds` (no header when `None`).
    pub fn rate_limit_next_creations(&self, times: usize, retry_after_seconds: Option<u64>) {
        self.inject(
            CreationFault::RateLimited {
                retry_after_seconds,
            },
            times,
        );
    }

    /// The next `times` ticket creations get 500 and create nothing.
    pub fn fail_next_creations(&self, times: usize) {
        self.inject(CreationFault::ServerError, times);
    }

    /// Every `nth` signed-in request to `/api/v2/…` (the 5th, 10th, … for 5)
    /// gets 429 with `Retry-After: retry_after_seconds` (no header when
    /// `None`), before any injected fault; 0 turns this off. Counting starts
    /// at the call. Zendesk's limits are per account, not per endpoint, so
    /// lookups and notes count too.
    pub fn rate_limit_one_in(&self, nth: u32, retry_after_seconds: Option<u64>) {
        self.shared.with(|s| {
            s.one_in = (nth > 0).then_some((nth, retry_after_seconds));
            s.api_requests_since_one_in = 0;
        });
    }

    /// What the rate limit of [`StandInOptions::rate_limit`] answered to
    /// each API request, oldest first (empty without a limit).
    pub fn rate_answers(&self) -> Vec<RateAnswer> {
        self.shared.with(|s| s.rate_answers.clone())
    }

    /// Spends what is left of this second's allowance, as other clients of
    /// the same Zendesk account would: the next API request waits for the
    /// rate to give it room. Nothing happens without a rate limit.
    pub fn spend_allowance(&self) {
        self.shared.with(|s| {
            if let Some(bucket) = s.bucket.as_mut() {
                bucket.empty(std::time::Instant::now());
            }
        });
    }

    /// Every access token issued so far is refused (401) from now on, as if
    /// revoked; new ones work.
    pub fn revoke_issued_tokens(&self) {
        self.shared
            .with(|s| s.tokens.iter_mut().for_each(|t| t.revoked = true));
    }

    /// While on, every bearer token is refused (401), new ones included.
    pub fn refuse_all_tokens(&self, refuse: bool) {
        self.shared.with(|s| s.refuse_all_tokens = refuse);
    }

    /// What an agent does in Zendesk's interface to decide a promotion: adds
    /// the decision's tag, solves the ticket, and returns the body the
    /// trigger would send to the webhook. `None` for an unknown ticket.
    pub fn agent_decides(
        &self,
        ticket_id: u64,
        decision: Decision,
        agent_email: &str,
    ) -> Option<TriggerPayload> {
        self.shared.with(|s| {
            let ticket = s.tickets.get_mut(&ticket_id)?;
            let tag = match decision {
                Decision::Approved => crate::support::webhook::APPROVED_TAG,
                Decision::Rejected => crate::support::webhook::REJECTED_TAG,
            };
            if !ticket.tags.iter().any(|t| t == tag) {
                ticket.tags.push(tag.to_owned());
            }
            ticket.status = "solved".into();
            Some(TriggerPayload {
                ticket_id: ticket.id.to_string(),
                external_id: ticket.external_id.clone().unwrap_or_default(),
                status: ticket.status.clone(),
                tags: ticket.tags.join(" "),
                agent: agent_email.to_owned(),
            })
        })
    }
}

impl Drop for ZendeskStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for ZendeskStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZendeskStandIn")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}
