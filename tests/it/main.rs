//! The integration tests: one binary, shared helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod helpers;
mod store_conformance;
mod zendesk;
mod zendesk_standin;
