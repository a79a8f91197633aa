//! Sending one request: 429s waited out, 5xx, hangs and dropped connections
//! sent again within the [`RetryPolicy`], and the body built anew for every
//! try (a file's multipart body is consumed by sending it).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, USER_AGENT};
use reqwest::multipart::{Form, Part};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{Call, DiscordRest, RestError};
use crate::commands::Attachment;

/// How many times a rate-limited request is sent again.
pub const MAX_RETRIES: u32 = 3;
/// The longest wait for a rate limit; a longer `retry_after` fails at once.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// A 429 with no usable `retry_after` (a proxy's, say) waits this long.
pub(super) const DEFAULT_WAIT: Duration = Duration::from_secs(1);

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
    pub(super) fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}
/// The parts of Discord's error body (and of its 429 body) that matter here.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    pub(super) code: Option<u64>,
    pub(super) message: Option<String>,
    pub(super) retry_after: Option<f64>,
}

impl DiscordRest {
    /// Sends `call`, waiting out 429s and trying again after 5xx, hangs and
    /// dropped connections (see [`RetryPolicy`]); answers the body of the success.
    #[tracing::instrument(skip_all, fields(route = call.label))]
    pub(super) async fn send(&self, call: Call<'_>) -> Result<Vec<u8>, RestError> {
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
        let request = self
            .client
            .request(call.method.clone(), url.clone())
            .timeout(self.retry.request_timeout)
            .header(USER_AGENT, serenity::constants::USER_AGENT);
        // Built anew for every try: a multipart body is consumed by sending.
        let mut request = match call.file {
            None => request.json(call.body),
            Some(file) => request.multipart(multipart(call.body, file).map_err(|source| {
                Attempt::Final(RestError::Transport {
                    route: call.label,
                    source,
                })
            })?),
        };
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
pub(super) fn retry_after(error: &ErrorBody, headers: &HeaderMap) -> Duration {
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

/// Discord's upload format: the JSON as `payload_json`, the file as `files[0]`.
fn multipart(body: &Value, file: &Attachment) -> Result<Form, reqwest::Error> {
    let part = Part::bytes(file.bytes.expose_secret().to_vec())
        .file_name(file.filename.clone())
        .mime_str(file.content_type)?;
    let payload = Part::text(body.to_string()).mime_str("application/json")?;
    Ok(Form::new()
        .part("payload_json", payload)
        .part("files[0]", part))
}
