//! The login name ("email/username" in the platform's editor): one field that may
//! be an email address. Logins are unique per tenant, case-insensitively, so the
//! store keys them by [`Login::key`] while showing them as typed.

use std::fmt;

use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use super::ParseError;

const MAX_LEN: usize = 254; // the longest address SMTP can carry

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s: String = raw.trim().nfc().collect();
        if s.is_empty() {
            return Err(ParseError::new("A login (email or username) is required."));
        }
        if s.chars().count() > MAX_LEN {
            return Err(ParseError::new(format!(
                "A login can be at most {MAX_LEN} characters long."
            )));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseError::new(
                "A login cannot contain spaces or control characters.",
            ));
        }
        if s.chars().any(|c| {
            matches!(
                c,
                '<' | '>' | '"' | '\'' | '`' | ',' | ';' | '\\' | '(' | ')'
            )
        }) {
            return Err(ParseError::new(
                "A login can use letters, digits and . _ - + @ but not quotes, brackets, commas or semicolons.",
            ));
        }
        match s.matches('@').count() {
            0 => {}
            1 => {
                let (local, domain) = s.split_once('@').unwrap_or_default();
                let domain_ok = domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..");
                if local.is_empty() || !domain_ok {
                    return Err(ParseError::new(format!(
                        "\"{s}\" looks like an email address but is not a complete one (name@school.org)."
                    )));
                }
            }
            _ => return Err(ParseError::new("A login can contain at most one @.")),
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that makes a login unique within a tenant.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Whether this login is an email address (an email reset is only possible then).
    pub fn is_email(&self) -> bool {
        self.0.contains('@')
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Login {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_login_is_trimmed_and_keeps_its_case_for_display() {
        let login = Login::parse("  Ana.Lopez@Lincoln.example ").unwrap();
        assert_eq!(login.as_str(), "Ana.Lopez@Lincoln.example");
        assert_eq!(login.key(), "ana.lopez@lincoln.example");
        assert!(login.is_email());
    }

    #[test]
    fn a_username_is_not_an_email() {
        assert!(!Login::parse("alopez7").unwrap().is_email());
    }

    #[test]
    fn logins_with_spaces_quotes_or_two_ats_are_refused() {
        for bad in [
            "",
            "   ",
            "ana lopez",
            "ana\u{0007}",
            "a@b@c.org",
            "ana@school",
            "@school.org",
            "ana@.org",
            "o'brien",
        ] {
            assert!(Login::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn logins_longer_than_an_email_address_can_be_are_refused() {
        assert!(Login::parse(&"a".repeat(255)).is_err());
        assert!(Login::parse(&"a".repeat(254)).is_ok());
    }

    #[test]
    fn logins_in_other_scripts_are_accepted_and_compared_case_insensitively() {
        let a = Login::parse("ÉLODIE").unwrap();
        let b = Login::parse("élodie").unwrap();
        assert_eq!(a.key(), b.key());
    }
}
