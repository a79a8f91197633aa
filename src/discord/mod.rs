//! Serenity glue only: the slash-command definitions, interactions turned into
//! requests and replies into responses, request verification and the REST
//! client the bot uses (DMs, interaction edits and follow-ups, command
//! registration). Serenity's types stop here. The local stand-in for
//! Discord's REST API and the simulated Discord client live in
//! [`crate::standins`].

mod answer;
mod courier;
mod definitions;
pub mod gateway;
mod interaction;
mod lean;
mod notifier;
mod response;
mod rest;
mod verify;

pub use answer::{FirstResponse, Hooks, NoHooks, answer, deliver_rest, finish_deferred};
pub use courier::InteractionCourier;
pub use definitions::{DefinitionError, command_definitions, command_names};
pub use interaction::{Envelope, Incoming, parse, understand};
pub use response::{
    clip, deferral, deferred_edit, deferred_ephemeral, message, pong, render, render_answer,
};
pub use rest::{
    ALREADY_ACKNOWLEDGED, DiscordRest, DmError, MAX_RETRIES, MAX_WAIT, RestError, RetryPolicy,
};
pub use verify::{InteractionVerifier, MAX_SKEW_SECONDS, REPLAY_MEMORY, VerifyError};
