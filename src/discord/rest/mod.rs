//! Discord's REST API as the bot uses it: direct messages, messages in a
//! tenant's audit channel, the edits and follow-ups of an interaction's answer,
//! and the bulk overwrite of the slash commands.
//!
//! Promise: the bot token, interaction tokens and message contents (which may
//! hold a temporary password or a link code) never reach `Debug`, logs or error
//! messages; a 429 is honoured (wait `retry_after`, at most [`MAX_WAIT`], at most
//! [`MAX_RETRIES`] times) so a rate-limited message is delivered exactly once;
//! a 5xx, a hang (no answer within [`RetryPolicy::request_timeout`]) or a
//! refused connection is sent again with doubling waits, for at most
//! [`RetryPolicy::attempts`] tries and within [`RetryPolicy::budget`] (well
//! inside an interaction token's 15 minutes); a closed inbox is told apart
//! from every other failure ([`DmError::Closed`]).
//!
//! Built on serenity's [`Http`] (token, application id, proxy) and its [`Route`]s
//! (the exact paths), with the rate limiter disabled: serenity only sends to a
//! proxy base when its rate limiter is off (`Ratelimiter::perform` builds every
//! request with no proxy). The requests themselves go out here rather than
//! through `Http::request`, for two reasons found in serenity 0.12.5's source:
//! its error type keeps neither the headers nor a body without `code`, so the
//! `retry_after` of a 429 is lost; and `Http::request` / `Request::build` are
//! `#[instrument]`ed with the whole request (body and interaction token) as span
//! fields. `DiscordRest::url` rewrites the base exactly as `Request::build` does

mod error;
mod messages;
mod retry;

use std::fmt;
use std::num::NonZeroU64;

use reqwest::Method;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use serenity::http::{Http, HttpBuilder, Route};
use serenity::model::id::ApplicationId;
use url::Url;

use crate::commands::Attachment;

pub use error::{ALREADY_ACKNOWLEDGED, DmError, RestError};
#[cfg(test)]
use messages::{EPHEMERAL, message};
#[cfg(test)]
use retry::{DEFAULT_WAIT, ErrorBody, retry_after};
pub use retry::{MAX_RETRIES, MAX_WAIT, RetryPolicy};
#[cfg(test)]
use serenity::model::id::{ChannelId, GuildId};

/// The bot's REST client. Cheap to share behind an `Arc`; one per process.
pub struct DiscordRest {
    http: Http,
    client: reqwest::Client,
    authorization: Option<HeaderValue>,
    api_base: Url,
    retry: RetryPolicy,
}

impl fmt::Debug for DiscordRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordRest")
            .field("api_base", &self.api_base.as_str())
            .field("retry", &self.retry)
            .field("application_id", &self.http.application_id())
            .field(
                "token",
                &if self.authorization.is_some() {
                    "set"
                } else {
                    "unset"
                },
            )
            .finish()
    }
}

/// One request: what it is called in errors and logs, and where it goes.
struct Call<'a> {
    label: &'static str,
    method: Method,
    route: Route<'a>,
    body: &'a Value,
    /// A file to upload with `body`: sent as `multipart/form-data`.
    file: Option<&'a Attachment>,
}

impl DiscordRest {
    /// A client for the API under `api_base` (`https://discord.com` in
    /// production, a local stand-in in tests). Without a token only the
    /// interaction webhooks work; without an application id only DMs do.
    pub fn new(
        api_base: &Url,
        token: Option<&SecretString>,
        application_id: Option<u64>,
    ) -> Result<Self, RestError> {
        let retry = RetryPolicy::default();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(retry.request_timeout)
            .build()
            .map_err(RestError::Client)?;
        let mut builder = HttpBuilder::new(token.map(|t| t.expose_secret()).unwrap_or_default())
            .client(client.clone())
            .proxy(api_base.as_str())
            .ratelimiter_disabled(true);
        if let Some(id) = application_id.and_then(NonZeroU64::new) {
            builder = builder.application_id(ApplicationId::from(id));
        }
        let http = builder.build();
        let authorization = match token {
            // `Http` has added the "Bot " prefix when it was missing.
            Some(_) => {
                let mut value =
                    HeaderValue::from_str(http.token()).map_err(|_| RestError::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            http,
            client,
            authorization,
            api_base: api_base.clone(),
            retry,
        })
    }

    /// The same client with another retry policy (tests use short timeouts).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The full URL of `route`, with Discord's base replaced by the configured
    /// one exactly as serenity's `Request::build` does with `Http::proxy`.
    fn url(&self, label: &'static str, route: Route<'_>) -> Result<Url, RestError> {
        let mut url = route.path().into_owned();
        if let Some(proxy) = self.http.proxy.as_deref() {
            url = url.replace("https://discord.com", proxy.trim_end_matches('/'));
        }
        Url::parse(&url).map_err(|_| RestError::InvalidUrl(label))
    }

    fn require_token(&self, what: &'static str) -> Result<(), RestError> {
        match self.authorization {
            Some(_) => Ok(()),
            None => Err(RestError::MissingToken(what)),
        }
    }

    fn application_id(&self, what: &'static str) -> Result<ApplicationId, RestError> {
        self.http
            .application_id()
            .ok_or(RestError::MissingApplicationId(what))
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    route: &'static str,
    body: &[u8],
) -> Result<T, RestError> {
    serde_json::from_slice(body).map_err(|source| RestError::Decode { route, source })
}

#[cfg(test)]
mod tests;
