//! Support tickets: the Zendesk API client, the webhook that brings an
//! agent's decision back, the outbox worker that turns promotion requests
//! into tickets, and a local Zendesk stand-in for tests and the demo.
//!
//! The promise of the module as a whole: Zendesk credentials and the webhook
//! secret stay inside `SecretString`s and never reach `Debug`, logs or error
//! messages; time is a parameter ([`crate::app::Clock`] for token lifetimes, `now` for
//! webhook freshness).

pub mod drain;
pub mod notifier;
pub mod outbox;
pub mod standin;
pub mod ticket;
pub mod webhook;
pub mod zendesk;

pub use drain::{DrainReport, drain_benchmark};
pub use notifier::{LogNotifier, News, Notifier};
pub use outbox::{OutboxError, OutboxSettings, OutboxWorker};
pub use standin::{StandInOptions, ZendeskStandIn};
pub use webhook::{
    Decision, TriggerPayload, WebhookAuthError, sign, verify_headers, verify_signature,
};
pub use zendesk::{NewTicket, TicketRef, ZendeskAuth, ZendeskClient, ZendeskConfig, ZendeskError};
