//! Serenity glue only: the slash-command definitions, the REST client the bot
//! uses (DMs, interaction edits and follow-ups, command registration) and a
//! local stand-in for Discord's REST API. Serenity's types stop here.

mod definitions;

pub use definitions::{COMMAND_NAMES, DefinitionError, command_definitions};
