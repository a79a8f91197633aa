//! Person names and staff titles: 1-64 characters, trimmed, in any script,
//! NFC-normalised so "José" typed two ways is stored one way, and free of
//! control characters (which could forge lines in chat or in the audit log)
//! and of bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069),
//! which make a name display as something it is not. Ordinary right-to-left
//! names need none of them: the text's own direction is enough.

use std::fmt;

use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use super::ParseError;

const MAX_CHARS: usize = 64;

/// Bidirectional embeddings, overrides and isolates.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn parse_text(raw: &str, what: &str) -> Result<String, ParseError> {
    let s: String = raw.trim().nfc().collect();
    if s.is_empty() {
        return Err(ParseError::new(format!("A {what} cannot be empty.")));
    }
    let len = s.chars().count();
    if len > MAX_CHARS {
        return Err(ParseError::new(format!(
            "A {what} can be at most {MAX_CHARS} characters long (this one has {len})."
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(ParseError::new(format!(
            "A {what} cannot contain line breaks, tabs or other control characters."
        )));
    }
    if s.chars().any(is_bidi_control) {
        return Err(ParseError::new(format!(
            "A {what} cannot contain right-to-left or left-to-right override characters."
        )));
    }
    Ok(s)
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                parse_text(raw, $what).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A first or last name.
    PersonName,
    "name"
);
text_type!(
    /// A staff member's title ("Science Lead", "Mx.").
    Title,
    "title"
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(PersonName::parse("  Ana ").unwrap().as_str(), "Ana");
    }

    #[test]
    fn names_in_any_script_are_accepted() {
        for ok in [
            "Nguyễn", "Ørsted", "李", "Zoë", "O'Brien", "Jean-Luc", "أحمد",
        ] {
            assert!(PersonName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn names_are_nfc_normalised() {
        let decomposed = "Jose\u{0301}";
        assert_eq!(PersonName::parse(decomposed).unwrap().as_str(), "Jos\u{e9}");
    }

    #[test]
    fn empty_names_are_refused() {
        assert!(PersonName::parse("   ").is_err());
    }

    #[test]
    fn names_longer_than_64_characters_are_refused() {
        assert!(PersonName::parse(&"é".repeat(64)).is_ok());
        let err = PersonName::parse(&"a".repeat(65)).unwrap_err();
        assert!(err.0.contains("64"), "{err}");
    }

    #[test]
    fn names_with_bidi_overrides_or_isolates_are_refused() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            let err = PersonName::parse(&format!("Ana{c}gpj.exe")).unwrap_err();
            assert!(err.0.contains("override"), "{c:?}: {err}");
            assert!(Title::parse(&format!("Lead{c}")).is_err());
        }
        assert!(
            PersonName::parse("\u{200F}أحمد").is_ok(),
            "a plain RTL mark is fine"
        );
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        assert!(PersonName::parse("Ana\nDeleted all users").is_err());
        assert!(Title::parse("Head\u{0000}").is_err());
    }
}
