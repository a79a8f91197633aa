//! The integration tests: one binary, shared helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admins_and_dms;
mod bench;
mod bot;
mod cli;
mod commands;
mod console;
mod demo;
mod desk;
mod discord_standin;
mod email_reset;
mod gateway;
mod helpers;
mod import;
mod interactions;
mod promote_request;
mod promotions_cli;
mod promotions_outbox;
mod promotions_store;
mod promotions_webhook;
mod register_commands;
mod signin;
mod signin_browser;
mod store_conformance;
mod zendesk;
mod zendesk_standin;
