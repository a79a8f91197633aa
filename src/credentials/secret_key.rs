//! The server key under which one-time secrets (reset-link tokens, link
//! codes) are hashed, as HMAC-SHA256, before they reach the database.
//!
//! Why keyed: a plain SHA-256 of a 45-bit link code can be brute-forced from a
//! copied database in minutes; under a key that is not in the database, the
//! stored hashes say nothing without it.
//!
//! The promises this file keeps:
//!
//! * The key never reaches `Debug`, logs or errors: [`SecretKey`] holds only the
//!   HMAC state derived from it and prints `SecretKey(<redacted>)`.
//! * `HALLPASS_SECRET_KEY` is at least 32 bytes, written as hex (64 or more
//!   digits) or base64; anything else is refused without echoing the value.
//! * A generated key is 32 bytes from the caller's CSPRNG (the OS in production).
//! * Link codes and reset tokens are hashed under distinct labels, so a value
//!   of one kind never matches a stored hash of the other.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use secrecy::zeroize::Zeroizing;
use sha2::Sha256;

/// The fewest key bytes accepted (and the size of a generated key).
pub const KEY_BYTES: usize = 32;

/// A `HALLPASS_SECRET_KEY` (or key file) that is not a usable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected at least 32 bytes written as hex (64 or more digits) or base64, such as the output of `openssl rand -hex 32`"
)]
pub struct InvalidSecretKey;

/// What a one-time secret is, mixed into its hash so the kinds never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    ResetToken,
    LinkCode,
    SignInAttempt,
}

impl SecretKind {
    fn label(self) -> &'static [u8] {
        match self {
            Self::ResetToken => b"hallpass reset token v1\n",
            Self::LinkCode => b"hallpass link code v1\n",
            Self::SignInAttempt => b"hallpass sign-in attempt v1\n",
        }
    }
}

/// The server key, ready to hash with. Cheap to clone.
#[derive(Clone)]
pub struct SecretKey(Arc<Hmac<Sha256>>);

impl SecretKey {
    /// Reads a configured key: hex (64 or more digits) or base64 (standard or
    /// URL-safe, padded or not) of at least [`KEY_BYTES`] bytes.
    pub fn parse(text: &str) -> Result<Self, InvalidSecretKey> {
        let text = text.trim();
        let is_hex = text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit());
        let bytes = if is_hex && text.len() >= 2 * KEY_BYTES {
            hex::decode(text).ok()
        } else {
            [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
        };
        let bytes = Zeroizing::new(bytes.ok_or(InvalidSecretKey)?);
        Self::from_bytes(&bytes)
    }

    /// A fresh key from `rng`, with its hex form for a key file. In production
    /// pass `&mut rand::rngs::OsRng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> (Self, Zeroizing<String>) {
        // HMAC pads a key shorter than SHA-256's 64-byte block with zeros
        // (RFC 2104), so a 32-byte key in a zeroed block is that key, and
        // `KeyInit::new` on a whole block cannot fail.
        let mut block = Zeroizing::new([0u8; 64]);
        rng.fill_bytes(&mut block[..KEY_BYTES]);
        let text = Zeroizing::new(hex::encode(&block[..KEY_BYTES]));
        let mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
        (Self(Arc::new(mac)), text)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidSecretKey> {
        if bytes.len() < KEY_BYTES {
            return Err(InvalidSecretKey);
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).map_err(|_| InvalidSecretKey)?;
        Ok(Self(Arc::new(mac)))
    }

    /// HMAC-SHA256 under this key of the kind's label and then `parts`, as 64
    /// lower-case hex digits.
    pub(crate) fn hash<'a>(
        &self,
        kind: SecretKind,
        parts: impl IntoIterator<Item = &'a str>,
    ) -> String {
        let mut mac = (*self.0).clone();
        mac.update(kind.label());
        for part in parts {
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// The key under which a failed sign-in that matched no checkable account
    /// is counted: the HMAC of the tenant and login as typed (a login box
    /// sometimes holds a password, so the text itself is never stored).
    pub fn sign_in_attempt_key(&self, tenant: &str, login: &str) -> String {
        self.hash(SecretKind::SignInAttempt, [tenant, "\n", login])
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_key_is_accepted_as_hex_or_base64_and_both_forms_agree() {
        let from_hex = SecretKey::parse(HEX_KEY).unwrap();
        let bytes = hex::decode(HEX_KEY).unwrap();
        for text in [
            STANDARD.encode(&bytes),
            STANDARD_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
            format!("  {}\n", HEX_KEY.to_uppercase()),
        ] {
            let key = SecretKey::parse(&text).unwrap();
            assert_eq!(
                key.hash(SecretKind::LinkCode, ["ABC"]),
                from_hex.hash(SecretKind::LinkCode, ["ABC"]),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_key_shorter_than_32_bytes_or_not_hex_or_base64_is_refused() {
        for bad in [
            "",
            &HEX_KEY[..62],
            &STANDARD.encode([7u8; 31]),
            "correct horse battery staple correct horse battery staple",
        ] {
            assert_eq!(
                SecretKey::parse(bad).err(),
                Some(InvalidSecretKey),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_hash_is_hmac_sha256_of_the_label_and_the_value() {
        // Expected value from
        // `printf 'hallpass link code v1\nABCDEFGHJ' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f`.
        let key = SecretKey::parse(HEX_KEY).unwrap();
        assert_eq!(
            key.hash(SecretKind::LinkCode, ["ABC", "DEF", "GHJ"]),
            "1d14f759f962fbfcf6737e6de60e248ee08974b5a20801dad4510298e7fb439e"
        );
    }

    #[test]
    fn different_keys_and_different_kinds_give_different_hashes() {
        let (a, _) = SecretKey::generate(&mut StdRng::seed_from_u64(1));
        let (b, _) = SecretKey::generate(&mut StdRng::seed_from_u64(2));
        assert_ne!(
            a.hash(SecretKind::LinkCode, ["X"]),
            b.hash(SecretKind::LinkCode, ["X"])
        );
        assert_ne!(
            a.hash(SecretKind::LinkCode, ["X"]),
            a.hash(SecretKind::ResetToken, ["X"])
        );
    }

    #[test]
    fn a_generated_key_reads_back_from_its_hex_form() {
        let (key, text) = SecretKey::generate(&mut StdRng::seed_from_u64(3));
        assert_eq!(text.len(), 64);
        let again = SecretKey::parse(&text).unwrap();
        assert_eq!(
            key.hash(SecretKind::ResetToken, ["t"]),
            again.hash(SecretKind::ResetToken, ["t"])
        );
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        let key = SecretKey::parse(HEX_KEY).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "SecretKey(<redacted>)");
    }
}
