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
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::{OsRng, StdRng};

    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key() -> SecretKey {
        SecretKey::parse(HEX_KEY).unwrap()
    }

    fn other_key() -> SecretKey {
        SecretKey::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn a_reset_token_is_32_random_bytes_in_url_safe_base64() {
        let token = OneTimeToken::generate(&mut OsRng);
        let value = token.expose_secret();
        assert_eq!(value.len(), 43);
        assert!(!value.contains(['+', '/', '=']));
        assert_eq!(URL_SAFE_NO_PAD.decode(value).unwrap().len(), 32);
    }

    #[test]
    fn reset_tokens_differ_and_a_seeded_generator_repeats_itself() {
        let first = OneTimeToken::generate(&mut OsRng);
        let second = OneTimeToken::generate(&mut OsRng);
        assert_ne!(first.expose_secret(), second.expose_secret());
        let a = OneTimeToken::generate(&mut StdRng::seed_from_u64(5));
        let b = OneTimeToken::generate(&mut StdRng::seed_from_u64(5));
        assert_eq!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn a_token_hash_is_the_hex_hmac_sha256_of_the_token_under_the_server_key() {
        // Expected value from `printf 'hallpass reset token v1\nAAAA…A' (43 A) |
        // openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f`.
        let token = OneTimeToken::parse(&"A".repeat(43)).unwrap();
        assert_eq!(
            token.token_hash(&key()).as_str(),
            "f93007928ce3bdcd222a9e26e2800a258e9990d679d7c759e1457a016819ed3f"
        );
        // Not the plain SHA-256 of the token, which a copied database would reveal.
        assert_ne!(
            token.token_hash(&key()).as_str(),
            "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
        );
    }

    #[test]
    fn a_token_coming_back_in_a_link_matches_the_stored_hash_and_no_other() {
        let issued = OneTimeToken::generate(&mut OsRng);
        let stored = TokenHash::parse(issued.token_hash(&key()).as_str()).unwrap();
        let presented = OneTimeToken::parse(issued.expose_secret()).unwrap();
        assert!(presented.matches(&key(), &stored));
        let other = OneTimeToken::generate(&mut OsRng);
        assert!(!other.matches(&key(), &stored));
        assert!(!presented.matches(&other_key(), &stored), "another key");
    }

    #[test]
    fn damaged_tokens_are_refused() {
        let good = OneTimeToken::generate(&mut OsRng)
            .expose_secret()
            .to_owned();
        let padded = format!("{good}=");
        let with_slash = format!("/{}", &good[1..]);
        for bad in ["", "abc", &good[..42], &padded, &with_slash] {
            assert_eq!(
                OneTimeToken::parse(bad).err(),
                Some(InvalidToken),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn stored_hashes_must_be_64_lower_case_hex_digits() {
        let good = "a".repeat(64);
        assert!(TokenHash::parse(&good).is_ok());
        for bad in [
            "".to_owned(),
            "a".repeat(63),
            "A".repeat(64),
            "g".repeat(64),
            "a".repeat(65),
        ] {
            assert!(TokenHash::parse(&bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn a_link_code_is_nine_unambiguous_symbols_in_groups_of_three() {
        let mut rng = StdRng::seed_from_u64(9);
        for _ in 0..1_000 {
            let code = LinkCode::generate(&mut rng);
            let groups: Vec<&str> = code.expose_secret().split('-').collect();
            assert_eq!(groups.len(), 3, "{:?}", code.expose_secret());
            for group in groups {
                assert_eq!(group.len(), 3);
                assert!(group.bytes().all(|b| LINK_ALPHABET.contains(&b)));
            }
        }
    }

    #[test]
    fn the_link_alphabet_has_no_look_alikes_and_gives_at_least_forty_bits() {
        assert!(!LINK_ALPHABET.iter().any(|b| b"0O1IL".contains(b)));
        let unique: HashSet<&u8> = LINK_ALPHABET.iter().collect();
        assert_eq!(unique.len(), 31);
        assert!(
            LINK_ALPHABET
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        assert!(
            LinkCode::entropy_bits() >= 40.0,
            "only {:.1} bits",
            LinkCode::entropy_bits()
        );
    }

    #[test]
    fn link_codes_use_the_whole_alphabet_and_a_seeded_generator_repeats_itself() {
        let mut rng = StdRng::seed_from_u64(10);
        let mut seen = HashSet::new();
        for _ in 0..200 {
            seen.extend(
                LinkCode::generate(&mut rng)
                    .expose_secret()
                    .bytes()
                    .filter(|b| *b != b'-'),
            );
        }
        assert_eq!(seen.len(), LINK_ALPHABET.len());
        let a = LinkCode::generate(&mut StdRng::seed_from_u64(11));
        let b = LinkCode::generate(&mut StdRng::seed_from_u64(11));
        assert_eq!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn a_typed_code_is_accepted_in_any_case_with_or_without_dashes() {
        let issued = LinkCode::generate(&mut OsRng);
        let stored = issued.hash(&key());
        let shown = issued.expose_secret();
        for typed in [
            shown.to_owned(),
            shown.to_lowercase(),
            shown.replace('-', ""),
            shown.replace('-', " ").to_lowercase(),
            format!("  {shown}\n"),
        ] {
            let code = LinkCode::normalize(&typed).unwrap();
            assert_eq!(code.expose_secret(), shown, "typed {typed:?}");
            assert!(code.matches(&key(), &stored), "typed {typed:?}");
        }
    }

    #[test]
    fn a_link_code_hash_is_the_hex_hmac_sha256_of_its_symbols_without_dashes() {
        // Expected value from `printf 'hallpass link code v1\nABCDEFGHJ' |
        // openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f`.
        let code = LinkCode::normalize("abc-def-ghj").unwrap();
        assert_eq!(
            code.hash(&key()).as_str(),
            "1d14f759f962fbfcf6737e6de60e248ee08974b5a20801dad4510298e7fb439e"
        );
    }

    #[test]
    fn a_code_hashed_under_one_key_does_not_match_under_another() {
        let code = LinkCode::normalize("ABC-DEF-GHJ").unwrap();
        let stored = code.hash(&key());
        assert!(code.matches(&key(), &stored));
        assert!(!code.matches(&other_key(), &stored));
    }

    #[test]
    fn a_different_code_does_not_match() {
        let stored = LinkCode::normalize("ABC-DEF-GHJ").unwrap().hash(&key());
        assert!(
            !LinkCode::normalize("ABC-DEF-GHK")
                .unwrap()
                .matches(&key(), &stored)
        );
    }

    #[test]
    fn things_that_cannot_be_link_codes_are_refused() {
        for bad in [
            "",
            "ABC-DEF-GH",
            "ABC-DEF-GHJK",
            "ABC-DEF-GH0",
            "ABC-DEF-GHO",
            "ABC-DEF-GH1",
            "abc-def-ghl",
            "ABC-DEF-GHÉ",
            "ABC_DEF_GHJ",
        ] {
            assert_eq!(
                LinkCode::normalize(bad).err(),
                Some(InvalidLinkCode),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn the_example_in_the_refusal_is_itself_a_valid_code() {
        let message = InvalidLinkCode.to_string();
        let example = message.trim_end_matches('.').rsplit(' ').next().unwrap();
        assert!(LinkCode::normalize(example).is_ok(), "{example:?}");
    }

    #[test]
    fn debug_shows_nothing_of_a_secret_or_its_hash() {
        let token = OneTimeToken::generate(&mut OsRng);
        let code = LinkCode::generate(&mut OsRng);
        let hash = token.token_hash(&key());
        for (debug, secret) in [
            (format!("{token:?}"), token.expose_secret().to_owned()),
            (format!("{code:?}"), code.expose_secret().to_owned()),
            (format!("{hash:?}"), hash.as_str().to_owned()),
        ] {
            assert!(
                !debug.contains(&secret) && debug.contains("<redacted>"),
                "{debug}"
            );
        }
    }
}
