//! Temporary passwords a young student can type: three everyday words and three
//! digits, joined with hyphens (`maple-river-quiet-472`).
//!
//! The promises this file keeps:
//!
//! * Every temporary password carries at least 40 bits of entropy (three words
//!   from a 2,023-word list and three digits: about 42.9 bits), drawn uniformly
//!   from a cryptographically secure generator.
//! * The plain value never leaves this file except as a [`SecretString`], and no
//!   other copy of it is left behind in freed memory.
//! * Expiry is computed from a `now` the caller passes in; nothing here reads the clock.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use rand::{CryptoRng, Rng, RngCore};
use secrecy::SecretString;

/// BIP39's English list minus a few words unsuitable for children: short,
/// common and spelled unambiguously.
static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("words.txt")
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect()
});

const WORD_COUNT: usize = 3;
const DIGIT_COUNT: usize = 3;

/// A fresh temporary password from `rng`; in production pass `&mut rand::rngs::OsRng`.
pub fn generate_temporary_password<R: RngCore + CryptoRng>(rng: &mut R) -> SecretString {
    // `gen_range` draws uniformly (it rejects rather than taking a biased modulo);
    // the list is embedded at compile time and tested to hold 2,000+ words.
    let words: [&str; WORD_COUNT] = std::array::from_fn(|_| WORDS[rng.gen_range(0..WORDS.len())]);
    let digits: [u8; DIGIT_COUNT] = std::array::from_fn(|_| rng.gen_range(0..10));

    // Exact capacity, so the string never reallocates (leaving an unwiped copy
    // behind) and the conversion into a SecretString does not shrink it.
    let len = words.iter().map(|w| w.len() + 1).sum::<usize>() + DIGIT_COUNT;
    let mut password = String::with_capacity(len);
    for word in words {
        password.push_str(word);
        password.push('-');
    }
    for digit in digits {
        password.push(char::from(b'0' + digit));
    }
    SecretString::from(password)
}

/// The entropy of one temporary password in bits, computed from the word list.
pub fn temporary_password_entropy_bits() -> f64 {
    WORD_COUNT as f64 * (WORDS.len() as f64).log2() + DIGIT_COUNT as f64 * 10f64.log2()
}

/// How long a temporary password stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemporaryPasswordPolicy {
    pub lifetime: Duration,
}

impl Default for TemporaryPasswordPolicy {
    /// 72 hours, as the policy says: long enough to get through a weekend.
    fn default() -> Self {
        Self {
            lifetime: Duration::hours(72),
        }
    }
}

impl TemporaryPasswordPolicy {
    /// When a temporary password issued at `now` stops working.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // Only an absurd configured lifetime overflows; it then means "never".
        now.checked_add_signed(self.lifetime)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use secrecy::ExposeSecret;

    use super::*;
    use crate::credentials::PasswordRules;
    use crate::directory::Role;

    fn is_well_formed(password: &str) -> bool {
        // ^[a-z]+-[a-z]+-[a-z]+-[0-9]{3}$ without a regex dependency.
        let parts: Vec<&str> = password.split('-').collect();
        parts.len() == 4
            && parts[..3]
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[3].len() == 3
            && parts[3].bytes().all(|b| b.is_ascii_digit())
    }

    #[test]
    fn a_temporary_password_carries_at_least_forty_bits() {
        let bits = temporary_password_entropy_bits();
        assert!(bits >= 40.0, "only {bits:.1} bits");
        assert!(
            (bits - 42.9).abs() < 0.05,
            "{bits:.2} bits: did the list change?"
        );
    }

    #[test]
    fn the_word_list_is_long_unique_and_made_of_short_lower_case_words() {
        assert!(WORDS.len() >= 2_000, "only {} words", WORDS.len());
        let unique: HashSet<&str> = WORDS.iter().copied().collect();
        assert_eq!(unique.len(), WORDS.len(), "the list has duplicates");
        for word in WORDS.iter() {
            assert!(
                (3..=8).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_lowercase()),
                "unsuitable word {word:?}"
            );
        }
    }

    #[test]
    fn a_temporary_password_is_three_words_and_three_digits() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1_000 {
            let password = generate_temporary_password(&mut rng);
            let password = password.expose_secret();
            assert!(is_well_formed(password), "malformed {password:?}");
            let words: Vec<&str> = password.split('-').take(3).collect();
            assert!(
                words.iter().all(|w| WORDS.contains(w)),
                "{password:?} uses an unknown word"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_password_and_another_seed_another() {
        let first = generate_temporary_password(&mut StdRng::seed_from_u64(7));
        let again = generate_temporary_password(&mut StdRng::seed_from_u64(7));
        let other = generate_temporary_password(&mut StdRng::seed_from_u64(8));
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_ne!(first.expose_secret(), other.expose_secret());
    }

    #[test]
    fn words_and_digits_are_spread_over_the_whole_range() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut first_words = HashSet::new();
        let mut numbers = HashSet::new();
        for _ in 0..20_000 {
            let password = generate_temporary_password(&mut rng);
            let (words, digits) = password.expose_secret().rsplit_once('-').unwrap();
            first_words.insert(words.split('-').next().unwrap().to_owned());
            numbers.insert(digits.to_owned());
        }
        // 20,000 draws from 2,023 words miss any given word with probability e^-9.9.
        assert!(
            first_words.len() > 2_000,
            "only {} distinct words",
            first_words.len()
        );
        assert_eq!(numbers.len(), 1_000, "every number 000-999 should appear");
    }

    #[test]
    fn temporary_passwords_pass_the_rules_people_must_follow() {
        let shortest = 3 * WORDS.iter().map(|w| w.len()).min().unwrap() + 3 + DIGIT_COUNT;
        assert!(shortest >= PasswordRules::default().staff_min);
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..1_000 {
            let password = generate_temporary_password(&mut rng);
            assert_eq!(
                PasswordRules::default().check(&password, Role::DistrictAdmin, None),
                Ok(())
            );
        }
    }

    #[test]
    fn a_temporary_password_expires_72_hours_after_issue_by_default() {
        let now = DateTime::parse_from_rfc3339("2025-09-01T08:00:00Z")
            .unwrap()
            .to_utc();
        let expected = DateTime::parse_from_rfc3339("2025-09-04T08:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(TemporaryPasswordPolicy::default().expires_at(now), expected);
    }

    #[test]
    fn a_configured_lifetime_is_honoured() {
        let now = DateTime::parse_from_rfc3339("2025-09-01T08:00:00Z")
            .unwrap()
            .to_utc();
        let policy = TemporaryPasswordPolicy {
            lifetime: Duration::hours(1),
        };
        assert_eq!(policy.expires_at(now), now + Duration::hours(1));
        let forever = TemporaryPasswordPolicy {
            lifetime: Duration::MAX,
        };
        assert_eq!(forever.expires_at(now), DateTime::<Utc>::MAX_UTC);
    }
}
