//! What the stand-in remembers, and the types it shows to tests.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use url::Url;

use super::rate::{Bucket, RateAnswer, RateLimit};

/// How the stand-in is set up. `Default` gives fixed demo credentials.
#[derive(Debug, Clone)]
pub struct StandInOptions {
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    pub api_email: String,
    pub api_token: String,
    /// The `expires_in` of issued tokens, in seconds; `None` leaves it out
    /// (a token that never expires). Tokens stop working after it, by the
    /// stand-in's real clock.
    pub token_expires_in: Option<u64>,
    /// The scope granted to every token; `None` grants what was asked for.
    pub granted_scope: Option<String>,
    /// How long Zendesk remembers an idempotency key: two hours.
    pub idempotency_window: Duration,
    /// The account's request rate; `None` (the default) lets everything
    /// through. Counts every signed-in `/api/v2` request, as Zendesk does.
    pub rate_limit: Option<RateLimit>,
}

impl Default for StandInOptions {
    fn default() -> Self {
        Self {
            oauth_client_id: "hallpass_standin".into(),
            oauth_client_secret: "standin-oauth-client-secret".into(),
            api_email: "hallpass@standin.invalid".into(),
            api_token: "standin-legacy-api-token".into(),
            token_expires_in: Some(3600),
            granted_scope: None,
            idempotency_window: Duration::from_secs(2 * 60 * 60),
            rate_limit: None,
        }
    }
}

/// A misbehaviour for one ticket creation (`POST /api/v2/tickets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreationFault {
    /// 429, with `Retry-After` in seconds (no header when `None`). Nothing is created.
    RateLimited { retry_after_seconds: Option<u64> },
    /// 500. Nothing is created.
    ServerError,
    /// The ticket is created (and its idempotency key remembered), then the
    /// answer waits this long: a client with a shorter timeout sees a timeout
    /// although the ticket exists.
    CreateThenStall(Duration),
    /// The answer waits this long, then is a 500; nothing is created.
    StallWithoutCreating(Duration),
}

/// A ticket as the stand-in keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    pub id: u64,
    pub subject: Option<String>,
    pub requester_name: Option<String>,
    pub requester_email: String,
    pub requester_id: u64,
    pub external_id: Option<String>,
    pub tags: Vec<String>,
    pub status: String,
    /// The first one is the ticket's description.
    pub comments: Vec<StoredComment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComment {
    pub body: String,
    pub public: bool,
}

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lower-case names; the last value wins.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl RecordedRequest {
    /// A header by name, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// One access token the stand-in issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIssue {
    pub client_id: String,
    pub scope: String,
    pub access_token: String,
    pub expires_in: Option<u64>,
}

pub(super) struct IssuedToken {
    pub issue: TokenIssue,
    pub issued_at: Instant,
    pub revoked: bool,
}

pub(super) struct IdempotentCreation {
    pub request: serde_json::Value,
    pub ticket_id: u64,
    pub at: Instant,
}

pub(super) struct State {
    pub tickets: BTreeMap<u64, StoredTicket>,
    pub users: HashMap<String, u64>,
    pub idempotency: HashMap<String, IdempotentCreation>,
    pub requests: Vec<RecordedRequest>,
    pub tokens: Vec<IssuedToken>,
    pub creation_faults: VecDeque<CreationFault>,
    pub one_in: Option<(u32, Option<u64>)>,
    pub api_requests_since_one_in: u64,
    pub refuse_all_tokens: bool,
    /// The rate limit's bucket, when the options set one.
    pub bucket: Option<Bucket>,
    /// What the rate limit answered, oldest first.
    pub rate_answers: Vec<RateAnswer>,
}

impl State {
    pub fn next_ticket_id(&self) -> u64 {
        self.tickets.keys().next_back().map_or(1, |id| id + 1)
    }

    /// The user id for an email, creating the user (as Zendesk does for a
    /// new requester). Ids start at 10 000 so they never look like ticket ids.
    pub fn user_id(&mut self, email: &str) -> u64 {
        let next = 10_000 + self.users.len() as u64;
        *self.users.entry(email.to_ascii_lowercase()).or_insert(next)
    }
}

pub(super) struct Shared {
    pub options: StandInOptions,
    pub base_url: Url,
    state: Mutex<State>,
    /// Counts the requests received and answered (see [`Shared::changed`]),
    /// so tests wait on the stand-in instead of polling it.
    changes: tokio::sync::watch::Sender<u64>,
}

impl Shared {
    pub fn new(options: StandInOptions, base_url: Url) -> Self {
        let state = State {
            tickets: BTreeMap::new(),
            users: HashMap::new(),
            idempotency: HashMap::new(),
            requests: Vec::new(),
            tokens: Vec::new(),
            creation_faults: VecDeque::new(),
            one_in: None,
            api_requests_since_one_in: 0,
            refuse_all_tokens: false,
            bucket: options
                .rate_limit
                .map(|limit| Bucket::new(limit, Instant::now())),
            rate_answers: Vec::new(),
        };
        Self {
            options,
            base_url,
            state: Mutex::new(state),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Tells waiters the state may have changed: called when a request is
    /// recorded, when it has been answered, and when a ticket is created
    /// before a stall. (Not from [`Shared::with`], which waiters call too.)
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver woken by each [`Shared::changed`] after this call.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Runs `f` on the state. Never held across an `.await`.
    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}
