//! Verifying that a request to `/interactions` really comes from Discord:
//! Ed25519 over timestamp + body (serenity's `Verifier`), and a timestamp
//! close to now so a captured request cannot be replayed later.

use chrono::{DateTime, Utc};
use serenity::interactions_endpoint::Verifier;

/// How far a request's timestamp may be from our clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// How long an interaction id is remembered (`Store::first_sighting`): a
/// signed request verifies while its timestamp is within the skew of `now`
/// either way, so a replay can come up to twice the skew after the original;
/// a minute more for clocks.
pub const REPLAY_MEMORY: chrono::Duration = chrono::Duration::seconds(2 * MAX_SKEW_SECONDS + 60);

pub struct InteractionVerifier(Verifier);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the public key is not 64 hex digits of a valid Ed25519 key")]
    BadKey,
    #[error("missing signature headers")]
    Missing,
    #[error("bad signature")]
    BadSignature,
    #[error("stale timestamp")]
    Stale,
}

impl InteractionVerifier {
    /// From `DISCORD_PUBLIC_KEY` (hex).
    pub fn from_hex(public_key: &str) -> Result<Self, VerifyError> {
        let bytes = hex::decode(public_key.trim()).map_err(|_| VerifyError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| VerifyError::BadKey)?;
        Verifier::try_new(key)
            .map(Self)
            .map_err(|_| VerifyError::BadKey)
    }

    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return Err(VerifyError::Missing);
        };
        self.0
            .verify(signature, timestamp, body)
            .map_err(|()| VerifyError::BadSignature)?;
        let sent: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Stale)?;
        if (now.timestamp() - sent).abs() > MAX_SKEW_SECONDS {
            return Err(VerifyError::Stale);
        }
        Ok(())
    }
}
