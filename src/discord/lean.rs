//! The keystroke's parse: an autocomplete interaction read straight into its
//! [`Envelope`]. serenity's model reads every interaction into a
//! `serde_json::Value` first (its type decides the shape) and then builds
//! the whole member, user, permissions and locale; that was a tenth of the
//! server's CPU per keystroke (perf, autocomplete at 100,000 users). This
//! reads only what [`super::understand`] takes from it, and answers exactly
//! what `understand` answers for the same body (a test compares the two).
//!
//! It takes autocomplete interactions whose options are all strings, as
//! every hallpass command's are; anything else (another type, an option of
//! another kind, a field missing) is left to serenity's parse, which
//! decides what is malformed.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny};

use super::interaction::{Envelope, Incoming};
use crate::commands::{Invocation, Request};
use crate::directory::{DiscordGuildId, DiscordUserId};

const APPLICATION_COMMAND_AUTOCOMPLETE: u8 = 4;
const STRING_OPTION: u8 = 3;

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(deserialize_with = "snowflake")]
    id: u64,
    token: String,
    #[serde(default, deserialize_with = "some_snowflake")]
    guild_id: Option<u64>,
    #[serde(default, deserialize_with = "some_snowflake")]
    channel_id: Option<u64>,
    member: Option<RawMember>,
    user: Option<RawUser>,
    data: Option<RawData>,
}

#[derive(Deserialize)]
struct RawMember {
    user: RawUser,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(deserialize_with = "snowflake")]
    id: u64,
}

#[derive(Deserialize)]
struct RawData {
    name: String,
    #[serde(default)]
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
struct RawOption {
    name: String,
    #[serde(rename = "type")]
    kind: u8,
    value: Option<String>,
    #[serde(default)]
    focused: Option<bool>,
    /// A subcommand's options: hallpass has none, so such a body goes to serenity.
    options: Option<IgnoredAny>,
}

/// The autocomplete request in `body`, or `None` for serenity to parse.
pub fn autocomplete(body: &[u8]) -> Option<Incoming> {
    let raw: Raw = serde_json::from_slice(body).ok()?;
    if raw.kind != APPLICATION_COMMAND_AUTOCOMPLETE {
        return None;
    }
    let data = raw.data?;
    let channel = raw.channel_id?;
    // serenity takes the member's user in a server, the user in a DM.
    let user = match (raw.member, raw.user) {
        (Some(member), _) => member.user.id,
        (None, Some(user)) => user.id,
        (None, None) => return None,
    };
    let mut focused = None;
    let mut options = BTreeMap::new();
    for option in data.options {
        if option.kind != STRING_OPTION || option.options.is_some() {
            return None;
        }
        if option.focused == Some(true) && focused.is_none() {
            focused = Some(option.name.clone());
        }
        options.insert(option.name, option.value?);
    }
    let invocation = Invocation {
        guild: raw.guild_id.map(DiscordGuildId::new),
        channel: Some(channel.to_string()),
        interaction_id: Some(raw.id.to_string()),
        user: Some(DiscordUserId::new(user)),
        api_caller: None,
    };
    Some(Incoming::Request(Box::new(Envelope {
        invocation,
        request: Request::Autocomplete {
            name: data.name,
            focused: focused.unwrap_or_default(),
            options,
        },
        interaction_id: raw.id,
        token: raw.token,
    })))
}

/// A Discord id: a string of digits (as Discord sends them), or a number.
/// Zero is not an id (serenity refuses it too).
fn snowflake<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Id;
    impl serde::de::Visitor<'_> for Id {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a Discord id")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u64, E> {
            text.parse().map_err(E::custom)
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<u64, E> {
            Ok(n)
        }
    }
    match d.deserialize_any(Id)? {
        0 => Err(serde::de::Error::custom("an id of 0")),
        id => Ok(id),
    }
}

fn some_snowflake<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    snowflake(d).map(Some)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
