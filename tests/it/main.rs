//! The integration tests: one binary, shared helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bench;
mod bot;
mod bursts;
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
mod import_cli;
mod interactions;
mod last_district_admin;
mod mail_tls;
mod promote_request;
mod promotions_cli;
mod promotions_outbox;
mod promotions_store;
mod promotions_webhook;
mod register_commands;
mod revocation;
mod roster_exports;
mod roster_snapshot;
mod roster_sync;
mod secrets;
mod security;
mod store_conformance;
mod unchanged;
mod zendesk;
mod zendesk_standin;
