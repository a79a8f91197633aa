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
//! (a test compares the two).

use std::fmt;
use std::num::NonZeroU64;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use serenity::http::{Http, HttpBuilder, Route};
use serenity::model::id::{ApplicationId, ChannelId, GuildId, InteractionId};
use thiserror::Error;
use url::Url;

/// How many times a rate-limited request is sent again.
pub const MAX_RETRIES: u32 = 3;
/// The longest wait for a rate limit; a longer `retry_after` fails at once.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// A 429 with no usable `retry_after` (a proxy's, say) waits this long.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// How a request that met a 5xx, a hang or a dropped connection is tried again.
/// Every wait and every try stays inside `budget`, so a DM or a follow-up is
/// given up while its interaction token (15 minutes) still lives, and the
/// reset is rolled back in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long one try may take before it counts as a hang.
    pub request_timeout: Duration,
    /// Tries in all (the first included) for 5xx, hangs and transport errors.
    pub attempts: u32,
    /// The wait after the first failed try; it doubles after each further one.
    pub first_backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
    /// No try starts later than this after the first one.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// 20 s a try, 6 tries, waits of 1, 2, 4, 8, 16 s: at most about 2.5
    /// minutes, and no try starts after 5.
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(20),
            attempts: 6,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            budget: Duration::from_secs(5 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed tries (1 or more).
    fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}
/// Discord's JSON error codes for "this user does not take DMs from the bot".
const DM_CLOSED_CODES: &[u64] = &[50007, 50278];
/// Message flag: only the invoker sees it.
const EPHEMERAL: u64 = 1 << 6;

/// Everything that can go wrong talking to Discord. No variant carries a URL,
/// a token or a message's content. Causes are `source()`s, not repeated in
/// the message, so `{:#}` (anyhow) prints each once.
#[derive(Debug, Error)]
pub enum RestError {
    #[error("DISCORD_TOKEN is not set: {0} needs the bot token")]
    MissingToken(&'static str),
    #[error("DISCORD_APPLICATION_ID is not set: {0} needs the application id")]
    MissingApplicationId(&'static str),
    #[error("{0} is not a Discord id (0)")]
    InvalidId(&'static str),
    #[error("DISCORD_TOKEN cannot be sent as an HTTP header (stray characters?)")]
    InvalidToken,
    #[error("DISCORD_API_URL does not make a valid URL for {0}")]
    InvalidUrl(&'static str),
    #[error("Failed to build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("Failed to reach Discord for {route}")]
    Transport {
        route: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("Discord refused {route} with {status}: {message}{}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Discord {
        route: &'static str,
        status: u16,
        code: Option<u64>,
        message: String,
    },
    #[error("Discord is rate limiting {route}: try again in {:.1} s", retry_after.as_secs_f64())]
    RateLimited {
        route: &'static str,
        retry_after: Duration,
    },
    #[error("Discord's answer to {route} could not be read")]
    Decode {
        route: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl RestError {
    /// Discord's JSON error code, when Discord gave one.
    pub fn discord_code(&self) -> Option<u64> {
        match self {
            Self::Discord { code, .. } => *code,
            _ => None,
        }
    }
}

/// Why a direct message did not arrive.
#[derive(Debug, Error)]
pub enum DmError {
    /// The person's privacy settings (or a block, or no shared server) refuse
    /// DMs from the bot: Discord code 50007 or 50278. Tell the invoker, don't retry.
    #[error("This person does not accept direct messages from the bot (Discord code {code})")]
    Closed { code: u64 },
    #[error(transparent)]
    Other(RestError),
}

impl From<RestError> for DmError {
    fn from(error: RestError) -> Self {
        match error.discord_code() {
            Some(code) if DM_CLOSED_CODES.contains(&code) => Self::Closed { code },
            _ => Self::Other(error),
        }
    }
}

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
}

/// The parts of Discord's error body (and of its 429 body) that matter here.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    code: Option<u64>,
    message: Option<String>,
    retry_after: Option<f64>,
}

#[derive(Deserialize)]
struct Channel {
    id: ChannelId,
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

    /// Opens (or finds) the DM channel with `user` and posts `content` there.
    #[tracing::instrument(skip(self, content))]
    pub async fn send_dm(&self, user: u64, content: &str) -> Result<(), DmError> {
        self.require_token("sending a DM")?;
        NonZeroU64::new(user).ok_or(RestError::InvalidId("the DM recipient"))?;
        let label = "POST /users/@me/channels";
        let answer = self
            .send(Call {
                label,
                method: Method::POST,
                route: Route::UserMeDmChannels,
                body: &json!({ "recipient_id": user.to_string() }),
            })
            .await?;
        let channel: Channel = decode(label, &answer)?;
        self.send(Call {
            label: "POST /channels/{channel.id}/messages",
            method: Method::POST,
            route: Route::ChannelMessages {
                channel_id: channel.id,
            },
            body: &message(content, None),
        })
        .await?;
        Ok(())
    }

    /// Posts `content` in a server channel (a tenant's audit channel).
    #[tracing::instrument(skip(self, content))]
    pub async fn post_message(&self, channel: u64, content: &str) -> Result<(), RestError> {
        self.require_token("posting in a channel")?;
        let channel_id = NonZeroU64::new(channel)
            .map(ChannelId::from)
            .ok_or(RestError::InvalidId("the channel"))?;
        self.send(Call {
            label: "POST /channels/{channel.id}/messages",
            method: Method::POST,
            route: Route::ChannelMessages { channel_id },
            body: &message(content, None),
        })
        .await?;
        Ok(())
    }

    /// Replaces the text of the interaction's first answer (after a deferral).
    #[tracing::instrument(skip(self, interaction_token, content))]
    pub async fn edit_original(
        &self,
        interaction_token: &str,
        content: &str,
    ) -> Result<(), RestError> {
        let label = "PATCH /webhooks/{application.id}/{interaction.token}/messages/@original";
        self.send(Call {
            label,
            method: Method::PATCH,
            route: Route::WebhookOriginalInteractionResponse {
                application_id: self.application_id(label)?,
                token: interaction_token,
            },
            body: &message(content, None),
        })
        .await?;
        Ok(())
    }

    /// Posts another message in answer to the interaction.
    #[tracing::instrument(skip(self, interaction_token, content))]
    pub async fn followup(
        &self,
        interaction_token: &str,
        content: &str,
        ephemeral: bool,
    ) -> Result<(), RestError> {
        let label = "POST /webhooks/{application.id}/{interaction.token}";
        self.send(Call {
            label,
            method: Method::POST,
            route: Route::WebhookFollowupMessages {
                application_id: self.application_id(label)?,
                token: interaction_token,
            },
            body: &message(content, ephemeral.then_some(EPHEMERAL)),
        })
        .await?;
        Ok(())
    }

    /// Answers an interaction received over the gateway (over HTTP the answer
    /// is the response body instead). `response` is an interaction-response
    /// object such as [`super::render`] builds.
    #[tracing::instrument(skip(self, interaction_token, response))]
    pub async fn create_response(
        &self,
        interaction_id: u64,
        interaction_token: &str,
        response: &Value,
    ) -> Result<(), RestError> {
        let label = "POST /interactions/{interaction.id}/{interaction.token}/callback";
        self.send(Call {
            label,
            method: Method::POST,
            route: Route::InteractionResponse {
                interaction_id: NonZeroU64::new(interaction_id)
                    .map(InteractionId::from)
                    .ok_or(RestError::InvalidId("the interaction"))?,
                token: interaction_token,
            },
            body: response,
        })
        .await?;
        Ok(())
    }

    /// Replaces the application's commands (globally, or in one server) with
    /// `commands`; answers how many Discord now holds.
    #[tracing::instrument(skip(self, commands), fields(commands = commands.len()))]
    pub async fn register_commands(
        &self,
        guild: Option<u64>,
        commands: &[Value],
    ) -> Result<usize, RestError> {
        let what = "registering commands";
        self.require_token(what)?;
        let application_id = self.application_id(what)?;
        let (label, route) = match guild {
            None => (
                "PUT /applications/{application.id}/commands",
                Route::Commands { application_id },
            ),
            Some(guild) => (
                "PUT /applications/{application.id}/guilds/{guild.id}/commands",
                Route::GuildCommands {
                    application_id,
                    guild_id: NonZeroU64::new(guild)
                        .map(GuildId::from)
                        .ok_or(RestError::InvalidId("the server"))?,
                },
            ),
        };
        let body = Value::Array(commands.to_vec());
        let answer = self
            .send(Call {
                label,
                method: Method::PUT,
                route,
                body: &body,
            })
            .await?;
        let registered: Vec<Value> = decode(label, &answer)?;
        Ok(registered.len())
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

    /// Sends `call`, waiting out 429s and trying again after 5xx, hangs and
    /// dropped connections (see [`RetryPolicy`]); answers the body of the success.
    #[tracing::instrument(skip_all, fields(route = call.label))]
    async fn send(&self, call: Call<'_>) -> Result<Vec<u8>, RestError> {
        let url = self.url(call.label, call.route)?;
        let started = tokio::time::Instant::now();
        let mut rate_limited = 0;
        let mut failures = 0;
        loop {
            let error = match self.try_once(&call, &url).await {
                Ok(body) => return Ok(body),
                Err(Attempt::RateLimited(wait)) => {
                    if rate_limited >= MAX_RETRIES || wait > MAX_WAIT {
                        return Err(RestError::RateLimited {
                            route: call.label,
                            retry_after: wait,
                        });
                    }
                    rate_limited += 1;
                    tracing::warn!(
                        wait_ms = wait.as_millis() as u64,
                        retry = rate_limited,
                        "Discord rate limited the request; waiting before sending it again"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(Attempt::Final(error)) => return Err(error),
                Err(Attempt::Transient(error)) => error,
            };
            failures += 1;
            let wait = self.retry.backoff(failures);
            let out_of_time = started.elapsed() + wait > self.retry.budget;
            if failures >= self.retry.attempts || out_of_time {
                return Err(error);
            }
            tracing::warn!(
                error = %error,
                wait_ms = wait.as_millis() as u64,
                retry = failures,
                "Discord did not answer the request; sending it again"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One try of `call`.
    async fn try_once(&self, call: &Call<'_>, url: &Url) -> Result<Vec<u8>, Attempt> {
        let mut request = self
            .client
            .request(call.method.clone(), url.clone())
            .timeout(self.retry.request_timeout)
            .header(USER_AGENT, serenity::constants::USER_AGENT)
            .json(call.body);
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let transport = |source: reqwest::Error| {
            // A request that could not even be built will not build next time.
            let retry = !source.is_builder();
            let error = RestError::Transport {
                route: call.label,
                // The URL may hold an interaction token.
                source: source.without_url(),
            };
            if retry {
                Attempt::Transient(error)
            } else {
                Attempt::Final(error)
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let error: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Attempt::RateLimited(retry_after(&error, &headers)));
        }
        let refused = RestError::Discord {
            route: call.label,
            status: status.as_u16(),
            code: error.code,
            message: error
                .message
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("no reason").to_owned()),
        };
        Err(if status.is_server_error() {
            Attempt::Transient(refused)
        } else {
            Attempt::Final(refused)
        })
    }
}

/// How one try went wrong.
enum Attempt {
    /// 429: wait this long, then send again.
    RateLimited(Duration),
    /// 5xx, a hang, a dropped connection: worth another try.
    Transient(RestError),
    /// A refusal (4xx) that the same request would get again.
    Final(RestError),
}

/// How long Discord asks us to wait: the body's `retry_after` (seconds, with
/// fractions), else the `Retry-After` header, else [`DEFAULT_WAIT`].
fn retry_after(error: &ErrorBody, headers: &HeaderMap) -> Duration {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    [
        error.retry_after,
        header("retry-after"),
        header("x-ratelimit-reset-after"),
    ]
    .into_iter()
    .flatten()
    .find_map(|seconds| Duration::try_from_secs_f64(seconds).ok())
    .unwrap_or(DEFAULT_WAIT)
}

/// A message body. Mentions are never parsed: names in replies must not ping anyone.
/// Clipped to Discord's limit, as every message is (a longer one is refused).
fn message(content: &str, flags: Option<u64>) -> Value {
    let mut body =
        json!({ "content": super::response::clip(content), "allowed_mentions": { "parse": [] } });
    if let Some(flags) = flags {
        body["flags"] = json!(flags);
    }
    body
}

fn decode<T: serde::de::DeserializeOwned>(
    route: &'static str,
    body: &[u8],
) -> Result<T, RestError> {
    serde_json::from_slice(body).map_err(|source| RestError::Decode { route, source })
}

#[cfg(test)]
mod tests;
