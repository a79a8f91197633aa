//! Support tickets: the Zendesk API client, the webhook that brings an
//! agent's decision back, and a local Zendesk stand-in for tests and the demo.
//!
//! The promise of the module as a whole: Zendesk credentials and the webhook
//! secret stay inside `SecretString`s and never reach `Debug`, logs or error
//! messages; time is a parameter (`now` for
//! webhook freshness).

pub mod webhook;

pub use webhook::{Decision, TriggerPayload, WebhookAuthError, sign, verify_headers, verify_signature};
