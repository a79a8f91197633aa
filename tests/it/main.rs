//! The integration tests: one binary, shared helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;
mod import;
mod store_conformance;
