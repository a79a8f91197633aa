//! The name an operator types for a tenant (`--tenant lincoln-usd`).

use std::fmt;

use serde::{Serialize, Serializer};

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (1..=63).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && !s.starts_with('-');
        if ok {
            Ok(Self(s))
        } else {
            Err(ParseError::new(format!(
                "\"{}\" is not a tenant name: use 1-63 lower-case letters, digits, - or _ (for example lincoln-usd).",
                raw.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TenantName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tenant_names_are_lower_cased_slugs() {
        assert_eq!(
            TenantName::parse(" Lincoln-USD ").unwrap().as_str(),
            "lincoln-usd"
        );
        for bad in ["", "lincoln usd", "-x", "école", &"a".repeat(64)] {
            assert!(TenantName::parse(bad).is_err(), "{bad}");
        }
    }
}
