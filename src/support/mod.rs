//! Support tickets: the Zendesk API client, the webhook that brings an
//! agent's decision back, the outbox worker that turns promotion requests
//! into tickets. The local Zendesk stand-in and the measured outbox drain
//! live in [`crate::standins`].
//!
//! The promise of the module as a whole: Zendesk credentials and the webhook
//! secret stay inside `SecretString`s and never reach `Debug`, logs or error
//! messages; time is a parameter ([`crate::app::Clock`] for token lifetimes, `now` for
//! webhook freshness).

pub mod notifier;
pub mod outbox;
pub mod ticket;
pub mod webhook;
pub mod zendesk;

pub use notifier::{LogNotifier, News, Notifier};
pub use outbox::{OutboxError, OutboxSettings, OutboxWorker};
pub use webhook::{
    Decision, TriggerPayload, WebhookAuthError, sign, verify_headers, verify_signature,
};
pub use zendesk::{NewTicket, TicketRef, ZendeskAuth, ZendeskClient, ZendeskConfig, ZendeskError};
