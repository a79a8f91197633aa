//! The Zendesk Support API client: create a promotion ticket, find it again by
//! its external id, add an internal note to it.
//!
//! The promises this file keeps:
//!
//! * One struct owns the `reqwest::Client`; its base URL is configuration, so
//!   tests and the demo point it at the local stand-in.
//! * Every call is bounded by the configured timeout, token fetches included.
//! * Ticket creation carries the caller's `Idempotency-Key`, so a retry after
//!   an uncertain failure finds the ticket the first attempt created instead
//!   of making a second one.
//! * Authentication is OAuth client credentials (preferred) or the legacy API
//!   token (which Zendesk switches off on 2027-04-30). A 401 on an OAuth token
//!   fetches a new token and retries once; a second 401 is an `Auth` error.
//! * Neither secret, nor an access token, reaches `Debug`, a log line or an
//!   error message.
//! * Failures are sorted by what to do next: see [`ZendeskError`].

mod error;
mod oauth;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

pub use error::ZendeskError;
pub use oauth::{OAUTH_SCOPE, TOKEN_REFRESH_MARGIN};

use crate::app::{Clock, SystemClock};
use crate::config::Config;
use error::{from_status, from_transport};
use oauth::OAuthTokens;
use wire::{
    Comment, CreateTicket, Requester, TicketAnswer, TicketEnvelope, TicketsAnswer, UpdateTicket,
};

/// How long a call may take when the configuration does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The header that makes ticket creation idempotent.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// Zendesk's answer to an idempotent request: `hit` for a replay, `miss` for a first use.
pub const IDEMPOTENCY_LOOKUP_HEADER: &str = "x-idempotency-lookup";

/// Where Zendesk is and how to sign in to it.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    /// `https://SUBDOMAIN.zendesk.com`
    pub base_url: Url,
    pub auth: ZendeskAuth,
    /// The bound on every call, connection and token fetch included.
    pub timeout: Duration,
}

/// How the client signs in. `Debug` shows the client id or email, never the secret.
#[derive(Debug, Clone)]
pub enum ZendeskAuth {
    /// OAuth client-credentials grant: the supported way.
    OAuthClientCredentials {
        client_id: String,
        client_secret: SecretString,
    },
    /// Legacy API token, sent as HTTP basic `{email}/token:{token}`. Zendesk
    /// deactivates these for good on 2027-04-30.
    ApiToken { email: String, token: SecretString },
}

impl ZendeskConfig {
    /// The Zendesk settings of the program's configuration: `None` when
    /// `ZENDESK_URL` is unset (promotion requests then queue and wait). OAuth
    /// wins when both kinds of credentials are present.
    pub fn from_app_config(
        config: &Config,
        timeout: Duration,
    ) -> Result<Option<Self>, ZendeskError> {
        let Some(base_url) = config.zendesk_url.clone() else {
            return Ok(None);
        };
        let auth = match (
            &config.zendesk_oauth_client_id,
            &config.zendesk_oauth_client_secret,
            &config.zendesk_email,
            &config.zendesk_api_token,
        ) {
            (Some(client_id), Some(client_secret), _, _) => ZendeskAuth::OAuthClientCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            },
            (None, None, Some(email), Some(token)) => ZendeskAuth::ApiToken {
                email: email.clone(),
                token: token.clone(),
            },
            _ => {
                return Err(ZendeskError::Setup(
                    "ZENDESK_URL is set, so set ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET \
                     (or, until 2027-04-30, ZENDESK_EMAIL and ZENDESK_API_TOKEN)"
                        .into(),
                ));
            }
        };
        Ok(Some(Self {
            base_url,
            auth,
            timeout,
        }))
    }
}

/// A ticket to open: one per promotion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub subject: String,
    /// The first comment, posted as a private internal note.
    pub body: String,
    pub requester_name: String,
    pub requester_email: String,
    /// Our reference for the ticket; the webhook brings it back.
    pub external_id: String,
    pub tags: Vec<String>,
}

/// A ticket Zendesk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicketRef {
    pub id: u64,
}

/// The client. Cheap to share behind an `Arc`; calls may run concurrently.
pub struct ZendeskClient {
    http: reqwest::Client,
    base_url: Url,
    timeout: Duration,
    credentials: Credentials,
}

enum Credentials {
    OAuth(OAuthTokens),
    ApiToken { email: String, token: SecretString },
}

impl ZendeskClient {
    /// A client on the real monotonic clock.
    pub fn new(config: ZendeskConfig) -> Result<Self, ZendeskError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client whose token lifetimes are measured on `clock`.
    pub fn with_clock(config: ZendeskConfig, clock: Arc<dyn Clock>) -> Result<Self, ZendeskError> {
        let ZendeskConfig {
            base_url,
            auth,
            timeout,
        } = config;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(ZendeskError::Setup(format!(
                "the Zendesk URL must be http(s)://…, got {:?}",
                base_url.scheme()
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would turn a POST into a GET; surface it instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hallpass/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ZendeskError::Setup(format!("cannot build the HTTP client: {e}")))?;
        let credentials = match auth {
            ZendeskAuth::OAuthClientCredentials {
                client_id,
                client_secret,
            } => {
                let token_url = endpoint(&base_url, &["oauth", "tokens"])?;
                Credentials::OAuth(OAuthTokens::new(client_id, client_secret, token_url, clock))
            }
            ZendeskAuth::ApiToken { email, token } => Credentials::ApiToken { email, token },
        };
        Ok(Self {
            http,
            base_url,
            timeout,
            credentials,
        })
    }

    /// Opens a ticket whose first comment is a private note. The same
    /// `idempotency_key` with the same ticket, within Zendesk's two-hour
    /// window, answers with the ticket the first call created.
    #[tracing::instrument(skip(self, ticket), fields(external_id = %ticket.external_id))]
    pub async fn create_ticket(
        &self,
        ticket: &NewTicket,
        idempotency_key: &str,
    ) -> Result<TicketRef, ZendeskError> {
        let url = endpoint(&self.base_url, &["api", "v2", "tickets"])?;
        let body = TicketEnvelope {
            ticket: CreateTicket {
                subject: &ticket.subject,
                comment: Comment {
                    body: &ticket.body,
                    public: false,
                },
                requester: Requester {
                    name: &ticket.requester_name,
                    email: &ticket.requester_email,
                },
                external_id: &ticket.external_id,
                tags: &ticket.tags,
            },
        };
        let response = self
            .send(|| {
                self.http
                    .post(url.clone())
                    .header(IDEMPOTENCY_KEY_HEADER, idempotency_key)
                    .json(&body)
            })
            .await?;
        let replayed = response
            .headers()
            .get(IDEMPOTENCY_LOOKUP_HEADER)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"hit"));
        let answer: TicketAnswer = self.read(response).await?;
        tracing::info!(
            ticket_id = answer.ticket.id,
            replayed,
            "Zendesk ticket created"
        );
        Ok(TicketRef {
            id: answer.ticket.id,
        })
    }

    /// The ticket carrying `external_id`, if there is one. External ids need
    /// not be unique in Zendesk; when several tickets carry it, the oldest
    /// (lowest id) is the answer.
    #[tracing::instrument(skip(self))]
    pub async fn find_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<TicketRef>, ZendeskError> {
        let mut url = endpoint(&self.base_url, &["api", "v2", "tickets"])?;
        url.query_pairs_mut()
            .append_pair("external_id", external_id);
        let response = self.send(|| self.http.get(url.clone())).await?;
        let answer: TicketsAnswer = self.read(response).await?;
        Ok(answer
            .tickets
            .iter()
            .map(|t| t.id)
            .min()
            .map(|id| TicketRef { id }))
    }

    /// Adds a private comment (an internal note) to a ticket.
    #[tracing::instrument(skip(self, body))]
    pub async fn add_internal_note(&self, ticket_id: u64, body: &str) -> Result<(), ZendeskError> {
        let url = endpoint(
            &self.base_url,
            &["api", "v2", "tickets", &ticket_id.to_string()],
        )?;
        let update = TicketEnvelope {
            ticket: UpdateTicket {
                comment: Comment {
                    body,
                    public: false,
                },
            },
        };
        self.send(|| self.http.put(url.clone()).json(&update))
            .await?;
        Ok(())
    }

    /// Sends the request `build` makes, signed in; on a 401 to an OAuth token,
    /// once more with a new token. Answers the response when it is a success.
    async fn send<F>(&self, build: F) -> Result<Response, ZendeskError>
    where
        F: Fn() -> RequestBuilder,
    {
        let mut refused: Option<u64> = None;
        loop {
            let (request, generation) = match &self.credentials {
                Credentials::ApiToken { email, token } => (
                    build().basic_auth(format!("{email}/token"), Some(token.expose_secret())),
                    None,
                ),
                Credentials::OAuth(tokens) => {
                    let bearer = match refused {
                        None => tokens.current(&self.http, self.timeout).await?,
                        Some(generation) => {
                            tokens
                                .replace_refused(generation, &self.http, self.timeout)
                                .await?
                        }
                    };
                    (
                        build().bearer_auth(bearer.value.expose_secret()),
                        Some(bearer.generation),
                    )
                }
            };
            let response = request
                .send()
                .await
                .map_err(|e| from_transport(&e, self.timeout))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if let (StatusCode::UNAUTHORIZED, None, Some(generation)) =
                (status, refused, generation)
            {
                tracing::info!(
                    "Zendesk refused the access token (401); fetching a new one and retrying once"
                );
                refused = Some(generation);
                continue;
            }
            let retry_after = response.headers().get(RETRY_AFTER).cloned();
            let body = response.text().await.unwrap_or_default();
            let error = from_status(status, retry_after.as_ref(), &body);
            tracing::warn!(%status, error = %error, "Zendesk answered with an error");
            return Err(error);
        }
    }

    /// The JSON of a successful response. A success we cannot read may still
    /// have been carried out, so it is uncertain.
    async fn read<T: DeserializeOwned>(&self, response: Response) -> Result<T, ZendeskError> {
        let status = response.status();
        response.json().await.map_err(|e| {
            if e.is_decode() {
                ZendeskError::Transient {
                    message: format!("Zendesk answered {status} with a body we could not read"),
                    may_have_reached_zendesk: true,
                }
            } else {
                from_transport(&e, self.timeout)
            }
        })
    }
}

/// `base` with `segments` appended to its path.
fn endpoint(base: &Url, segments: &[&str]) -> Result<Url, ZendeskError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| ZendeskError::Setup("the Zendesk URL cannot take a path".into()))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

impl fmt::Debug for ZendeskClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.credentials {
            Credentials::OAuth(tokens) => {
                format!("OAuth client credentials ({})", tokens.client_id)
            }
            Credentials::ApiToken { email, .. } => format!("API token ({email})"),
        };
        f.debug_struct("ZendeskClient")
            .field("base_url", &self.base_url.as_str())
            .field("auth", &auth)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests;
