//! Serenity glue only: the slash-command definitions, the REST client the bot
//! uses (DMs, interaction edits and follow-ups, command registration) and a
//! local stand-in for Discord's REST API. Serenity's types stop here.

mod definitions;
mod rest;
pub mod standin;

pub use definitions::{COMMAND_NAMES, DefinitionError, command_definitions};
pub use rest::{DiscordRest, DmError, MAX_RETRIES, MAX_WAIT, RestError};
