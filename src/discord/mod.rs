//! Serenity glue only. Serenity's types stop here.

mod interaction;
mod response;
mod verify;

pub use interaction::{Envelope, Incoming, parse, understand};
pub use response::{clip, deferred_ephemeral, message, pong, render};
pub use verify::{InteractionVerifier, MAX_SKEW_SECONDS, VerifyError};
