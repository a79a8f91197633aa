//! The integration tests: one binary, shared helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bot;
mod cli;
mod commands;
mod discord_standin;
mod helpers;
mod import;
mod register_commands;
mod store_conformance;
mod zendesk;
mod zendesk_standin;
