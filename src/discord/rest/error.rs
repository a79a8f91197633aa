//! What can go wrong talking to Discord, with no URL, token or content in it.

use std::time::Duration;

use thiserror::Error;

/// Discord's JSON error codes for "this user does not take DMs from the bot".
pub(super) const DM_CLOSED_CODES: &[u64] = &[50007, 50278];

/// Discord's JSON error code for a response to an interaction that was
/// already answered (Discord keeps the first response and refuses the rest).
pub const ALREADY_ACKNOWLEDGED: u64 = 40060;

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
