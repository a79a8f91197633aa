//! OAuth client-credentials tokens for the Zendesk client.
//!
//! The promises this file keeps:
//!
//! * One token is fetched and shared by every call until shortly before it
//!   expires (by the injected [`Clock`]); only one fetch runs at a time, so a
//!   burst of calls on a cold cache asks Zendesk once.
//! * When Zendesk answers 401 to a token, exactly one new token replaces it,
//!   however many calls saw the 401 at once.
//! * The client secret and the access tokens live in `SecretString`s; the
//!   request and response bodies that carry them have no `Debug`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use url::Url;

use super::ZendeskError;
use super::error::{from_status, from_transport};
use crate::app::Clock;

/// The scopes the client asks for: create and update tickets, and read them
/// back by external id.
pub const OAUTH_SCOPE: &str = "tickets:write read";

/// A token is replaced this long before Zendesk says it expires (or at half
/// its lifetime, if that is shorter), so no call goes out with a token that
/// expires in flight.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A token a call can use, and which fetch it came from.
pub(super) struct BearerToken {
    pub value: SecretString,
    pub generation: u64,
}

struct CachedToken {
    value: SecretString,
    /// `None`: Zendesk gave no lifetime; keep it until it is refused.
    refresh_at: Option<Instant>,
    generation: u64,
}

struct Cache {
    token: Option<CachedToken>,
    fetches: u64,
}

pub(super) struct OAuthTokens {
    pub client_id: String,
    client_secret: SecretString,
    token_url: Url,
    clock: Arc<dyn Clock>,
    cache: Mutex<Cache>,
}

/// Zendesk's `POST /oauth/tokens` takes JSON (not a form).
#[derive(Serialize)]
struct TokenRequest<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    client_secret: &'a str,
    scope: &'static str,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: Option<String>,
    expires_in: Option<u64>,
}

impl OAuthTokens {
    pub fn new(
        client_id: String,
        client_secret: SecretString,
        token_url: Url,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            token_url,
            clock,
            cache: Mutex::new(Cache {
                token: None,
                fetches: 0,
            }),
        }
    }

    /// The cached token, or a new one when there is none or it is about to expire.
    pub async fn current(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<BearerToken, ZendeskError> {
        // Held across the fetch on purpose: concurrent callers wait for the
        // one fetch instead of each starting their own.
        let mut cache = self.cache.lock().await;
        let now = self.clock.monotonic();
        if let Some(token) = &cache.token {
            if token.refresh_at.is_none_or(|at| now < at) {
                return Ok(token.bearer());
            }
            tracing::debug!("The Zendesk access token is about to expire; fetching a new one");
        }
        self.fetch_into(&mut cache, http, timeout).await
    }

    /// A replacement for the token of `generation`, which Zendesk refused.
    /// If another call has already replaced it, that replacement is used.
    pub async fn replace_refused(
        &self,
        generation: u64,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<BearerToken, ZendeskError> {
        let mut cache = self.cache.lock().await;
        if let Some(token) = cache.token.as_ref().filter(|t| t.generation != generation) {
            return Ok(token.bearer());
        }
        cache.token = None;
        self.fetch_into(&mut cache, http, timeout).await
    }

    async fn fetch_into(
        &self,
        cache: &mut Cache,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<BearerToken, ZendeskError> {
        let fetched_at = self.clock.monotonic();
        let response = self
            .request(http, timeout)
            .await
            .map_err(ZendeskError::before_api_call)?;
        let lifetime = response.expires_in.map(Duration::from_secs);
        cache.fetches += 1;
        let token = CachedToken {
            value: SecretString::from(response.access_token),
            refresh_at: lifetime.and_then(|lifetime| {
                let margin = TOKEN_REFRESH_MARGIN.min(lifetime / 2);
                fetched_at.checked_add(lifetime - margin)
            }),
            generation: cache.fetches,
        };
        tracing::info!(
            client_id = %self.client_id,
            expires_in = ?lifetime,
            "Fetched a Zendesk OAuth access token"
        );
        let bearer = token.bearer();
        cache.token = Some(token);
        Ok(bearer)
    }

    #[tracing::instrument(name = "zendesk_oauth_token", skip_all, fields(client_id = %self.client_id))]
    async fn request(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<TokenResponse, ZendeskError> {
        let body = TokenRequest {
            grant_type: "client_credentials",
            client_id: &self.client_id,
            client_secret: self.client_secret.expose_secret(),
            scope: OAUTH_SCOPE,
        };
        let response = http
            .post(self.token_url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| from_transport(&e, timeout))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .cloned();
            let body = response.text().await.unwrap_or_default();
            return Err(from_status(status, retry_after.as_ref(), &body));
        }
        let parsed: TokenResponse = response.json().await.map_err(|e| {
            if e.is_decode() {
                ZendeskError::Auth(format!(
                    "the token endpoint answered {status} without an access token"
                ))
            } else {
                from_transport(&e, timeout)
            }
        })?;
        match parsed.token_type.as_deref() {
            Some(kind) if !kind.eq_ignore_ascii_case("bearer") => Err(ZendeskError::Auth(format!(
                "the token endpoint issued a {kind:?} token, not a bearer token"
            ))),
            _ => Ok(parsed),
        }
    }
}

impl CachedToken {
    fn bearer(&self) -> BearerToken {
        BearerToken {
            value: self.value.clone(),
            generation: self.generation,
        }
    }
}
