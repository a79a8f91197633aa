//! Password normalisation: NFKC, as NIST SP 800-63B (5.1.1.2) asks, before
//! every check, hash and verify.
//!
//! The same word typed on two keyboards can reach us as different code points:
//! "Zoë" as one precomposed `ë` (U+00EB) from one, as `e` + a combining
//! diaeresis (U+0065 U+0308) from another; a phone may send fullwidth letters
//! (`Ｚｏë`). NFKC folds each of these to one form, so a person signs in alike
//! from any device. Every password operation in this crate goes through
//! [`normalise`]: `PasswordHasher::hash` and `::verify` and
//! `PasswordRules::check` call it themselves, so no caller can forget.
//!
//! The promise: the normalised copy lives only inside a `SecretString`, which
//! wipes it when dropped; nothing here logs or keeps it.

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::{IsNormalized, is_nfkc_quick};

/// `password` in Unicode normalisation form KC.
pub fn normalise(password: &SecretString) -> SecretString {
    let raw = password.expose_secret();
    if is_nfkc_quick(raw.chars()) == IsNormalized::Yes {
        return password.clone();
    }
    // `collect` may grow the string and leave unwiped copies of a prefix in
    // freed memory; sizing it first for the common case keeps that rare.
    let mut normal = String::with_capacity(raw.len() * 2);
    normal.extend(raw.nfkc());
    SecretString::from(normal)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalise(&SecretString::from(s)).expose_secret().to_owned()
    }

    #[test]
    fn a_composed_and_a_decomposed_zoe_normalise_alike() {
        let composed = "Zo\u{00EB}";
        let decomposed = "Zoe\u{0308}";
        assert_ne!(composed, decomposed);
        assert_eq!(n(composed), n(decomposed));
        assert_eq!(n(decomposed), composed);
    }

    #[test]
    fn fullwidth_and_compatibility_forms_fold_to_plain_letters() {
        assert_eq!(n("\u{FF3A}\u{FF4F}\u{00EB}"), "Zo\u{00EB}"); // Ｚｏë
        assert_eq!(n("\u{FB01}sh"), "fish"); // the "ﬁ" ligature
        assert_eq!(n("x\u{00B2}"), "x2"); // superscript two
    }

    #[test]
    fn a_normalised_password_is_unchanged() {
        for plain in ["maple-river-quiet-472", "purple giraffes", "Zo\u{00EB}", ""] {
            assert_eq!(n(plain), plain);
        }
    }
}
