//! One-time secrets: the token in an email reset link and the code a person
//! types to link their chat account.
//!
//! The promises this file keeps:
//!
//! * The database stores only a [`TokenHash`], the hex HMAC-SHA256 of the
//!   secret under the server's [`SecretKey`] (kept outside the database, so a
//!   copied database does not let anyone guess codes offline); a single fast
//!   hash is enough because the secrets are random, not chosen by people. The
//!   plain value leaves a token or code only through its `expose_secret`, for
//!   the one message that delivers it.
//! * Comparing a presented secret with a stored hash takes the same time
//!   whether they match or not.
//! * A reset-link token carries 256 bits; a link code at least 40.
//! * `Debug` prints nothing of a secret or of its hash.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{CryptoRng, Rng, RngCore};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::CredentialError;
use super::secret_key::{SecretKey, SecretKind};

const TOKEN_BYTES: usize = 32;
/// 32 bytes in unpadded base64.
const TOKEN_CHARS: usize = 43;

/// No 0/O, 1/I/L: nothing a child can misread. 31 symbols.
const LINK_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Nine symbols from 31 give 44.6 bits; eight would give only 39.6.
const LINK_CODE_CHARS: usize = 9;
const LINK_GROUP: usize = 3;

/// The keyed hash (HMAC-SHA256) of a one-time secret, as 64 lower-case hex
/// digits: what the database stores.
#[derive(Clone)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash of the concatenation of `parts` under `key`.
    fn of<'a>(key: &SecretKey, kind: SecretKind, parts: impl IntoIterator<Item = &'a str>) -> Self {
        Self(key.hash(kind, parts))
    }

    /// Reads a stored hash back.
    pub fn parse(stored: &str) -> Result<Self, CredentialError> {
        let well_formed = stored.len() == 64
            && stored
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if well_formed {
            Ok(Self(stored.to_owned()))
        } else {
            Err(CredentialError::MalformedTokenHash)
        }
    }

    /// The hex digits, for the database.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn matches(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// The secret in a single-use email reset link: 32 random bytes in URL-safe base64.
pub struct OneTimeToken(SecretString);

/// A reset link whose token is missing, cut short or altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("This link is incomplete or damaged; ask for a new one.")]
pub struct InvalidToken;

impl OneTimeToken {
    /// A fresh token from `rng`; in production pass `&mut rand::rngs::OsRng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        rng.fill_bytes(&mut *bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(*bytes)))
    }

    /// The token as it comes back in a link. Only the shape is checked here;
    /// whether it was issued is answered by looking up its hash.
    pub fn parse(presented: &str) -> Result<Self, InvalidToken> {
        let presented = presented.trim();
        let well_formed = presented.len() == TOKEN_CHARS
            && presented
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(SecretString::from(presented)))
        } else {
            Err(InvalidToken)
        }
    }

    /// The plain token, to put in the one link that is sent.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// What the database stores (and looks the token up by).
    pub fn token_hash(&self, key: &SecretKey) -> TokenHash {
        TokenHash::of(key, SecretKind::ResetToken, [self.0.expose_secret()])
    }

    /// Whether this token is the one `stored` was made from, in constant time.
    pub fn matches(&self, key: &SecretKey, stored: &TokenHash) -> bool {
        self.token_hash(key).matches(stored)
    }
}

impl fmt::Debug for OneTimeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeToken(<redacted>)")
    }
}

/// A code a person types into `/link` to link their chat account, e.g. `K7M-Q2X-RWP`.
pub struct LinkCode(SecretString);

/// Something typed into `/link` that cannot be a link code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("That is not a link code. A link code has 9 letters and digits, like K7M-Q2X-RWP.")]
pub struct InvalidLinkCode;

impl LinkCode {
    /// A fresh code from `rng`; in production pass `&mut rand::rngs::OsRng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        // `gen_range` draws uniformly (it rejects rather than taking a biased modulo).
        let symbols: Zeroizing<[u8; LINK_CODE_CHARS]> = Zeroizing::new(std::array::from_fn(|_| {
            LINK_ALPHABET[rng.gen_range(0..LINK_ALPHABET.len())]
        }));
        Self::grouped(&symbols)
    }

    /// Reads a code as a person typed it: any case, with or without dashes or spaces.
    pub fn normalize(input: &str) -> Result<Self, InvalidLinkCode> {
        let mut symbols = Zeroizing::new([0u8; LINK_CODE_CHARS]);
        let mut count = 0;
        for c in input.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
            let symbol = u8::try_from(c.to_ascii_uppercase()).map_err(|_| InvalidLinkCode)?;
            let slot = symbols.get_mut(count).ok_or(InvalidLinkCode)?;
            if !LINK_ALPHABET.contains(&symbol) {
                return Err(InvalidLinkCode);
            }
            *slot = symbol;
            count += 1;
        }
        if count == LINK_CODE_CHARS {
            Ok(Self::grouped(&symbols))
        } else {
            Err(InvalidLinkCode)
        }
    }

    /// `ABCDEFGHJ` as `ABC-DEF-GHJ`.
    fn grouped(symbols: &[u8; LINK_CODE_CHARS]) -> Self {
        let dashes = LINK_CODE_CHARS / LINK_GROUP - 1;
        let mut code = String::with_capacity(LINK_CODE_CHARS + dashes);
        for (i, symbol) in symbols.iter().enumerate() {
            if i > 0 && i % LINK_GROUP == 0 {
                code.push('-');
            }
            code.push(char::from(*symbol));
        }
        Self(SecretString::from(code))
    }

    /// The code as shown to the person who will type it, e.g. `K7M-Q2X-RWP`.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// What the database stores. Made from the symbols alone, without the
    /// dashes, so a change to how codes are grouped on screen breaks no stored code.
    pub fn hash(&self, key: &SecretKey) -> TokenHash {
        TokenHash::of(key, SecretKind::LinkCode, self.0.expose_secret().split('-'))
    }

    /// Whether this code is the one `stored` was made from, in constant time.
    pub fn matches(&self, key: &SecretKey, stored: &TokenHash) -> bool {
        self.hash(key).matches(stored)
    }

    /// The entropy of one link code in bits.
    pub fn entropy_bits() -> f64 {
        LINK_CODE_CHARS as f64 * (LINK_ALPHABET.len() as f64).log2()
    }
}

impl fmt::Debug for LinkCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkCode(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
