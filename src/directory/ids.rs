//! Identifiers. Directory ids are UUIDv7 (time-ordered, so indexes stay compact)
//! and are the stable ids shown in `--json` output and used as autocomplete values.
//! Discord ids are snowflakes: 64-bit integers that travel as decimal strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ParseError;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses an id typed or sent by someone (an autocomplete value can be forged).
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| ParseError::new(concat!("That is not a valid ", $what, " id.")))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

uuid_id!(
    /// One customer account. Nothing ever crosses tenants.
    TenantId,
    "tenant"
);
uuid_id!(
    /// A district inside a tenant.
    DistrictId,
    "district"
);
uuid_id!(
    /// A school inside a district.
    SchoolId,
    "school"
);
uuid_id!(
    /// A directory user.
    UserId,
    "user"
);
uuid_id!(
    /// A class (a section) of a school, from the roster's classes.csv.
    ClassId,
    "class"
);
uuid_id!(
    /// A promotion request: its Zendesk ticket's `external_id` and the
    /// `Idempotency-Key` of the ticket's creation.
    PromotionId,
    "promotion request"
);

macro_rules! snowflake {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            pub fn new(value: u64) -> Self {
                Self(value)
            }

            pub fn get(&self) -> u64 {
                self.0
            }

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                match s.trim().parse::<u64>() {
                    Ok(v) if v > 0 => Ok(Self(v)),
                    _ => Err(ParseError::new(concat!(
                        "A Discord ",
                        $what,
                        " id is a positive number such as 80351110224678912."
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

snowflake!(
    /// A Discord account.
    DiscordUserId,
    "user"
);
snowflake!(
    /// A Discord server ("guild").
    DiscordGuildId,
    "server"
);
snowflake!(
    /// A Discord channel (a tenant's audit channel).
    DiscordChannelId,
    "channel"
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn a_forged_autocomplete_value_is_refused() {
        assert!(UserId::parse("'; drop table users; --").is_err());
    }

    #[test]
    fn discord_ids_are_positive_numbers() {
        assert_eq!(DiscordUserId::parse(" 42 ").map(|d| d.get()), Ok(42));
        assert!(DiscordUserId::parse("0").is_err());
        assert!(DiscordGuildId::parse("abc").is_err());
        assert!(DiscordGuildId::parse("-5").is_err());
    }
}
